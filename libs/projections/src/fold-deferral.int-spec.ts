import { type EventToAppend, PostgresEventStore } from '@cx/event-store';
import { WriteActivity } from '@cx/platform';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { FoldDeferral, type FoldDeferralOptions } from './fold-deferral.js';
import type { Projection } from './projection.js';
import { ProjectionRunner } from './projection-runner.js';
import { projectionMigrations } from './projections.migrations.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BATCH = 50;

/** Keeps every event it folds as a row of its own: an event folded twice fails the batch (primary key), one lost is missing. */
function recorder(name: string): Projection {
  return {
    name,
    version: 1,
    handles: ['moment.recorded.v1'],
    tables: [`${name}_rows`],
    migrations: [{ id: `0900_${name}`, sql: `CREATE TABLE ${name}_rows (event_id uuid PRIMARY KEY, position bigint NOT NULL)` }],
    entities: [],
    async apply(events, manager: EntityManager) {
      await manager.query(`INSERT INTO ${name}_rows (event_id, position) SELECT * FROM unnest($1::uuid[], $2::bigint[])`, [
        events.map((e) => e.id),
        events.map((e) => e.position.toString()),
      ]);
    },
  };
}

const moments = (n: number): EventToAppend[] => Array.from({ length: n }, () => ({ id: randomUUID(), type: 'moment.recorded.v1', data: {} }));

describe(`ingest first: live folding deferred while the process writes, on ${testBackend}`, () => {
  const names = ['spec_defer_busy', 'spec_defer_bound', 'spec_defer_lag'];
  let database: TestDatabase;
  let store: PostgresEventStore;
  const runners: ProjectionRunner[] = [];

  const start = async (name: string, writes: WriteActivity, options: FoldDeferralOptions) => {
    const deferral = new FoldDeferral(writes, options);
    const runner = new ProjectionRunner({
      store,
      dataSource: database.dataSource,
      pool: database.pool,
      projections: [recorder(name)],
      lease: testBackend === 'postgres',
      batchSize: BATCH,
      gatherMs: 0,
      pacer: deferral,
    });
    runners.push(runner);
    await runner.start();
    return { deferral, runner };
  };
  const checkpoint = async (name: string) =>
    BigInt((await database.pool.query<{ position: string }>('SELECT position FROM cx_projection_checkpoints WHERE name = $1', [name])).rows[0].position);
  const folded = async (name: string) =>
    (await database.pool.query<{ event_id: string }>(`SELECT event_id FROM ${name}_rows ORDER BY position`)).rows.map((r) => r.event_id);
  /** Ids of the log's moments up to `head`, in order: what a projection that started at 0 must have folded, each once. */
  const eventsUpTo = async (head: bigint) => (await store.readAll(0n, { limit: 10_000 })).filter((e) => e.position <= head);
  const logUpTo = async (head: bigint) => (await eventsUpTo(head)).map((e) => e.id);
  async function until(check: () => boolean | Promise<boolean>): Promise<void> {
    while (!(await check())) await sleep(20);
  }

  beforeAll(async () => {
    database = await openTestDatabase({ migrations: [...projectionMigrations, ...names.flatMap((name) => recorder(name).migrations)] });
    store = new PostgresEventStore({ pool: database.pool, notifications: testBackend === 'postgres' ? 'listen' : 'local' });
  });
  afterEach(async () => {
    for (const runner of runners.splice(0)) await runner.stop();
  });
  afterAll(async () => {
    await store.close();
    await database.close();
  });

  it('holds every batch back while a write is in flight, then folds each event exactly once', async () => {
    const writes = new WriteActivity();
    const end = writes.begin();
    const events = moments(3 * BATCH + 7);
    const { head } = { head: (await store.append(`customer-${randomUUID()}`, events)).position };
    const { deferral } = await start('spec_defer_busy', writes, { maxDeferMs: 3_600_000, maxLagEvents: 1_000_000 });

    await until(() => deferral.deferring.has('spec_defer_busy'));
    expect(await folded('spec_defer_busy')).toEqual([]);
    expect(await checkpoint('spec_defer_busy')).toBe(0n);

    end(head);
    await until(async () => (await checkpoint('spec_defer_busy')) >= head);
    expect(await folded('spec_defer_busy')).toEqual(await logUpTo(head));
  });

  it('folds regardless once it has deferred maxDeferMs, however long the writes go on', async () => {
    const writes = new WriteActivity();
    writes.begin(); // never ends
    const events = moments(2 * BATCH + 3);
    const head = (await store.append(`customer-${randomUUID()}`, events)).position;
    await start('spec_defer_bound', writes, { maxDeferMs: 200, maxLagEvents: 1_000_000 });

    await until(async () => (await checkpoint('spec_defer_bound')) >= head);
    expect(await folded('spec_defer_bound')).toEqual(await logUpTo(head));
  });

  it('folds what lies maxLagEvents or more behind the writes, and all of it once a reader hurries it', async () => {
    const writes = new WriteActivity();
    const head = (await store.append(`customer-${randomUUID()}`, moments(2 * BATCH + 20))).position;
    writes.begin()(head);
    writes.begin(); // still writing
    // Folded: batches of 50 that end 30 or more positions behind the head. Held back: the first that
    // ends closer, which starts at most 30 + 50 behind it. (Where exactly batches end depends on what
    // else is in flight on the server: a read stops below the oldest open transaction.)
    const { deferral, runner } = await start('spec_defer_lag', writes, { maxDeferMs: 3_600_000, maxLagEvents: 30 });

    await until(() => deferral.deferring.has('spec_defer_lag'));
    const reached = await checkpoint('spec_defer_lag');
    expect(reached).toBeGreaterThanOrEqual(head - 30n - BigInt(BATCH));
    expect(reached).toBeLessThan(head);
    expect(await folded('spec_defer_lag')).toEqual(await logUpTo(reached));

    const release = deferral.hurry();
    await until(async () => (await checkpoint('spec_defer_lag')) >= head);
    release();
    expect(await folded('spec_defer_lag')).toEqual(await logUpTo(head));
    // Stopping does not wait out a deferral either.
    await runner.stop();
  });
});
