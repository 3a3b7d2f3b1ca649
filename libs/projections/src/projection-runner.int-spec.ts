import { type EventToAppend, PostgresEventStore } from '@cx/event-store';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Projection } from './projection.js';
import { ProjectionRunner } from './projection-runner.js';
import { projectionMigrations } from './projections.migrations.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts events per stream; an event whose data says `explode` makes spec_counter's fold throw. */
function counter(version = 1, name = 'spec_counter'): Projection {
  const explodes = name === 'spec_counter';
  return {
    name,
    version,
    handles: ['moment.recorded.v1'],
    tables: [`${name}_rows`],
    migrations: [
      {
        id: `0900_${name}`,
        sql: `CREATE TABLE ${name}_rows (stream_id text PRIMARY KEY, events integer NOT NULL, last_position bigint NOT NULL)`,
      },
    ],
    entities: [],
    async apply(events, manager: EntityManager) {
      for (const event of events) {
        if (explodes && (event.data as { explode?: boolean }).explode) throw new Error(`cannot fold ${event.id}`);
        await manager.query(
          `INSERT INTO ${name}_rows (stream_id, events, last_position) VALUES ($1, 1, $2)
           ON CONFLICT (stream_id) DO UPDATE SET events = ${name}_rows.events + 1, last_position = excluded.last_position`,
          [event.streamId, event.position.toString()],
        );
      }
    },
  };
}

const moment = (data: Record<string, unknown> = {}): EventToAppend => ({ id: randomUUID(), type: 'moment.recorded.v1', data });
const other = (): EventToAppend => ({ id: randomUUID(), type: 'feedback.submitted.v1', data: { nps: 9 } });

