import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { MasterKey, PiiVault } from '@cx/platform';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Projection } from '../../projection.js';
import { ProjectionRunner } from '../../projection-runner.js';
import { projectionMigrations } from '../../projections.migrations.js';
import { JourneyEntry } from './journey.entity.js';
import { journeyProjection } from './journey.projection.js';
import { decodeCursor, type JourneyQuery } from './journey.query.js';
import { type JourneyEvent, JourneyReader } from './journey.reader.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = randomUUID().slice(0, 8);
const ANA = `cust-ana-${run}`;
const BEA = `cust-bea-${run}`;
const ERASED = `cust-gone-${run}`;
const CMP_ANA = `CMP-ana-${run}`;
const CMP_BEA = `CMP-bea-${run}`;
const COMMENT = 'Nine minutes on hold and nobody told me why.';
const DESCRIPTION = 'Charged twice for the March invoice.';

let n = 0;
const ce = (type: string, subject: string, time: string, data: Record<string, unknown>) => ({
  specversion: '1.0',
  id: `journey-spec-${run}-${++n}`,
  source: 'urn:cx:spec',
  type,
  subject,
  time,
  data,
});
const complaint = (step: string, subject: string, complaintId: string, time: string, data: Record<string, unknown> = {}) =>
  ce(`cx.complaint.${step}`, subject, time, { complaintId, ...data });

