import { type EventToAppend, type Position, PostgresEventStore } from '@cx/event-store';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import { ProjectionRunner } from '../../projection-runner.js';
import { projectionMigrations } from '../../projections.migrations.js';
import { satisfactionProjection } from '../satisfaction/satisfaction.projection.js';
import { type FunnelGroup, queryComplaintFunnel, querySilentDissatisfaction } from './complaint-funnel.query.js';
import { complaintsProjection } from './complaints.projection.js';

type Json = Record<string, unknown>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const FROM = new Date('2021-04-01T00:00:00Z');
const TO = new Date('2021-05-01T00:00:00Z');
const T0 = Date.parse('2021-04-10T00:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

describe(`complaints read model on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let runner: ProjectionRunner;
  const run = randomUUID().slice(0, 8);
  const customer = (name: string) => `cust-${run}-${name}`;
  const complaint = (n: number) => `cmp-${run}-${n}`;

  /** A complaint's path: [type, seconds after T0, extra data]. */
  type Step = [string, number, Json?];
  const path = (n: number, who: string, filed: Json, steps: Step[], filedAt = at(0)): Array<[string, EventToAppend]> => {
    const complaintId = complaint(n);
    const customerId = customer(who);
    const stream = `complaint-${complaintId}`;
    const timeField = (type: string) => `${type === 'filed' ? 'filed' : type}At`;
    return [
      [stream, { id: randomUUID(), type: 'complaint.filed.v1', data: { complaintId, customerId, ...filed, filedAt } }],
      ...steps.map(([type, seconds, extra]): [string, EventToAppend] => [
        stream,
        { id: randomUUID(), type: `complaint.${type}.v1`, data: { complaintId, customerId, ...extra, [timeField(type)]: at(seconds) } },
      ]),
    ];
  };
  const answer = (who: string, submittedAt: string, scores: Json): [string, EventToAppend] => [
    `customer-${customer(who)}`,
    { id: randomUUID(), type: 'feedback.submitted.v1', data: { customerId: customer(who), submittedAt, ...scores } },
  ];
  const moment = (who: string, occurredAt: string, outcome: string): [string, EventToAppend] => [
    `customer-${customer(who)}`,
    {
      id: randomUUID(),
      type: 'moment.recorded.v1',
      data: { momentId: `m-${randomUUID()}`, customerId: customer(who), kind: 'billing', channel: 'phone', outcome, occurredAt },
    },
  ];

  async function append(events: Array<[string, EventToAppend]>): Promise<Position> {
    let last = 0n;
    for (const [stream, event] of events) last = (await store.append(stream, [event])).position;
    return last;
  }

  const billingPhone = { category: 'billing', channel: 'phone', severity: 'high' };

  beforeAll(async () => {
    database = await openTestDatabase({
      migrations: [...projectionMigrations, ...satisfactionProjection.migrations, ...complaintsProjection.migrations],
      entities: [...satisfactionProjection.entities, ...complaintsProjection.entities],
    });
    store = new PostgresEventStore({ pool: database.pool, notifications: testBackend === 'postgres' ? 'listen' : 'local' });

    // Interleaved complaint paths, so one complaint's steps fall in several batches of 2.
    const paths = [
      // C1: the whole way, then closed.
      path(1, 'k1', billingPhone, [['acknowledged', 600], ['routed', 1200, { area: 'billing' }], ['resolved', 3600, { resolution: 'refund' }], ['confirmed', 7200], ['closed', 7300]]),
      // C2: resolved, reopened, resolved again, confirmed.
      path(2, 'k2', billingPhone, [
        ['acknowledged', 300],
        ['routed', 900, { area: 'billing' }],
        ['resolved', 1800, { resolution: 'refund' }],
        ['reopened', 2000, { reason: 'no refund yet' }],
        ['resolved', 5400, { resolution: 'refund re-issued' }],
        ['confirmed', 9000],
      ]),
      // C3: routed, not resolved.
      path(3, 'k3', { category: 'billing', channel: 'letter', severity: 'low' }, [['acknowledged', 1200], ['routed', 2400, { area: 'finance' }]]),
      // C4: only acknowledged. C5: only filed.
      path(4, 'k4', { category: 'delivery', channel: 'web', severity: 'medium' }, [['acknowledged', 60]]),
      path(5, 'c5', { category: 'delivery', channel: 'web', severity: 'medium' }, []),
      // C6: reopened twice, open again.
      path(6, 'k6', { category: 'delivery', channel: 'email', severity: 'critical' }, [
        ['acknowledged', 100],
        ['routed', 200, { area: 'logistics' }],
        ['resolved', 300, { resolution: 'resent' }],
        ['reopened', 400],
        ['resolved', 500, { resolution: 'resent again' }],
        ['reopened', 600],
      ]),
      // C7: filed one second before the window: counted nowhere.
      path(7, 'k7', billingPhone, [['acknowledged', 10]], '2021-03-31T23:59:59Z'),
    ];
    const interleaved: Array<[string, EventToAppend]> = [];
    for (let i = 0; paths.some((p) => i < p.length); i++) for (const p of paths) if (i < p.length) interleaved.push(p[i]);

    const signals = [
      answer('k1', at(100), { nps: 2 }), // complained in the window: not silent
      answer('s1', at(100), { nps: 5 }), // detractor
      answer('s2', at(100), { nps: 9, csat: 2 }), // low CSAT (a promoter all the same)
      moment('s3', at(100), 'negative'), // failed moment
      answer('s4', at(100), { nps: 3 }), // detractor ...
      moment('s4', at(200), 'negative'), // ... and a failed moment
      answer('p1', at(100), { nps: 7, csat: 3 }), // passive, neutral: not dissatisfied
      moment('p2', at(100), 'positive'),
      answer('o1', TO.toISOString(), { nps: 0 }), // at `to`: outside the half-open window
      moment('k7', at(100), 'negative'), // k7's complaint was filed before the window: silent in it
      answer('c5', at(100), { csat: 1 }), // complained (C5): not silent
    ];
    const head = await append([...interleaved, ...signals]);

    runner = new ProjectionRunner({
      store,
      dataSource: database.dataSource,
      pool: database.pool,
      projections: [complaintsProjection, satisfactionProjection],
      lease: false,
      batchSize: 2,
    });
    await runner.start();
    const deadline = Date.now() + 20_000;
    while ((await runner.lowestPosition()) < head) {
      if (Date.now() > deadline) throw new Error('projections did not catch up');
      await sleep(20);
    }
  });
  afterAll(async () => {
    await runner.stop();
    await store.close();
    await database.close();
  });

  it('keeps each complaint with the first time it reached each step, its status, area and reopenings', async () => {
    const { rows } = await database.pool.query(
      `SELECT complaint_id, customer_id, category, channel, channel_group, severity, area, status, filed_at, acknowledged_at,
              routed_at, resolved_at, confirmed_at, closed_at, reopened_count, last_event_at
         FROM rm_complaints WHERE complaint_id = ANY($1) ORDER BY complaint_id`,
      [[complaint(2), complaint(5), complaint(6)]],
    );
    expect(rows).toEqual([
      {
        complaint_id: complaint(2),
        customer_id: customer('k2'),
        category: 'billing',
        channel: 'phone',
        channel_group: 'telephone',
        severity: 'high',
        area: 'billing',
        status: 'confirmed',
        filed_at: new Date(at(0)),
        acknowledged_at: new Date(at(300)),
        routed_at: new Date(at(900)),
        resolved_at: new Date(at(1800)), // the first resolution, not the one after the reopening
        confirmed_at: new Date(at(9000)),
        closed_at: null,
        reopened_count: 1,
        last_event_at: new Date(at(9000)),
      },
      expect.objectContaining({ complaint_id: complaint(5), status: 'filed', acknowledged_at: null, area: null, reopened_count: 0, last_event_at: new Date(at(0)) }),
      expect.objectContaining({
        complaint_id: complaint(6),
        status: 'routed',
        channel_group: 'electronic',
        area: 'logistics',
        resolved_at: new Date(at(300)),
        reopened_count: 2,
        last_event_at: new Date(at(600)),
      }),
    ]);
  });

  it('computes the funnel of the complaints filed in the window from their known paths', async () => {
    const result = await queryComplaintFunnel(database.dataSource, { from: FROM, to: TO, groupBy: null });
    if (result.groupBy !== null) throw new Error('expected one funnel');
    expect(result.from).toBe('2021-04-01T00:00:00.000Z');
    expect(result.stages).toEqual([
      // C1..C6 filed (C7 was filed before the window).
      { stage: 'filed', count: 6, conversionFromPrevious: null, conversionFromFiled: 1, medianSecondsFromFiling: null },
      // C1, C2, C3, C4, C6: 5/6 = 0.8333; times 600, 300, 1200, 60, 100 -> sorted 60, 100, 300, 600, 1200: median 300.
      { stage: 'acknowledged', count: 5, conversionFromPrevious: 0.8333, conversionFromFiled: 0.8333, medianSecondsFromFiling: 300 },
      // C1, C2, C3, C6: 4/5 = 0.8, 4/6 = 0.6667; 1200, 900, 2400, 200 -> 200, 900 | 1200, 2400: (900 + 1200) / 2 = 1050.
      { stage: 'routed', count: 4, conversionFromPrevious: 0.8, conversionFromFiled: 0.6667, medianSecondsFromFiling: 1050 },
      // C1, C2, C6: 3/4, 3/6; first resolutions 3600, 1800, 300: median 1800.
      { stage: 'resolved', count: 3, conversionFromPrevious: 0.75, conversionFromFiled: 0.5, medianSecondsFromFiling: 1800 },
      // C1, C2: 2/3 = 0.6667, 2/6 = 0.3333; 7200, 9000: median 8100.
      { stage: 'confirmed', count: 2, conversionFromPrevious: 0.6667, conversionFromFiled: 0.3333, medianSecondsFromFiling: 8100 },
    ]);
    // C2 once, C6 twice.
    expect(result.reopened).toEqual({ complaints: 2, events: 3 });
  });

  it('gives one funnel per category, channel or area', async () => {
    const funnels = async (groupBy: FunnelGroup) => {
      const result = await queryComplaintFunnel(database.dataSource, { from: FROM, to: TO, groupBy });
      if (result.groupBy === null) throw new Error('expected funnels');
      return result.funnels;
    };
    const byCategory = await funnels('category');
    expect(byCategory.map((f) => [f.category, f.stages.map((s) => s.count)])).toEqual([
      ['billing', [3, 3, 3, 2, 2]], // C1, C2, C3
      ['delivery', [3, 2, 1, 1, 0]], // C4, C5, C6
    ]);
    const [billing, delivery] = byCategory;
    // Billing: acknowledged after 600, 300, 1200 -> 600; resolved 3600, 1800 -> 2700; 2 of 3 resolved = 0.6667.
    expect(billing.stages.map((s) => s.medianSecondsFromFiling)).toEqual([null, 600, 1200, 2700, 8100]);
    expect(billing.stages[3].conversionFromPrevious).toBe(0.6667);
    // Delivery: nobody confirmed: 0 of 1 resolved, and no median.
    expect(delivery.stages[4]).toEqual({ stage: 'confirmed', count: 0, conversionFromPrevious: 0, conversionFromFiled: 0, medianSecondsFromFiling: null });
    expect(delivery.stages[1].medianSecondsFromFiling).toBe(80); // (60 + 100) / 2
    expect(delivery.reopened).toEqual({ complaints: 1, events: 2 });

    expect((await funnels('channel')).map((f) => [f.channel, f.stages[0].count])).toEqual([
      ['phone', 2],
      ['web', 2],
      ['email', 1],
      ['letter', 1],
    ]);
    // Unrouted complaints have no area: their group comes last.
    expect((await funnels('area')).map((f) => [f.area, f.stages[0].count, f.stages[2].count])).toEqual([
      ['billing', 2, 2],
      ['finance', 1, 1],
      ['logistics', 1, 1],
      [null, 2, 0],
    ]);
  });

  it('counts the silent dissatisfaction of the window: unhappy customers who filed no complaint in it', async () => {
    // Dissatisfied: k1 (detractor), s1, s2, s3, s4, k7, c5 = 7. Complained in the window: k1, c5. Silent: s1, s2, s3, s4, k7 = 5.
    // Reasons among the silent: detractor s1, s4; low CSAT s2; negative moment s3, s4, k7. Share 5/7 = 0.7143.
    const silent = await querySilentDissatisfaction(database.dataSource, { from: FROM, to: TO });
    expect(silent).toEqual({
      customers: 5,
      reasons: { detractor: 2, lowCsat: 1, negativeMoment: 3 },
      dissatisfiedCustomers: 7,
      complainedCustomers: 2,
      silentShare: 0.7143,
    });
    const funnel = await queryComplaintFunnel(database.dataSource, { from: FROM, to: TO, groupBy: 'category' });
    expect(funnel.silentDissatisfaction).toEqual(silent);
  });

  it('has an empty funnel for a window with no complaint', async () => {
    const result = await queryComplaintFunnel(database.dataSource, { from: new Date('2019-01-01'), to: new Date('2019-02-01'), groupBy: null });
    if (result.groupBy !== null) throw new Error('expected one funnel');
    expect(result.stages.map((s) => [s.count, s.conversionFromPrevious, s.conversionFromFiled, s.medianSecondsFromFiling])).toEqual([
      [0, null, null, null],
      [0, null, null, null],
      [0, null, null, null],
      [0, null, null, null],
      [0, null, null, null],
    ]);
    expect(result.reopened).toEqual({ complaints: 0, events: 0 });
    expect(result.silentDissatisfaction).toMatchObject({ customers: 0, silentShare: null });
    const grouped = await queryComplaintFunnel(database.dataSource, { from: new Date('2019-01-01'), to: new Date('2019-02-01'), groupBy: 'area' });
    expect(grouped).toMatchObject({ groupBy: 'area', funnels: [] });
  });
});