describe(`projection runner on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  const runners: ProjectionRunner[] = [];

  const runner = (projection: Projection, batchSize = 50) => {
    const created = new ProjectionRunner({
      store,
      dataSource: database.dataSource,
      pool: database.pool,
      projections: [projection],
      lease: testBackend === 'postgres',
      batchSize,
      leaseRetryMs: 100,
    });
    runners.push(created);
    return created;
  };
  const rows = async (name = 'spec_counter') =>
    (await database.pool.query<{ stream_id: string; events: number }>(`SELECT stream_id, events FROM ${name}_rows ORDER BY stream_id`)).rows;
  const checkpoint = async (name = 'spec_counter') =>
    (await database.pool.query<{ position: string; status: string; error: string | null; error_position: string | null; version: number }>(
      'SELECT position, status, error, error_position, version FROM cx_projection_checkpoints WHERE name = $1',
      [name],
    )).rows[0];
  async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await sleep(20);
    }
  }

  beforeAll(async () => {
    database = await openTestDatabase({ migrations: [...projectionMigrations, ...counter().migrations, ...counter(1, 'spec_other').migrations] });
    store = new PostgresEventStore({ pool: database.pool, notifications: testBackend === 'postgres' ? 'listen' : 'local' });
  });
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
  });
  afterAll(async () => {
    await store.close();
    await database.close();
  });

  it('folds the events it handles, moves its checkpoint past the others, and follows new ones live', async () => {
    const a = `customer-a-${randomUUID()}`;
    const b = `customer-b-${randomUUID()}`;
    await store.append(a, [moment(), other(), moment()]);
    await store.append(b, [moment()]);
    const projection = runner(counter());
    await projection.start();
    const head = (await store.append(b, [moment(), other()])).position;

    await until(async () => BigInt((await checkpoint()).position) >= head);
    expect(await rows()).toEqual(expect.arrayContaining([
      { stream_id: a, events: 2 },
      { stream_id: b, events: 2 },
    ]));
    const [state] = await projection.states();
    expect(state).toMatchObject({ name: 'spec_counter', version: 1, status: 'running', lagEvents: 0, position: head.toString() });
  });

  it('stops at the exact event that fails, with its position and error, and resumes from there on retry', async () => {
    const stream = `customer-fail-${randomUUID()}`;
    const projection = runner(counter());
    await projection.start();
    const before = (await rows()).find((r) => r.stream_id === stream)?.events ?? 0;
    const result = await store.append(stream, [moment(), moment(), moment({ explode: true }), moment()]);
    const failing = result.events[2].position;

    await until(async () => (await checkpoint()).status === 'failed');
    const stopped = await checkpoint();
    expect(stopped.error_position).toBe(failing.toString());
    expect(stopped.error).toContain('cannot fold');
    expect(BigInt(stopped.position)).toBe(result.events[1].position);
    expect((await rows()).find((r) => r.stream_id === stream)?.events).toBe(before + 2);
    const [state] = await projection.states();
    expect(state).toMatchObject({ status: 'failed', error: { position: failing.toString() }, lagEvents: 2 });

    // A retry without a fix fails again at the same event, and applies nothing twice.
    await projection.retry('spec_counter');
    await until(async () => (await checkpoint()).status === 'failed');
    expect((await checkpoint()).error_position).toBe(failing.toString());
    expect((await rows()).find((r) => r.stream_id === stream)?.events).toBe(before + 2);
    await expect(projection.retry('no_such_projection')).rejects.toThrow('unknown projection');
  });

  it('rebuilds from the start of the log when the projection version changes, the old rows serving until the switch', async () => {
    const stream = `customer-rebuild-${randomUUID()}`;
    // The last position this test wrote: every earlier event has a lower one. (The store's head can
    // lag behind it while another database of the server has a transaction in flight.)
    const head = (await store.append(stream, [moment(), moment(), moment()])).position;
    const v1 = runner(counter(1, 'spec_other'));
    await v1.start();
    await until(async () => BigInt((await checkpoint('spec_other')).position) >= head);
    await v1.stop();
    // Tamper with the rows, as a buggy fold would have: a rebuild must replace them.
    await database.pool.query(`UPDATE spec_other_rows SET events = 999`);

    const v2 = runner(counter(2, 'spec_other'));
    await v2.start();
    await until(async () => (await checkpoint('spec_other')).version === 2 && BigInt((await checkpoint('spec_other')).position) >= head);
    expect((await checkpoint('spec_other')).status).toBe('running');
    const [state] = await v2.states();
    expect(state.lastRebuild).toMatchObject({ status: 'done', version: 2 });
    expect((await rows('spec_other')).find((r) => r.stream_id === stream)?.events).toBe(3);
    expect((await rows('spec_other')).some((r) => r.events === 999)).toBe(false);
  });

  it("tells each batch the transaction of the one it committed before: the checkpoint's last writer", async () => {
    const stream = `customer-chain-${randomUUID()}`;
    const seen: Array<{ previous: string | undefined; checkpointWriter: string }> = [];
    const chained: Projection = {
      name: 'spec_chain',
      version: 1,
      handles: ['moment.recorded.v1'],
      tables: [],
      migrations: [],
      entities: [],
      async apply(_events, manager, context) {
        const [row] = (await manager.query("SELECT xmin::text AS xid FROM cx_projection_checkpoints WHERE name = 'spec_chain'")) as Array<{ xid: string }>;
        seen.push({ previous: context?.previousCommit, checkpointWriter: row.xid });
      },
    };
    await store.append(stream, Array.from({ length: 6 }, () => moment()));
    const created = runner(chained, 2);
    await created.start();
    const head = await store.headPosition();
    await until(async () => BigInt((await checkpoint('spec_chain')).position) >= head);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    // Taken up afresh: no previous commit; then always the transaction that last moved the checkpoint, this runner's.
    expect(seen[0].previous).toBeUndefined();
    for (const batch of seen.slice(1)) expect(batch.previous).toBe(batch.checkpointWriter);
    expect(new Set(seen.slice(1).map((b) => b.previous)).size).toBe(seen.length - 1);
  });

  describe('keeping the projections of a process together (maxSpread)', () => {
    /**
     * A projection that writes nothing and notes the last position it applied; `delayMs` makes each
     * batch slow; an event whose data names it in `explodeIn` makes its fold throw.
     */
    const paced = (name: string, delayMs: number, seen: { lastApplied: bigint }) => ({
      name,
      version: 1,
      handles: ['moment.recorded.v1'],
      tables: [],
      migrations: [],
      entities: [],
      async apply(events: readonly { position: bigint; data: unknown }[]) {
        if (events.some((e) => (e.data as { explodeIn?: string }).explodeIn === name)) throw new Error(`${name} cannot fold this`);
        if (delayMs > 0) await sleep(delayMs);
        seen.lastApplied = events[events.length - 1].position;
      },
    }) as Projection;

    /** Runs a slow and a fast projection from the start of the log; returns how far ahead of the slow one the fast one began each batch. */
    async function race(maxSpread: number, suffix: string): Promise<bigint[]> {
      const slow = { lastApplied: 0n };
      const fast = { lastApplied: 0n };
      const leads: bigint[] = [];
      const fastProjection = paced(`spec_fast_${suffix}`, 0, fast);
      const observed: Projection = {
        ...fastProjection,
        async apply(events, manager) {
          // The slow one's position is at most what it last applied: a lead measured against that is never overstated.
          leads.push(events[0].position - slow.lastApplied);
          await fastProjection.apply(events, manager);
        },
      };
      const created = new ProjectionRunner({
        store,
        dataSource: database.dataSource,
        pool: database.pool,
        projections: [paced(`spec_slow_${suffix}`, 40, slow), observed],
        lease: testBackend === 'postgres',
        batchSize: 20,
        maxSpread,
      });
      runners.push(created);
      await created.start();
      const head = await store.headPosition();
      await until(async () => (await created.lowestPosition()) >= head, 30_000);
      expect(fast.lastApplied).toBeGreaterThanOrEqual(head);
      return leads;
    }

    it('holds a fast projection back to within maxSpread positions of the slowest, and without the limit it runs ahead', async () => {
      const stream = `customer-spread-${randomUUID()}`;
      for (let i = 0; i < 6; i++) await store.append(stream, Array.from({ length: 50 }, () => moment()));

      const held = await race(60, 'held');
      // Each lead is measured at the first event of a batch: the fast one's position plus at most one batch of 20.
      expect(held.length).toBeGreaterThan(10);
      for (const lead of held) expect(Number(lead)).toBeLessThanOrEqual(60 + 20 + 1);

      // The embedded database has one connection: the projections' transactions take turns, so they never drift apart there.
      if (testBackend === 'postgres') {
        const free = await race(0, 'free');
        expect(Math.max(...free.map(Number))).toBeGreaterThan(150);
      }
    });

    it('lets the others go on when the slowest stops at an event it cannot fold', async () => {
      const stream = `customer-spread-fail-${randomUUID()}`;
      await store.append(stream, [moment(), moment({ explodeIn: 'spec_slow_fail' }), ...Array.from({ length: 200 }, () => moment())]);
      const slow = { lastApplied: 0n };
      const fast = { lastApplied: 0n };
      const created = new ProjectionRunner({
        store,
        dataSource: database.dataSource,
        pool: database.pool,
        projections: [paced('spec_slow_fail', 40, slow), paced('spec_fast_fail', 0, fast)],
        lease: testBackend === 'postgres',
        batchSize: 20,
        maxSpread: 30,
      });
      runners.push(created);
      await created.start();
      const head = await store.headPosition();
      await until(async () => BigInt((await checkpoint('spec_fast_fail')).position) >= head, 30_000);
      expect((await checkpoint('spec_slow_fail')).status).toBe('failed');
      expect(BigInt((await checkpoint('spec_slow_fail')).position)).toBeLessThan(head - 150n);
    });
  });

  if (testBackend === 'postgres') {
    it('lets only one of two runners on one database apply a projection, and the other take over when it stops', async () => {
      const name = 'spec_other';
      const first = runner(counter(2, name), 7);
      const second = runner(counter(2, name), 7);
      await first.start();
      await second.start();
      const streams = Array.from({ length: 5 }, () => `customer-lease-${randomUUID()}`);
      const before = new Map((await rows(name)).map((r) => [r.stream_id, r.events]));
      for (let i = 0; i < 20; i++) await store.append(streams[i % 5], [moment()]);
      await first.stop();
      let head = 0n;
      for (let i = 0; i < 20; i++) head = (await store.append(streams[i % 5], [moment()])).position;
      await until(async () => BigInt((await checkpoint(name)).position) >= head);
      const after = await rows(name);
      for (const stream of streams) {
        expect(after.find((r) => r.stream_id === stream)?.events).toBe((before.get(stream) ?? 0) + 8);
      }
    });
  }
});
