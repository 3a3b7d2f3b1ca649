import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { MasterKey, PiiVault } from '@cx/platform';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { ProjectionRunner } from '../../projection-runner.js';
import { projectionMigrations } from '../../projections.migrations.js';
import { Customer360Row } from './customer-360.entities.js';
import { customer360Projection } from './customer-360.projection.js';
import { CUSTOMERS_DEFAULT_LIMIT, type CustomerListQuery, decodeCursor } from './customer-360.query.js';
import { Customer360Reader, type CustomerView } from './customer-360.reader.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = randomUUID().slice(0, 8);

let n = 0;
const ce = (type: string, subject: string, time: string, data: Record<string, unknown>) => ({
  specversion: '1.0',
  id: `c360-spec-${run}-${++n}`,
  source: 'urn:cx:spec',
  type,
  subject,
  time,
  data,
});
const register = (subject: string, time: string, data: Record<string, unknown> = {}) =>
  ce('cx.customer.registered', subject, time, { name: `Name of ${subject}`, ...data });
const moment = (subject: string, time: string, channel: string, data: Record<string, unknown> = {}) =>
  ce('cx.moment.recorded', subject, time, { kind: 'information', channel, ...data });
const answer = (subject: string, time: string, scores: Record<string, number>) => ce('cx.feedback.submitted', subject, time, scores);
const complaint = (step: string, subject: string, complaintId: string, time: string, data: Record<string, unknown> = {}) =>
  ce(`cx.complaint.${step}`, subject, time, { complaintId, ...data });

