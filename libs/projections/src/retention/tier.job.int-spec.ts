import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { MasterKey, PiiVault } from '@cx/platform';
import { lastCommittedPosition, openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { ProjectionRunner } from '../projection-runner.js';
import { projectionMigrations } from '../projections.migrations.js';
import { CUSTOMER_VALUE, customerValueProjection } from './customer-value.projection.js';
import { ReadModelBehindError } from './read-model.gate.js';
import { loadRetentionConfig } from './retention.config.js';
import { TierJob } from './tier.job.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = randomUUID().slice(0, 8);

let n = 0;
const ce = (type: string, subject: string, time: string, data: Record<string, unknown>) => ({
  specversion: '1.0',
  id: `tier-spec-${run}-${++n}`,
  source: 'urn:cx:spec',
  type,
  subject,
  time,
  data,
});
const register = (subject: string, time: string, data: Record<string, unknown> = {}) => ce('cx.customer.registered', subject, time, { name: `Name of ${subject}`, ...data });
const pay = (subject: string, time: string, amount: number, currency = 'EUR') => ce('cx.moment.recorded', subject, time, { kind: 'payment', channel: 'web', amount, currency });

describe(`tier job on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let ingest: IngestService;
  let runner: ProjectionRunner;
  const id = (name: string) => `${name}-${run}`;

  const checkpoint = async () =>
    BigInt((await database.pool.query<{ position: string }>('SELECT position FROM cx_projection_checkpoints WHERE name = $1', [CUSTOMER_VALUE])).rows[0]?.position ?? 0);
  async function caughtUp(target: bigint): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await checkpoint()) < target) {
      if (Date.now() > deadline) throw new Error(`customerValue did not reach ${target}`);
      await sleep(20);
    }
  }
  async function send(...events: unknown[]): Promise<void> {
    const outcome = await ingest.ingest(events, { correlationId: `corr-${run}` });
    expect(outcome.results).toEqual(events.map(() => expect.objectContaining({ status: 'accepted' })));
    await caughtUp(BigInt(outcome.position));
  }
  const tierEvents = async (customer: string) =>
    (await store.readStream(`customer-${id(customer)}`)).filter((e) => e.type === 'customer.tier-changed.v1').map((e) => e.data);
  const moves = (changes: ReadonlyArray<{ customerId: string; from: string; to: string }>) =>
    changes.map((c) => `${c.customerId.replace(`-${run}`, '')} ${c.from}->${c.to}`);

  beforeAll(async () => {
    database = await openTestDatabase({ migrations: [...projectionMigrations, ...customerValueProjection.migrations], entities: [...customerValueProjection.entities] });
    store = new PostgresEventStore({ pool: database.pool, notifications: testBackend === 'postgres' ? 'listen' : 'local' });
    const vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
    ingest = new IngestService(store, vault, createMomentCatalogue());
    runner = new ProjectionRunner({ store, dataSource: database.dataSource, pool: database.pool, projections: [customerValueProjection], lease: false, batchSize: 4 });
    await runner.start();
  });
  afterAll(async () => {
    await runner?.stop();
    await store.close();
    await database.close();
  });

  it('moves customers in the pyramid by the value of the last 365 days, once, and follows later payments', async () => {
    await send(
      register(id('ana'), '2024-01-01T00:00:00Z'),
      register(id('old'), '2024-01-01T00:00:00Z', { tier: 'A' }),
      pay(id('ana'), '2025-04-01T00:00:00Z', 100),
      pay(id('ana'), '2025-05-01T00:00:00Z', 500),
      ce('cx.moment.recorded', id('ana'), '2025-05-02T00:00:00Z', { kind: 'billing', channel: 'web', amount: 999, currency: 'EUR' }),
      pay(id('ben'), '2025-03-01T00:00:00Z', 250),
      pay(id('cai'), '2025-02-01T00:00:00Z', 100),
      pay(id('dan'), '2025-05-20T00:00:00Z', 40),
      pay(id('eva'), '2025-05-21T00:00:00Z', 10),
      // The window is (2024-06-01, 2025-06-01]: the first payment is one instant too old, the second is on time.
      pay(id('edge'), '2024-06-01T00:00:00Z', 30),
      pay(id('edge'), '2025-06-01T00:00:00Z', 30),
      pay(id('old'), '2024-05-01T00:00:00Z', 5000),
      pay(id('usd'), '2025-05-01T00:00:00Z', 1000, 'USD'),
      pay(id('fut'), '2025-07-01T00:00:00Z', 1000),
    );
    const job = new TierJob(store, database.pool, loadRetentionConfig({}));
    const first = await job.run(new Date('2025-06-01T00:00:00Z'), { correlationId: `tiers-${run}` });

    // EUR in the window: ana 600 (the billing is no payment), ben 250, cai 100, dan 40, edge 30, eva 10; old, usd and fut
    // nothing in EUR in the window. Total 1030; 80% = 824, 95% = 978.5.
    // ana: 0 above, A. ben: 600 above < 824, A. cai: 850 >= 824, < 978.5: B. dan: 950 < 978.5: B. edge: 990: C. eva: C.
    // old was A (set on registration) with no value in the window: C. Everyone else stays C: no event.
    expect(moves(first.changes)).toEqual(['ana C->A', 'ben C->A', 'cai C->B', 'dan C->B', 'old A->C']);
    expect(first).toMatchObject({
      asOf: '2025-06-01T00:00:00.000Z',
      window: { from: '2024-06-01T00:00:00.000Z', to: '2025-06-01T00:00:00.000Z', days: 365 },
      currency: 'EUR',
      rule: { mode: 'pareto', aShare: 0.8, bShare: 0.95 },
      // ana, ben, cai, dan, edge, eva with value, old in A without.
      customers: 7,
      tiers: { A: 2, B: 2, C: 3 },
    });
    expect(first.changes[0]).toEqual({
      customerId: id('ana'),
      from: 'C',
      to: 'A',
      reason: 'value 600.00 EUR in the last 365 days: top 80%',
      value: '600.00',
      position: expect.stringMatching(/^\d+$/),
    });
    expect(first.position).toBe(first.changes.map((c) => BigInt(c.position)).reduce((a, b) => (a > b ? a : b)).toString());
    expect(await tierEvents('ana')).toEqual([{ customerId: id('ana'), from: 'C', to: 'A', reason: 'value 600.00 EUR in the last 365 days: top 80%', changedAt: '2025-06-01T00:00:00.000Z' }]);
    expect(await tierEvents('old')).toEqual([
      expect.objectContaining({ from: 'C', to: 'A', reason: 'set on registration' }),
      { customerId: id('old'), from: 'A', to: 'C', reason: 'value 0.00 EUR in the last 365 days: no value', changedAt: '2025-06-01T00:00:00.000Z' },
    ]);
    const [stored] = await store.readStream(`customer-${id('cai')}`);
    expect(stored.metadata.correlationId).toBe(`tiers-${run}`);

    // Run again at the same instant: the tiers already follow value, nothing is appended.
    const again = await job.run(new Date('2025-06-01T00:00:00Z'));
    expect(again.changes).toEqual([]);
    expect(await tierEvents('ana')).toHaveLength(1);

    // The read model of moves, for analysts.
    await caughtUp(await lastCommittedPosition(database.pool));
    const { rows } = await database.pool.query(
      `SELECT customer_id, from_tier, to_tier FROM rm_tier_changes WHERE customer_id LIKE $1 ORDER BY position`,
      [`%-${run}`],
    );
    expect(rows.map((r) => `${r.customer_id.replace(`-${run}`, '')} ${r.from_tier}->${r.to_tier}`)).toEqual(['old C->A', 'ana C->A', 'ben C->A', 'cai C->B', 'dan C->B', 'old A->C']);

    // Three months on, eva paid 2000, and fut's payment of 07-01 is no longer in the future. Window (2024-09-01,
    // 2025-09-01]: eva 2010, fut 1000, ana 600, ben 250, cai 100, dan 40, edge 30; total 4030, 80% = 3224, 95% = 3828.5.
    // eva: A. fut: 2010 above < 3224: A. ana: 3010 < 3224: A. ben: 3610 >= 3224, < 3828.5: B. cai: 3860 >= 3828.5: C.
    // dan, edge: C.
    await send(pay(id('eva'), '2025-08-15T00:00:00Z', 2000));
    const later = await job.run(new Date('2025-09-01T00:00:00Z'));
    expect(moves(later.changes)).toEqual(['eva C->A', 'fut C->A', 'ben A->B', 'cai B->C', 'dan B->C']);
    expect(later.changes.map((c) => c.reason)).toEqual([
      'value 2,010.00 EUR in the last 365 days: top 80%',
      'value 1,000.00 EUR in the last 365 days: top 80%',
      'value 250.00 EUR in the last 365 days: top 95%',
      'value 100.00 EUR in the last 365 days: outside the top 95%',
      'value 40.00 EUR in the last 365 days: outside the top 95%',
    ]);
    expect(later.tiers).toEqual({ A: 3, B: 1, C: 3 });
    expect((await job.run(new Date('2025-09-01T00:00:00Z'))).changes).toEqual([]);

    // Absolute thresholds instead (A from 1000, B from 100): eva 2010 A, fut 1000 A, ana 600 B, ben 250 B, cai 100 B,
    // dan 40 C, edge 30 C. Against the tiers now: ana A->B, cai C->B.
    const absolute = new TierJob(store, database.pool, loadRetentionConfig({ CX_TIER_A_MIN_VALUE: '1000', CX_TIER_B_MIN_VALUE: '100' }));
    const fixed = await absolute.run(new Date('2025-09-01T00:00:00Z'));
    expect(fixed.rule).toEqual({ mode: 'absolute', aMinValue: '1000.00', bMinValue: '100.00' });
    expect(fixed.changes).toEqual([
      expect.objectContaining({ customerId: id('ana'), from: 'A', to: 'B', reason: 'value 600.00 EUR in the last 365 days: at least 100.00 EUR' }),
      expect.objectContaining({ customerId: id('cai'), from: 'C', to: 'B', reason: 'value 100.00 EUR in the last 365 days: at least 100.00 EUR' }),
    ]);
  });

  it('waits for the value read model, and decides against the customer stream, not the read model', async () => {
    const job = new TierJob(store, database.pool, loadRetentionConfig({}));
    await send(register(id('kim'), '2025-01-01T00:00:00Z'), pay(id('kim'), '2025-05-01T00:00:00Z', 100_000));

    // With the fold stopped and the log ahead of it, the job does not act on an old picture.
    await runner.stop();
    const outcome = await ingest.ingest([ce('cx.customer.updated', id('kim'), '2025-05-02T00:00:00Z', { tier: 'A' })], { correlationId: `corr-${run}` });
    expect(outcome.results[0]).toMatchObject({ status: 'accepted' });
    await expect(job.run(new Date('2025-06-01T00:00:00Z'), { waitMs: 100 })).rejects.toThrow(ReadModelBehindError);
    runner = new ProjectionRunner({ store, dataSource: database.dataSource, pool: database.pool, projections: [customerValueProjection], lease: false, batchSize: 4 });
    await runner.start();
    await caughtUp(BigInt(outcome.position));

    // kim, with 100,000 of 101,030, is A, and the update already made kim A. Make the read model forget it: the job
    // then takes kim for C and tries to move kim to A, but the decider reads A in the stream and appends nothing.
    await database.pool.query('DELETE FROM rm_customer_tiers WHERE customer_id = $1', [id('kim')]);
    const result = await job.run(new Date('2025-06-01T00:00:00Z'));
    expect(result.changes.map((c) => c.customerId)).not.toContain(id('kim'));
    expect((await tierEvents('kim')).map((e) => (e as { reason: string }).reason)).toEqual(['set on profile update']);
  });
});
