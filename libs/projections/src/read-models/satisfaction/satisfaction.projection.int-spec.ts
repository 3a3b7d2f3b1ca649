import { type EventToAppend, type Position, PostgresEventStore } from '@cx/event-store';
import { lastCommittedPosition, openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import { ProjectionRunner } from '../../projection-runner.js';
import { projectionMigrations } from '../../projections.migrations.js';
import { findChange, queryChangeImpact } from './change-impact.query.js';
import { CHANGE_RECORDED, changeStreamId } from './change.events.js';
import { changesProjection } from './changes.projection.js';
import { satisfactionProjection } from './satisfaction.projection.js';
import { type GroupField, type Interval, querySatisfaction } from './satisfaction.query.js';

type Json = Record<string, unknown>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`satisfaction read model on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let runner: ProjectionRunner;
  const run = randomUUID().slice(0, 8);
  const customer = (n: number | string) => `cust-${run}-${n}`;

  const moment = (customerId: string, momentId: string, occurredAt: string, data: Json = {}): [string, EventToAppend] => [
    `customer-${customerId}`,
    { id: randomUUID(), type: 'moment.recorded.v1', data: { momentId, customerId, kind: 'billing', channel: 'phone', occurredAt, ...data } },
  ];
  const answer = (customerId: string, submittedAt: string, scores: Json): [string, EventToAppend] => [
    `customer-${customerId}`,
    { id: randomUUID(), type: 'feedback.submitted.v1', data: { customerId, submittedAt, ...scores } },
  ];

  /** Appends one event per call, in the given order, so log order is exactly the list's. */
  async function append(events: Array<[string, EventToAppend]>): Promise<Position> {
    let last = 0n;
    for (const [stream, event] of events) last = (await store.append(stream, [event])).position;
    return last;
  }

  async function folded(position: Position): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      if ((await runner.lowestPosition()) >= position) return;
      if (Date.now() > deadline) throw new Error(`projections did not reach ${position}: ${JSON.stringify(await runner.states())}`);
      await sleep(20);
    }
  }

  const metrics = (from: string, to: string, interval: Interval = 'day', groupBy: GroupField[] = []) =>
    querySatisfaction(database.dataSource, { from: new Date(from), to: new Date(to), interval, groupBy });

  beforeAll(async () => {
    database = await openTestDatabase({
      migrations: [...projectionMigrations, ...satisfactionProjection.migrations, ...changesProjection.migrations],
      entities: [...satisfactionProjection.entities, ...changesProjection.entities],
    });
    store = new PostgresEventStore({ pool: database.pool, notifications: testBackend === 'postgres' ? 'listen' : 'local' });
    // Small batches, so a feedback and the moment it rates often land in different batches.
    runner = new ProjectionRunner({
      store,
      dataSource: database.dataSource,
      pool: database.pool,
      projections: [satisfactionProjection, changesProjection],
      lease: false,
      batchSize: 3,
    });
    await runner.start();
  });
  afterAll(async () => {
    await runner.stop();
    await store.close();
    await database.close();
  });

  it('measures NPS, CSAT, CES and waits of a day from a known mix of answers and moments', async () => {
    const day = '2021-03-10';
    const at = (hour: number) => `${day}T${String(hour).padStart(2, '0')}:00:00Z`;
    const nps = [9, 10, 9, 10, 9, 7, 8, 7, 0, 6];
    const csat = [5, 4, 4, 5, 2];
    const ces = [2, 5, 3];
    const head = await append([
      ...nps.map((score, i) => answer(customer(`a${i}`), at(i), { nps: score, ...(i < csat.length ? { csat: csat[i] } : {}) })),
      ...ces.map((score, i) => answer(customer(`c${i}`), at(12 + i), { ces: score })),
      moment(customer('w1'), `w-${run}-1`, at(1), { waitSeconds: 0 }),
      moment(customer('w2'), `w-${run}-2`, at(2), { waitSeconds: 60, waitExplained: true }),
      moment(customer('w3'), `w-${run}-3`, at(3), { waitSeconds: 120, waitExplained: false }),
      moment(customer('w4'), `w-${run}-4`, at(4), { waitSeconds: 300, waitExplained: true }),
      moment(customer('w5'), `w-${run}-5`, at(5), { waitSeconds: 600 }),
      moment(customer('w6'), `w-${run}-6`, at(6)),
      // Outside the window (the day after): counted nowhere below.
      answer(customer('late'), '2021-03-11T00:00:00Z', { nps: 0 }),
    ]);
    await folded(head);

    const rows = await metrics(`${day}T00:00:00Z`, '2021-03-11T00:00:00Z');
    expect(rows).toEqual([
      {
        bucket: '2021-03-10T00:00:00.000Z',
        // 5 promoters (9,10,9,10,9), 3 passives (7,8,7), 2 detractors (0,6): 50% - 20% = 30.
        responses: 10,
        promoters: 5,
        passives: 3,
        detractors: 2,
        nps: 30,
        // CSAT 5,4,4,5,2: four of five are 4-5 -> 80%.
        csatResponses: 5,
        csatPct: 80,
        // CES 2,5,3: mean 10/3 = 3.33; low effort (<= 3): 2 of 3 = 66.7%.
        cesResponses: 3,
        cesMean: 3.33,
        cesLowEffortPct: 66.7,
        // Waits 0, 60, 120, 300, 600 (the sixth moment recorded none):
        // p50 = the 3rd of 5 = 120; p90 at rank 0.9 * 4 = 3.6: 300 + 0.6 * (600 - 300) = 480.
        moments: 6,
        waitP50: 120,
        waitP90: 480,
        // Waited (> 0) and said whether explained: 60 yes, 120 no, 300 yes (600 did not say) -> 2 of 3 = 66.7%.
        waitExplainedPct: 66.7,
      },
    ]);
  });

  it('buckets by UTC day, ISO week starting on Monday, and month', async () => {
    const head = await append([
      // Sunday 2022-01-02, late evening UTC, and Monday 2022-01-03; then 2022-02-01.
      answer(customer('b1'), '2022-01-02T23:30:00Z', { nps: 10 }),
      answer(customer('b2'), '2022-01-03T00:15:00+01:00', { nps: 0 }), // = 2022-01-02T23:15Z, still Sunday in UTC
      answer(customer('b3'), '2022-01-03T08:00:00Z', { nps: 8 }),
      answer(customer('b4'), '2022-02-01T08:00:00Z', { nps: 9 }),
    ]);
    await folded(head);

    const days = await metrics('2022-01-01', '2022-03-01', 'day');
    expect(days.map((r) => [r.bucket, r.responses, r.nps])).toEqual([
      ['2022-01-02T00:00:00.000Z', 2, 0], // one promoter, one detractor: 50 - 50
      ['2022-01-03T00:00:00.000Z', 1, 0], // one passive
      ['2022-02-01T00:00:00.000Z', 1, 100],
    ]);
    const weeks = await metrics('2022-01-01', '2022-03-01', 'week');
    expect(weeks.map((r) => [r.bucket, r.responses])).toEqual([
      ['2021-12-27T00:00:00.000Z', 2], // the week of Sunday 2 January starts on Monday 27 December
      ['2022-01-03T00:00:00.000Z', 1],
      ['2022-01-31T00:00:00.000Z', 1],
    ]);
    const months = await metrics('2022-01-01', '2022-03-01', 'month');
    // January: 10, 0, 8 -> 1 promoter, 1 passive, 1 detractor: NPS 0; February: 100.
    expect(months.map((r) => [r.bucket, r.promoters, r.passives, r.detractors, r.nps])).toEqual([
      ['2022-01-01T00:00:00.000Z', 1, 1, 1, 0],
      ['2022-02-01T00:00:00.000Z', 1, 0, 0, 100],
    ]);
  });

  it('attributes an answer to the kind, channel and area of its moment, also when the moment comes later in the log', async () => {
    const c1 = customer('attr-1');
    const c2 = customer('attr-2');
    const m1 = `call-${run}-1`;
    const m2 = `web-${run}-2`;
    const t = '2023-05-10T10:00:00Z';
    const head = await append([
      // The answer to m2 is stored before m2 itself (the survey tool was faster than the web shop).
      answer(c2, t, { nps: 3, csat: 1, momentId: m2 }),
      answer(c2, t, { nps: 10, momentId: m2 }),
      moment(c1, m1, t, { kind: 'billing', channel: 'phone', area: 'billing', waitSeconds: 200, waitExplained: false }),
      answer(c1, t, { nps: 9, momentId: m1 }),
      answer(c1, t, { nps: 7 }), // no moment: no kind, no channel
      answer(c1, t, { nps: 8, momentId: 'never-recorded' }),
      answer(c1, t, { nps: 2, momentId: m2 }), // m2 is c2's moment, not c1's: not attributed
      moment(c2, m2, t, { kind: 'order_received', channel: 'web', area: 'shop' }),
      // The same moment id again (another source): the first moment stays.
      moment(c2, m2, t, { kind: 'incident', channel: 'letter', area: 'claims' }),
    ]);
    await folded(head);

    const stored = await database.pool.query<{ nps: number; kind: string | null; channel: string | null; channel_group: string | null; area: string | null }>(
      `SELECT nps, kind, channel, channel_group, area FROM rm_feedback WHERE customer_id = ANY($1) ORDER BY position`,
      [[c1, c2]],
    );
    expect(stored.rows).toEqual([
      { nps: 3, kind: 'order_received', channel: 'web', channel_group: 'electronic', area: 'shop' },
      { nps: 10, kind: 'order_received', channel: 'web', channel_group: 'electronic', area: 'shop' },
      { nps: 9, kind: 'billing', channel: 'phone', channel_group: 'telephone', area: 'billing' },
      { nps: 7, kind: null, channel: null, channel_group: null, area: null },
      { nps: 8, kind: null, channel: null, channel_group: null, area: null },
      { nps: 2, kind: null, channel: null, channel_group: null, area: null },
    ]);

    const byKindAndChannel = await metrics('2023-05-10', '2023-05-11', 'day', ['kind', 'channel']);
    expect(byKindAndChannel.map((r) => [r.kind, r.channel, r.responses, r.nps, r.csatPct, r.moments, r.waitP50])).toEqual([
      ['billing', 'phone', 1, 100, null, 1, 200],
      ['order_received', 'web', 2, 0, 0, 1, null], // 3 and 10: one detractor, one promoter; CSAT 1: 0 of 1
      [null, null, 3, -33.3, null, 0, null], // 7, 8, 2: one detractor of three = -33.3
    ]);
    const byGroup = await metrics('2023-05-10', '2023-05-11', 'day', ['channelGroup']);
    expect(byGroup.map((r) => [r.channelGroup, r.responses, r.moments])).toEqual([
      ['electronic', 2, 1],
      ['telephone', 1, 1],
      [null, 3, 0],
    ]);
    const byArea = await metrics('2023-05-10', '2023-05-11', 'day', ['area']);
    expect(byArea.map((r) => [r.area, r.responses, r.waitExplainedPct])).toEqual([
      ['billing', 1, 0], // waited 200 s, not explained
      ['shop', 2, null],
      [null, 3, null],
    ]);
  });

  it('gives the same rows after a rebuild from the start of the log', async () => {
    const before = await database.pool.query('SELECT * FROM rm_feedback ORDER BY feedback_id');
    const moments = await database.pool.query('SELECT * FROM rm_moments ORDER BY moment_id');
    const rebuilt = new ProjectionRunner({
      store,
      dataSource: database.dataSource,
      pool: database.pool,
      projections: [{ ...satisfactionProjection, version: satisfactionProjection.version + 1 }],
      lease: false,
      batchSize: 1000,
    });
    await runner.stop();
    await rebuilt.start();
    const head = await lastCommittedPosition(database.pool);
    const deadline = Date.now() + 15_000;
    while ((await rebuilt.lowestPosition()) < head && Date.now() < deadline) await sleep(20);
    await rebuilt.stop();
    expect((await database.pool.query('SELECT * FROM rm_feedback ORDER BY feedback_id')).rows).toEqual(before.rows);
    expect((await database.pool.query('SELECT * FROM rm_moments ORDER BY moment_id')).rows).toEqual(moments.rows);

    await database.pool.query('UPDATE cx_projection_checkpoints SET version = $1 WHERE name = $2', [satisfactionProjection.version, 'satisfaction']);
    runner = new ProjectionRunner({
      store,
      dataSource: database.dataSource,
      pool: database.pool,
      projections: [satisfactionProjection, changesProjection],
      lease: false,
      batchSize: 3,
    });
    await runner.start();
  });

  describe('change impact', () => {
    it('compares NPS, CSAT% and CES per kind and channel before and after a change', async () => {
      const changeId = randomUUID();
      const effectiveAt = '2020-06-15T00:00:00.000Z';
      const before = '2020-06-10T12:00:00Z';
      const after = '2020-06-20T12:00:00Z';
      const c = customer('impact');
      const phone = `impact-phone-${run}`;
      const web = `impact-web-${run}`;
      const branch = `impact-branch-${run}`;
      const rate = (momentId: string, submittedAt: string) => (scores: Json) => answer(c, submittedAt, { ...scores, momentId });
      const phoneBefore = rate(phone, before);
      const phoneAfter = rate(phone, after);
      const head = await append([
        [changeStreamId(changeId), { id: randomUUID(), type: CHANGE_RECORDED, data: { changeId, name: 'New IVR menu', effectiveAt, kinds: ['billing'] } }],
        moment(c, phone, '2020-06-01T00:00:00Z', { kind: 'billing', channel: 'phone' }),
        moment(c, web, '2020-06-01T00:00:00Z', { kind: 'billing', channel: 'web' }),
        moment(c, branch, '2020-06-01T00:00:00Z', { kind: 'advice', channel: 'branch' }),
        // billing/phone before: NPS 10,9,9,10,9 | 7,8,7 | 3,5 -> 5/3/2 = 30; CSAT 5,4,2,1 -> 2 of 4; CES 2,4,6.
        ...[10, 9, 9, 10, 9, 7, 8, 7, 3, 5].map((nps, i) => phoneBefore({ nps, ...(i < 4 ? { csat: [5, 4, 2, 1][i] } : {}), ...(i < 3 ? { ces: [2, 4, 6][i] } : {}) })),
        // billing/phone after: 7 promoters, 2 passives, 1 detractor -> 60; CSAT 5,5,4,4 -> 4 of 4; CES 1,1,2,2.
        ...[9, 9, 9, 10, 10, 10, 9, 8, 7, 6].map((nps, i) => phoneAfter({ nps, ...(i < 4 ? { csat: [5, 5, 4, 4][i] } : {}), ...(i < 4 ? { ces: [1, 1, 2, 2][i] } : {}) })),
        // billing/web only after: one promoter.
        rate(web, after)({ nps: 10 }),
        // advice/branch is not a kind the change touches; answers with no moment have no kind: both left out.
        rate(branch, before)({ nps: 0 }),
        answer(c, after, { nps: 0 }),
        // One more detractor before, and one 31 days before the change: outside the 30-day window.
        phoneBefore({ nps: 0 }),
        rate(phone, '2020-05-15T00:00:00Z')({ nps: 0 }),
      ]);
      await folded(head);

      const change = await findChange(database.dataSource, changeId);
      expect(change).toMatchObject({ id: changeId, name: 'New IVR menu', effectiveAt, kinds: ['billing'], channels: null, description: null });
      const impact = await queryChangeImpact(database.dataSource, change!, 30, new Date('2020-08-01T00:00:00Z'));
      expect(impact.before).toEqual({ from: '2020-05-16T00:00:00.000Z', to: effectiveAt });
      expect(impact.after).toEqual({ from: effectiveAt, to: '2020-07-15T00:00:00.000Z' });
      expect(impact.afterWindowComplete).toBe(true);
      expect(impact.segments.map((s) => [s.kind, s.channel])).toEqual([
        ['billing', 'phone'],
        ['billing', 'web'],
      ]);
      const [phoneImpact, webImpact] = impact.segments;
      // Before there are 11 NPS answers: the 10 above plus the extra 0 (a detractor): 5/3/3 -> (5 - 3)/11 = 18.2.
      // Its score sum 2, squares 8: var = (8 - 4/11)/10 = 0.763636; after: sum 6, squares 8, var = (8 - 3.6)/9 = 0.488889.
      // SE = 100 * sqrt(0.763636/11 + 0.488889/10) = 100 * sqrt(0.069421 + 0.048889) = 34.396; half width 67.416.
      // Difference 60 - 18.1818 = 41.8182 -> CI [-25.6, 109.2].
      expect(phoneImpact.nps).toEqual({
        before: 18.2,
        after: 60,
        nBefore: 11,
        nAfter: 10,
        difference: 41.8,
        ci95: { low: -25.6, high: 109.2 },
        significant: false,
      });
      // CSAT 2 of 4 = 50% -> 4 of 4 = 100%: +50; SE = 100 * sqrt(0.25/4 + 0/4) = 25; half width 49.0 -> [1.0, 99.0].
      expect(phoneImpact.csatPct).toEqual({
        before: 50,
        after: 100,
        nBefore: 4,
        nAfter: 4,
        difference: 50,
        ci95: { low: 1, high: 99 },
        significant: true,
      });
      // CES [2,4,6] -> [1,1,2,2]: -2.5, Welch CI [-7.11, 2.11] (see change-impact.statistics.spec.ts).
      expect(phoneImpact.cesMean).toEqual({
        before: 4,
        after: 1.5,
        nBefore: 3,
        nAfter: 4,
        difference: -2.5,
        ci95: { low: -7.11, high: 2.11 },
        significant: false,
      });
      expect(webImpact.nps).toEqual({ before: null, after: 100, nBefore: 0, nAfter: 1, difference: null, ci95: null, significant: false });
      // Overall: before = phone's 11; after = phone's 10 + web's promoter: 8/2/1 over 11 -> (8 - 1)/11 = 63.6.
      expect(impact.overall.nps).toMatchObject({ before: 18.2, after: 63.6, nBefore: 11, nAfter: 11 });
    });

    it('knows no change it was never told about', async () => {
      expect(await findChange(database.dataSource, randomUUID())).toBeUndefined();
    });
  });
});