describe(`customer 360 read model on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let vault: PiiVault;
  let ingest: IngestService;
  let reader: Customer360Reader;
  let runner: ProjectionRunner;

  const checkpoint = async () =>
    BigInt((await database.pool.query<{ position: string }>("SELECT position FROM cx_projection_checkpoints WHERE name = 'customer360'")).rows[0]?.position ?? 0);
  /**
   * Waits until the fold reached `target`, the position ingest returned. Not the head a reader sees
   * now: a transaction of another database on the same server can hold that back.
   */
  async function caughtUp(target: bigint): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await checkpoint()) < target) {
      if (Date.now() > deadline) throw new Error(`customer360 did not reach position ${target} in time`);
      await sleep(20);
    }
  }
  const startRunner = async (batchSize: number) => {
    runner = new ProjectionRunner({ store, dataSource: database.dataSource, pool: database.pool, projections: [customer360Projection], lease: false, batchSize });
    await runner.start();
  };
  /** Ingests through the real write path (validation, sealing, deciders) and waits for the fold. */
  async function send(...events: unknown[]): Promise<void> {
    const outcome = await ingest.ingest(events, { correlationId: `corr-${run}` });
    expect(outcome.results).toEqual(events.map(() => expect.objectContaining({ status: 'accepted' })));
    await caughtUp(BigInt(outcome.position));
  }
  const row = async (customerId: string) => {
    const found = await database.dataSource.getRepository(Customer360Row).findOneBy({ customerId });
    if (!found) throw new Error(`no row for ${customerId}`);
    return found;
  };
  const view = async (customerId: string, asOf = '2025-06-01T00:00:00Z'): Promise<CustomerView> => {
    const found = await reader.one(customerId, new Date(asOf));
    if (!found) throw new Error(`no view of ${customerId}`);
    return found;
  };
  const list = (query: Partial<CustomerListQuery>) => reader.page({ limit: CUSTOMERS_DEFAULT_LIMIT, asOf: new Date('2025-06-01T00:00:00Z'), ...query });

  beforeAll(async () => {
    database = await openTestDatabase({
      migrations: [...projectionMigrations, ...customer360Projection.migrations],
      entities: [...customer360Projection.entities],
    });
    store = new PostgresEventStore({ pool: database.pool, notifications: testBackend === 'postgres' ? 'listen' : 'local' });
    vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
    ingest = new IngestService(store, vault, createMomentCatalogue());
    reader = new Customer360Reader(database.dataSource, vault);
    // Small batches, so a customer's events are folded across several of them.
    await startRunner(3);
  });
  afterAll(async () => {
    await runner?.stop();
    await store.close();
    await database.close();
  });

  it('derives the preferred channel from history, counts moments by channel group, sums payments and keeps the declared preference apart', async () => {
    const ana = `ana-${run}`;
    await send(
      register(ana, '2025-03-01T08:00:00Z', { name: 'Ana García Pérez', email: 'ana@example.com', phone: '+34 600 111 222', preferredChannel: 'email', locale: 'es-ES' }),
      moment(ana, '2025-03-01T10:00:00Z', 'phone'),
      moment(ana, '2025-03-02T10:00:00Z', 'phone', { kind: 'payment', amount: 100.25, currency: 'EUR' }),
      moment(ana, '2025-03-03T10:00:00Z', 'phone', { kind: 'billing', amount: 999, currency: 'EUR' }),
      moment(ana, '2025-03-04T10:00:00Z', 'web', { kind: 'payment', amount: 20.25, currency: 'EUR' }),
    );

    const stored = await row(ana);
    // 3 phone + 1 web moments: phone; the registration said email, kept as the declared preference.
    expect(stored).toMatchObject({
      preferredChannel: 'phone',
      declaredChannel: 'email',
      moments: 4,
      momentsTelephone: 3,
      momentsElectronic: 1,
      momentsPersonal: 0,
      momentsPrint: 0,
      // Only moments of kind payment count: 100.25 + 20.25 = 120.50 (the 999 billing is not a payment).
      payments: 2,
      valueAmount: '120.5000',
      valueCurrency: 'EUR',
      valueByCurrency: { EUR: '120.5000' },
      tier: 'C',
      locale: 'es-ES',
    });
    expect(stored.lastContactAt?.toISOString()).toBe('2025-03-04T10:00:00.000Z');
    // Personal data stays sealed in the read model, as in the log.
    expect(stored.name).toMatch(/^pii:v1:/);
    expect(stored.email).toMatch(/^pii:v1:/);

    const shown = await view(ana);
    expect(shown.profile).toEqual({
      name: 'Ana García Pérez',
      email: 'ana@example.com',
      phone: '+34 600 111 222',
      locale: 'es-ES',
      declaredPreferredChannel: 'email',
      registeredAt: '2025-03-01T08:00:00.000Z',
      updatedAt: null,
      erased: [],
    });
    expect(shown.moments).toEqual({ total: 4, byChannelGroup: { personal: 0, telephone: 3, print: 0, electronic: 1 } });
    expect(shown.value).toEqual({ amount: 120.5, currency: 'EUR', payments: 2, byCurrency: { EUR: 120.5 } });
    expect(shown.channels.map((c) => [c.channel, c.moments, c.complaints])).toEqual([
      ['phone', 3, 0],
      ['web', 1, 0],
    ]);
  });

  it('breaks a tie between channels by the most recent contact, counting complaints as contacts', async () => {
    const tia = `tia-${run}`;
    await send(moment(tia, '2025-03-01T10:00:00Z', 'web'), moment(tia, '2025-03-02T10:00:00Z', 'phone'));
    // web 1, phone 1: phone was the last used.
    expect((await row(tia)).preferredChannel).toBe('phone');

    await send(moment(tia, '2025-03-03T10:00:00Z', 'web'));
    // web 2, phone 1.
    expect((await row(tia)).preferredChannel).toBe('web');

    await send(complaint('filed', tia, `CMP-tia-${run}`, '2025-03-04T10:00:00Z', { category: 'billing', channel: 'phone', severity: 'low' }));
    // web 2, phone 1 moment + 1 complaint = 2; phone's last contact (03-04) is the later one.
    expect((await row(tia)).preferredChannel).toBe('phone');
    expect((await view(tia)).moments.total).toBe(2 + 1);
  });

  it('keeps sums per currency and no single total when a customer paid in more than one', async () => {
    const mix = `mix-${run}`;
    await send(
      moment(mix, '2025-03-01T10:00:00Z', 'web', { kind: 'payment', amount: 10, currency: 'EUR' }),
      moment(mix, '2025-03-02T10:00:00Z', 'web', { kind: 'payment', amount: 5.5, currency: 'USD' }),
      moment(mix, '2025-03-03T10:00:00Z', 'app', { kind: 'payment', amount: 0.1, currency: 'EUR' }),
      moment(mix, '2025-03-04T10:00:00Z', 'app', { kind: 'payment', amount: 0.2, currency: 'EUR' }),
    );
    // EUR 10 + 0.1 + 0.2 = 10.3 exactly (no binary rounding: 10.300000000000001 in floating point); USD 5.5.
    expect((await view(mix)).value).toEqual({ amount: null, currency: null, payments: 4, byCurrency: { EUR: 10.3, USD: 5.5 } });
    expect((await row(mix)).valueByCurrency).toEqual({ EUR: '10.3000', USD: '5.5000' });
  });

  it('shows the latest NPS, CSAT and CES with their times and a trend of the last 3 answers against the 3 before', async () => {
    const tom = `tom-${run}`;
    await send(
      answer(tom, '2025-03-01T10:00:00Z', { nps: 9, csat: 3, ces: 6 }),
      answer(tom, '2025-03-02T10:00:00Z', { nps: 9, csat: 4, ces: 6 }),
      answer(tom, '2025-03-03T10:00:00Z', { nps: 8, csat: 4, ces: 6 }),
      answer(tom, '2025-03-04T10:00:00Z', { nps: 4, csat: 4, ces: 2 }),
      answer(tom, '2025-03-05T10:00:00Z', { nps: 3, ces: 2 }),
      answer(tom, '2025-03-06T10:00:00Z', { nps: 2, ces: 3 }),
      // Sent late, answered earliest: it is the oldest answer, not the latest.
      answer(tom, '2025-02-01T10:00:00Z', { nps: 10 }),
    );
    const { satisfaction } = await view(tom);
    // NPS: last 3 (4, 3, 2) mean 3; the 3 before (9, 9, 8) mean 26/3 = 8.667; 3 - 8.667 = -5.67.
    expect(satisfaction.nps).toEqual({
      latest: 2,
      latestAt: '2025-03-06T10:00:00.000Z',
      answers: 7,
      trend: { recentMean: 3, previousMean: 8.67, change: -5.67, direction: 'worsening' },
    });
    // CSAT answers 3, 4, 4, 4: last 3 mean 4, the one before 3; +1: improving.
    expect(satisfaction.csat).toEqual({
      latest: 4,
      latestAt: '2025-03-04T10:00:00.000Z',
      answers: 4,
      trend: { recentMean: 4, previousMean: 3, change: 1, direction: 'improving' },
    });
    // CES (lower is better): last 3 (2, 2, 3) mean 7/3 = 2.333, before (6, 6, 6) mean 6; -3.67: improving.
    expect(satisfaction.ces).toEqual({
      latest: 3,
      latestAt: '2025-03-06T10:00:00.000Z',
      answers: 6,
      trend: { recentMean: 2.33, previousMean: 6, change: -3.67, direction: 'improving' },
    });
    expect(await row(tom)).toMatchObject({ npsLatest: 2, npsTrend: '-5.6667', csatTrend: '1.0000', cesTrend: '-3.6667' });
    // The last contact is the latest answer, whatever order answers arrived in.
    expect((await view(tom)).lastContactAt).toBe('2025-03-06T10:00:00.000Z');
  });

  it('has no trend with fewer than 4 answers, and calls a change under 5% of the scale flat', async () => {
    const ida = `ida-${run}`;
    await send(answer(ida, '2025-03-01T10:00:00Z', { nps: 7, csat: 5 }), answer(ida, '2025-03-02T10:00:00Z', { nps: 8, csat: 5 }));
    expect((await view(ida)).satisfaction.nps.trend).toBeNull();
    await send(answer(ida, '2025-03-03T10:00:00Z', { nps: 8 }), answer(ida, '2025-03-04T10:00:00Z', { nps: 7 }));
    // NPS 7, 8, 8, 7: last 3 mean 23/3 = 7.667, before 7; +0.67 >= 0.5 (5% of 0-10): improving.
    expect((await view(ida)).satisfaction.nps.trend).toEqual({ recentMean: 7.67, previousMean: 7, change: 0.67, direction: 'improving' });
    await send(answer(ida, '2025-03-05T10:00:00Z', { nps: 8 }));
    // 7, 8, 8, 7, 8: last 3 (8, 7, 8) mean 7.667, before (7, 8) mean 7.5; +0.17 < 0.5: flat.
    expect((await view(ida)).satisfaction.nps.trend).toEqual({ recentMean: 7.67, previousMean: 7.5, change: 0.17, direction: 'flat' });
  });

  it('puts an A customer whose last NPS is a detractor at risk, not a C customer with the same answer, and follows tier changes', async () => {
    const vip = `vip-${run}`;
    const low = `low-${run}`;
    await send(
      register(vip, '2025-03-01T08:00:00Z', { tier: 'A' }),
      register(low, '2025-03-01T08:00:00Z'),
      answer(vip, '2025-03-10T10:00:00Z', { nps: 4 }),
      answer(low, '2025-03-10T10:00:00Z', { nps: 4 }),
    );
    expect(await row(vip)).toMatchObject({ tier: 'A', atRisk: true, riskReasons: ['detractor'] });
    expect((await view(vip)).riskReasons).toEqual(['detractor']);
    expect(await row(low)).toMatchObject({ tier: 'C', atRisk: false, riskReasons: [] });
    expect(await view(low)).toMatchObject({ atRisk: false, riskReasons: [] });

    // The C customer moves up to B (a tier-changed event): the same answer now counts.
    await send(ce('cx.customer.updated', low, '2025-03-11T08:00:00Z', { tier: 'B' }));
    expect(await row(low)).toMatchObject({ tier: 'B', atRisk: true, riskReasons: ['detractor'] });
    expect((await row(low)).tierChangedAt?.toISOString()).toBe('2025-03-11T08:00:00.000Z');
    // And back down to C: not watched any more.
    await send(ce('cx.customer.updated', low, '2025-03-12T08:00:00Z', { tier: 'C' }));
    expect(await row(low)).toMatchObject({ tier: 'C', atRisk: false, riskReasons: [] });

    // A later promoter answer ends the episode: the latest answer is what counts.
    await send(answer(vip, '2025-03-15T10:00:00Z', { nps: 9 }));
    expect(await row(vip)).toMatchObject({ atRisk: false, riskReasons: [] });
  });

  it('lets a detractor answer count for 30 days of the customer\'s own activity', async () => {
    const eva = `eva-${run}`;
    await send(register(eva, '2025-03-01T08:00:00Z', { tier: 'B' }), answer(eva, '2025-03-01T10:00:00Z', { nps: 6 }));
    expect((await row(eva)).riskReasons).toEqual(['detractor']);
    // Exactly 30 days after the answer: still within the episode.
    await send(moment(eva, '2025-03-31T10:00:00Z', 'web'));
    expect((await row(eva)).riskReasons).toEqual(['detractor']);
    // A contact 30 days and 1 second after it: the episode is over.
    await send(moment(eva, '2025-03-31T10:00:01Z', 'web'));
    expect(await row(eva)).toMatchObject({ atRisk: false, riskReasons: [] });
  });

  it('puts a B customer at risk after a negative phone moment until a later call goes well; a negative web moment is no phone signal', async () => {
    const bob = `bob-${run}`;
    await send(register(bob, '2025-03-01T08:00:00Z', { tier: 'B' }), moment(bob, '2025-03-02T10:00:00Z', 'web', { outcome: 'negative' }));
    expect(await row(bob)).toMatchObject({ atRisk: false, riskReasons: [] });

    await send(moment(bob, '2025-03-03T10:00:00Z', 'phone', { outcome: 'negative', kind: 'billing' }));
    expect(await row(bob)).toMatchObject({ atRisk: true, riskReasons: ['negative phone moment'] });

    // A phone moment without an outcome says nothing about how it went.
    await send(moment(bob, '2025-03-04T10:00:00Z', 'phone'));
    expect((await row(bob)).riskReasons).toEqual(['negative phone moment']);

    await send(moment(bob, '2025-03-05T10:00:00Z', 'phone', { outcome: 'positive' }));
    expect(await row(bob)).toMatchObject({ atRisk: false, riskReasons: [] });
  });

  it('flags an open complaint past its severity SLA at query time, on A and B customers only, until it is resolved or closed', async () => {
    const bea = `bea-${run}`;
    const cid = `cid-${run}`;
    const cmp = `CMP-bea-${run}`;
    const cmpLow = `CMP-cid-${run}`;
    await send(
      register(bea, '2025-03-01T08:00:00Z', { tier: 'B' }),
      register(cid, '2025-03-01T08:00:00Z'),
      complaint('filed', bea, cmp, '2025-03-10T00:00:00Z', { category: 'billing', channel: 'phone', severity: 'high' }),
      complaint('filed', cid, cmpLow, '2025-03-10T00:00:00Z', { category: 'billing', channel: 'letter', severity: 'high' }),
    );
    // high: 72 h, so due 2025-03-13T00:00Z.
    expect((await row(bea)).nextSlaDueAt?.toISOString()).toBe('2025-03-13T00:00:00.000Z');
    const reason = `complaint ${cmp} unresolved past its high SLA`;

    // asOf 4 days after filing: 96 h > 72 h.
    const late = await view(bea, '2025-03-14T00:00:00Z');
    expect(late).toMatchObject({ atRisk: true, riskReasons: [reason] });
    expect(late.openComplaints).toEqual({
      count: 1,
      items: [
        {
          complaintId: cmp,
          stage: 'filed',
          severity: 'high',
          category: 'billing',
          channel: 'phone',
          area: null,
          filedAt: '2025-03-10T00:00:00.000Z',
          dueAt: '2025-03-13T00:00:00.000Z',
          pastSla: true,
          reopened: 0,
        },
      ],
    });
    // 2 days after filing (48 h), and at the due instant itself: not past it yet.
    expect(await view(bea, '2025-03-12T00:00:00Z')).toMatchObject({ atRisk: false, riskReasons: [] });
    expect(await view(bea, '2025-03-13T00:00:00Z')).toMatchObject({ atRisk: false, riskReasons: [] });
    // The same complaint on a C customer puts nobody at risk.
    expect(await view(cid, '2025-03-14T00:00:00Z')).toMatchObject({ atRisk: false, riskReasons: [] });
    // The list filter evaluates the SLA in SQL at the same instant.
    const atRiskLate = await list({ atRisk: true, asOf: new Date('2025-03-14T00:00:00Z') });
    expect(atRiskLate.customers.map((c) => c.customerId)).toContain(bea);
    expect(atRiskLate.customers.map((c) => c.customerId)).not.toContain(cid);
    const atRiskEarly = await list({ atRisk: true, asOf: new Date('2025-03-12T00:00:00Z') });
    expect(atRiskEarly.customers.map((c) => c.customerId)).not.toContain(bea);
    const notAtRiskEarly = await list({ atRisk: false, asOf: new Date('2025-03-12T00:00:00Z') });
    expect(notAtRiskEarly.customers.map((c) => c.customerId)).toContain(bea);

    // Acknowledged and routed: still unresolved.
    await send(complaint('acknowledged', bea, cmp, '2025-03-14T01:00:00Z'), complaint('routed', bea, cmp, '2025-03-14T02:00:00Z', { area: 'billing' }));
    expect(await view(bea, '2025-03-15T00:00:00Z')).toMatchObject({ riskReasons: [reason], openComplaints: { items: [{ stage: 'routed', area: 'billing' }] } });

    // Resolved: the harm was repaired, the reason goes; the complaint stays open until closed.
    await send(complaint('resolved', bea, cmp, '2025-03-15T01:00:00Z', { resolution: 'refunded' }));
    const resolved = await view(bea, '2025-03-16T00:00:00Z');
    expect(resolved).toMatchObject({ atRisk: false, riskReasons: [], openComplaints: { count: 1, items: [{ stage: 'resolved', pastSla: false }] } });
    expect((await row(bea)).nextSlaDueAt).toBeNull();

    // Reopened: back to routed, its SLA still counted from filing.
    await send(complaint('reopened', bea, cmp, '2025-03-20T00:00:00Z', { reason: 'no refund' }));
    expect(await view(bea, '2025-03-21T00:00:00Z')).toMatchObject({ riskReasons: [reason], openComplaints: { items: [{ stage: 'routed', reopened: 1 }] } });

    await send(
      complaint('resolved', bea, cmp, '2025-03-22T00:00:00Z', { resolution: 'refunded again' }),
      complaint('confirmed', bea, cmp, '2025-03-23T00:00:00Z'),
      complaint('closed', bea, cmp, '2025-03-24T00:00:00Z'),
    );
    expect(await view(bea, '2025-06-01T00:00:00Z')).toMatchObject({ atRisk: false, riskReasons: [], complaintsFiled: 1, openComplaints: { count: 0, items: [] } });
    const left = await database.pool.query('SELECT 1 FROM rm_customer_complaints WHERE complaint_id = $1', [cmp]);
    expect(left.rowCount).toBe(0);
  });

  it('gives each severity its SLA: critical 24 h, medium 7 days, low 14 days', async () => {
    const sev = `sev-${run}`;
    await send(
      register(sev, '2025-03-01T08:00:00Z', { tier: 'A' }),
      complaint('filed', sev, `CMP-crit-${run}`, '2025-04-01T00:00:00Z', { category: 'x', channel: 'web', severity: 'critical' }),
      complaint('filed', sev, `CMP-med-${run}`, '2025-04-01T00:00:00Z', { category: 'x', channel: 'web', severity: 'medium' }),
      complaint('filed', sev, `CMP-low-${run}`, '2025-04-01T00:00:00Z', { category: 'x', channel: 'web', severity: 'low' }),
    );
    const dues = (await view(sev)).openComplaints.items.map((c) => [c.severity, c.dueAt]).sort();
    expect(dues).toEqual([
      ['critical', '2025-04-02T00:00:00.000Z'],
      ['low', '2025-04-15T00:00:00.000Z'],
      ['medium', '2025-04-08T00:00:00.000Z'],
    ]);
    // 2025-04-09: critical (due 04-02) and medium (due 04-08) are past; low (due 04-15) is not.
    expect((await view(sev, '2025-04-09T00:00:00Z')).riskReasons).toEqual([
      `complaint CMP-crit-${run} unresolved past its critical SLA`,
      `complaint CMP-med-${run} unresolved past its medium SLA`,
    ]);
    expect((await row(sev)).openComplaints).toBe(3);
  });

  it('shows erased personal data as null with the erased fields named', async () => {
    const gone = `gone-${run}`;
    await send(register(gone, '2025-03-01T08:00:00Z', { name: 'Gone Person', email: 'gone@example.com', locale: 'es-ES' }));
    expect((await view(gone)).profile).toMatchObject({ name: 'Gone Person', email: 'gone@example.com', phone: null, erased: [] });
    await vault.erase(gone);
    expect((await view(gone)).profile).toMatchObject({ name: null, email: null, phone: null, locale: 'es-ES', erased: ['name', 'email'] });
  });

  it('knows a customer from any event, and no customer no event names', async () => {
    const anon = `anon-${run}`;
    await send(answer(anon, '2025-03-01T10:00:00Z', { csat: 5 }));
    expect((await view(anon)).profile).toEqual({
      name: null,
      email: null,
      phone: null,
      locale: null,
      declaredPreferredChannel: null,
      registeredAt: null,
      updatedAt: null,
      erased: [],
    });
    expect(await reader.one(`nobody-${run}`, new Date())).toBeNull();
  });

  it('pages through customers in id order with an opaque cursor, filtered by tier', async () => {
    const prefix = `page-${run}`;
    await send(
      register(`${prefix}-3`, '2025-03-01T08:00:00Z', { tier: 'B' }),
      register(`${prefix}-1`, '2025-03-01T08:00:00Z', { tier: 'B' }),
      register(`${prefix}-2`, '2025-03-01T08:00:00Z', { tier: 'B' }),
    );
    const all = await list({ limit: 500 });
    const ids = all.customers.map((c) => c.customerId);
    expect(ids).toEqual([...ids].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1)));
    expect(all.nextCursor).toBeNull();

    // Three pages of 2 over the B customers starting at page-…-1.
    const start = ids.filter((id) => id < `${prefix}-1`).at(-1);
    const first = await list({ tier: 'B', limit: 2, after: start });
    expect(first.customers.map((c) => c.customerId).slice(0, 2)).toEqual([`${prefix}-1`, `${prefix}-2`]);
    expect(decodeCursor(first.nextCursor!)).toBe(`${prefix}-2`);
    const second = await list({ tier: 'B', limit: 2, after: decodeCursor(first.nextCursor!) });
    expect(second.customers[0].customerId).toBe(`${prefix}-3`);
    for (const customer of second.customers) expect(customer.tier).toBe('B');

    const everyB = await list({ tier: 'B', limit: 500 });
    expect(everyB.customers.every((c) => c.tier === 'B')).toBe(true);
    expect(everyB.customers.length).toBeGreaterThanOrEqual(3);
  });

  it('rebuilds to the same rows from position 0 whatever the batch boundaries', async () => {
    const snapshot = async () => {
      const tables = ['rm_customers', 'rm_customer_channels', 'rm_customer_complaints'];
      const keys = ['customer_id', 'customer_id, channel', 'complaint_id'];
      return Promise.all(tables.map(async (t, i) => (await database.pool.query(`SELECT * FROM ${t} ORDER BY ${keys[i]}`)).rows));
    };
    const before = await snapshot();
    expect(before[0].length).toBeGreaterThan(10);
    const folded = await checkpoint();
    await runner.stop();
    await database.pool.query('TRUNCATE rm_customers, rm_customer_channels, rm_customer_complaints');
    await database.pool.query("UPDATE cx_projection_checkpoints SET position = 0 WHERE name = 'customer360'");
    await startRunner(1000);
    await caughtUp(folded);
    expect(await snapshot()).toEqual(before);
  });
});