describe(`journey read model on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let vault: PiiVault;
  let ingest: IngestService;
  let reader: JourneyReader;
  const runners: ProjectionRunner[] = [];

  const checkpoint = async (name: string) =>
    BigInt((await database.pool.query<{ position: string }>('SELECT position FROM cx_projection_checkpoints WHERE name = $1', [name])).rows[0]?.position ?? 0);
  async function foldAll(projection: Projection = journeyProjection): Promise<void> {
    // Not headPosition(): that stops below transactions still open anywhere on the server (other test files).
    const head = BigInt((await database.pool.query<{ head: string }>('SELECT COALESCE(max(position), 0) AS head FROM cx_events')).rows[0].head);
    const runner = new ProjectionRunner({ store, dataSource: database.dataSource, pool: database.pool, projections: [projection], lease: false, batchSize: 4 });
    runners.push(runner);
    await runner.start();
    const deadline = Date.now() + 15_000;
    while ((await checkpoint(projection.name)) < head) {
      if (Date.now() > deadline) throw new Error('the journey did not reach the head of the log in time');
      await sleep(20);
    }
  }
  const stopRunners = async () => {
    for (const r of runners.splice(0)) await r.stop();
  };
  const query = (q: Partial<JourneyQuery> = {}): JourneyQuery => ({ after: 0n, limit: 1000, ...q });
  const accepted = async (events: unknown[]) => {
    const outcome = await ingest.ingest(events, { correlationId: `corr-${run}` });
    expect(outcome.results).toEqual(events.map(() => expect.objectContaining({ status: "accepted" })));
    return outcome;
  };

  beforeAll(async () => {
    database = await openTestDatabase({ migrations: [...projectionMigrations, ...journeyProjection.migrations], entities: [JourneyEntry] });
    store = new PostgresEventStore({ pool: database.pool });
    vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
    ingest = new IngestService(store, vault, createMomentCatalogue());
    reader = new JourneyReader(database.pool, vault);

    // Ana's and Bea's events interleave in the log; Ana's complaint lives in its own stream.
    await accepted([
      ce('cx.customer.registered', ANA, '2025-03-03T08:15:00Z', { name: 'Ana García Pérez', email: 'ana@example.com', phone: '+34 600 111 222', tier: 'B' }),
      ce('cx.customer.registered', BEA, '2025-03-03T09:00:00Z', { name: 'Bea Ruiz' }),
    ]);
    await accepted([
      ce('cx.moment.recorded', ANA, '2025-03-14T10:22:05Z', { kind: 'billing', channel: 'phone', outcome: 'negative', waitSeconds: 540 }),
      ce('cx.moment.recorded', BEA, '2025-03-14T11:00:00Z', { kind: 'payment', channel: 'web' }),
    ]);
    await accepted([complaint('filed', ANA, CMP_ANA, '2025-03-14T10:31:40Z', { category: 'billing', channel: 'phone', severity: 'high', description: DESCRIPTION })]);
    await accepted([ce('cx.feedback.submitted', ANA, '2025-03-14T10:40:12Z', { nps: 3, csat: 2, comment: COMMENT })]);
    await accepted([complaint('filed', BEA, CMP_BEA, '2025-03-15T09:00:00Z', { category: 'delivery', channel: 'web', severity: 'low' })]);
    await accepted([
      complaint('acknowledged', ANA, CMP_ANA, '2025-03-14T11:05:00Z'),
      complaint('routed', ANA, CMP_ANA, '2025-03-14T11:06:30Z', { area: 'billing' }),
      complaint('resolved', ANA, CMP_ANA, '2025-03-15T16:20:00Z', { resolution: 'Refunded.' }),
      complaint('reopened', ANA, CMP_ANA, '2025-03-25T09:12:00Z', { reason: 'No refund yet.' }),
      complaint('resolved', ANA, CMP_ANA, '2025-03-26T12:00:00Z', { resolution: 'Refunded again, by transfer.' }),
      complaint('confirmed', ANA, CMP_ANA, '2025-03-27T10:00:00Z'),
      complaint('closed', ANA, CMP_ANA, '2025-03-27T10:05:00Z'),
    ]);
    await accepted([ce('cx.moment.recorded', ANA, '2025-04-01T08:00:00Z', { kind: 'payment', channel: 'app', outcome: 'positive' })]);
    await accepted([ce('cx.customer.registered', ERASED, '2025-03-05T12:00:00Z', { name: 'Gone Person', email: 'gone@example.com' })]);
    await vault.erase(ERASED);
    await foldAll();
    await stopRunners();
  });
  afterAll(async () => {
    await stopRunners();
    await store.close();
    await database.close();
  });

  // Ana's events, in the order they were appended:
  //   registration (2 stored events: registered + tier-changed to B), moment, complaint filed, feedback,
  //   acknowledged, routed, resolved, reopened, resolved, confirmed, closed (7), moment
  //   = 2 + 1 + 1 + 1 + 7 + 1 = 13 events.
  const anaTypes = [
    'customer.registered.v1',
    'customer.tier-changed.v1',
    'moment.recorded.v1',
    'complaint.filed.v1',
    'feedback.submitted.v1',
    'complaint.acknowledged.v1',
    'complaint.routed.v1',
    'complaint.resolved.v1',
    'complaint.reopened.v1',
    'complaint.resolved.v1',
    'complaint.confirmed.v1',
    'complaint.closed.v1',
    'moment.recorded.v1',
  ];

  it("lists every event of the customer, from the customer's stream and the complaint's, in log order, with personal data opened", async () => {
    const page = await reader.page(ANA, query());
    expect(page).toBeDefined();
    const events = page!.events;
    expect(events.map((e) => e.storedType)).toEqual(anaTypes);
    const positions = events.map((e) => BigInt(e.position));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(positions).size).toBe(13);
    expect(page!.nextCursor).toBeNull();

    // The log order is the order of appends, not of business time: the feedback (10:40) comes after the complaint (10:31).
    const [registered, tier, moment, filed, feedback] = events;
    expect(registered).toMatchObject({
      type: 'cx.customer.registered',
      time: '2025-03-03T08:15:00.000Z',
      streamId: `customer-${ANA}`,
      streamVersion: 0,
      data: { name: 'Ana García Pérez', email: 'ana@example.com', phone: '+34 600 111 222' },
      erased: [],
      correlationId: `corr-${run}`,
    });
    expect(tier).toMatchObject({ type: 'cx.customer.tier-changed', data: { from: 'C', to: 'B' }, streamVersion: 1 });
    expect(moment).toMatchObject({ type: 'cx.moment.recorded', time: '2025-03-14T10:22:05.000Z', data: { kind: 'billing', waitSeconds: 540 } });
    expect(filed).toMatchObject({ type: 'cx.complaint.filed', streamId: `complaint-${CMP_ANA}`, streamVersion: 0, data: { description: DESCRIPTION } });
    expect(feedback).toMatchObject({ type: 'cx.feedback.submitted', time: '2025-03-14T10:40:12.000Z', data: { comment: COMMENT, nps: 3 } });
    expect(events.filter((e) => e.streamId === `complaint-${CMP_ANA}`).map((e) => e.streamVersion)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Nothing sealed is left anywhere in the answer.
    expect(JSON.stringify(events)).not.toContain('pii:v1:');
  });

  it("never shows another customer's events", async () => {
    const ana = (await reader.page(ANA, query()))!.events;
    const bea = (await reader.page(BEA, query()))!.events;
    // Bea: registered, moment, complaint filed = 3 (no tier given, so no tier change).
    expect(bea.map((e) => e.storedType)).toEqual(['customer.registered.v1', 'moment.recorded.v1', 'complaint.filed.v1']);
    expect(bea.every((e) => e.data.customerId === BEA)).toBe(true);
    expect(ana.every((e) => e.data.customerId === ANA)).toBe(true);
    const anaPositions = new Set(ana.map((e) => e.position));
    expect(bea.some((e) => anaPositions.has(e.position))).toBe(false);
    expect(JSON.stringify(ana)).not.toContain('Bea Ruiz');
  });

  it('pages by position: every event exactly once, the last page without a cursor', async () => {
    const all = (await reader.page(ANA, query()))!.events.map((e) => e.position);
    const seen: string[] = [];
    const sizes: number[] = [];
    let after = 0n;
    for (let pages = 0; pages < 10; pages++) {
      const page = (await reader.page(ANA, query({ after, limit: 3 })))!;
      seen.push(...page.events.map((e) => e.position));
      sizes.push(page.events.length);
      if (page.nextCursor === null) break;
      after = decodeCursor(page.nextCursor)!;
    }
    // 13 events, 3 a page: 3 + 3 + 3 + 3 + 1.
    expect(sizes).toEqual([3, 3, 3, 3, 1]);
    expect(seen).toEqual(all);

    // A limit that divides the journey exactly ends without an empty extra page: 13 = 13.
    expect((await reader.page(ANA, query({ limit: 13 })))!.nextCursor).toBeNull();
    // After the last event: the customer exists, so an empty page rather than "unknown".
    expect(await reader.page(ANA, query({ after: BigInt(all[12]) }))).toEqual({ customerId: ANA, events: [], nextCursor: null });
  });

  it('filters on business time: from inclusive, to exclusive', async () => {
    const between = (from: string, to: string) =>
      reader.page(ANA, query({ from: new Date(from), to: new Date(to) })).then((p) => p!.events.map((e: JourneyEvent) => e.storedType));
    // 2025-03-14 (whole day): moment 10:22:05, filed 10:31:40, feedback 10:40:12, acknowledged 11:05, routed 11:06:30 = 5.
    expect(await between('2025-03-14T00:00:00Z', '2025-03-15T00:00:00Z')).toEqual([
      'moment.recorded.v1',
      'complaint.filed.v1',
      'feedback.submitted.v1',
      'complaint.acknowledged.v1',
      'complaint.routed.v1',
    ]);
    // from = exactly the moment's time keeps it; to = exactly the closing time leaves the closing out:
    // 10:22:05 .. 27 March 10:05 holds all but the registration pair (3 March), the closing and the April moment: 13 - 4 = 9.
    expect(await between('2025-03-14T10:22:05Z', '2025-03-27T10:05:00Z')).toHaveLength(9);
  });

  it('keeps its primary key as its only index: 0441 drops the time index 0440 created', async () => {
    const { rows } = await database.pool.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'rm_journey' AND schemaname = current_schema() ORDER BY indexname",
    );
    expect(rows.map((r) => r.indexname)).toEqual(['rm_journey_pkey']);
  });

  it('answers undefined for a customer without events, and nulls the personal data of an erased customer', async () => {
    expect(await reader.page(`cust-nobody-${run}`, query())).toBeUndefined();
    const [registered] = (await reader.page(ERASED, query()))!.events;
    expect(registered.data).toMatchObject({ name: null, email: null, customerId: ERASED });
    expect(registered.erased.sort()).toEqual(['email', 'name']);
  });

  it('indexes what the log says, skipping events without a customer, and a rebuild gives the same rows', async () => {
    const odd = `cust-odd-${run}`;
    const before = BigInt((await database.pool.query<{ head: string }>('SELECT COALESCE(max(position), 0) AS head FROM cx_events')).rows[0].head) + 1n;
    // Not through ingest: an event missing its business time (recordedAt is used) and one without a customer (skipped).
    const appended = await store.append(`customer-${odd}`, [
      { id: randomUUID(), type: 'moment.recorded.v1', data: { customerId: odd, kind: 'billing', channel: 'web' } },
      { id: randomUUID(), type: 'moment.recorded.v1', data: { kind: 'billing', channel: 'web' } },
    ]);
    await foldAll();
    await stopRunners();
    const [withTime] = await store.readStream(`customer-${odd}`);
    const rows = async () =>
      (await database.pool.query<{ customer_id: string; position: string; type: string; occurred_at: Date }>(
        'SELECT customer_id, position, type, occurred_at FROM rm_journey ORDER BY position',
      )).rows;
    const indexed = (await rows()).filter((r) => BigInt(r.position) >= before);
    expect(indexed).toEqual([{ customer_id: odd, position: appended.events[0].position.toString(), type: 'moment.recorded.v1', occurred_at: withTime.recordedAt }]);

    const first = await rows();
    // Ana 13 + Bea 3 + erased 1 + odd 1 = 18 rows.
    expect(first).toHaveLength(18);
    await foldAll({ ...journeyProjection, version: journeyProjection.version + 1 });
    await stopRunners();
    expect(await rows()).toEqual(first);
  });
});
