import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import { eventStoreContract } from '../event-store.contract.js';
import { EventStoreUsageError } from '../event-store.js';
import { PostgresEventStore } from './postgres-event-store.js';

eventStoreContract(`PostgreSQL adapter on ${testBackend}`, async () => {
  const database = await openTestDatabase();
  const store = new PostgresEventStore({ pool: database.pool, notifications: testBackend === 'postgres' ? 'listen' : 'local' });
  return {
    store,
    async close() {
      await store.close();
      await database.close();
    },
  };
});

describe(`PostgreSQL adapter specifics on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await openTestDatabase();
    store = new PostgresEventStore({ pool: database.pool });
  });
  afterAll(async () => {
    await store.close();
    await database.close();
  });

  it('runs against the backend the run asked for', async () => {
    const { rows } = await database.pool.query<{ version: string }>('SELECT version()');
    const isPglite = rows[0].version.includes('PGlite');
    expect(isPglite ? 'embedded' : 'postgres').toBe(testBackend);
    if (process.env.CX_EXPECT_BACKEND) expect(testBackend).toBe(process.env.CX_EXPECT_BACKEND);
  });

  it('reads the histories it decides on in the round trip that opens the transaction, whatever the stream ids look like', async () => {
    // Stream ids go into that SQL as an array literal: ids an unquoted literal would misread (null) or that carry its other characters.
    const suffix = randomUUID().slice(0, 8);
    const ids = ['null', 'NULL', `a:b@c+d=e.f-${suffix}`, `plain-${suffix}`];
    const event = () => ({ id: randomUUID(), type: 'spec.happened.v1', data: {} });
    for (const [i, id] of ids.entries()) await store.append(id, Array.from({ length: i + 1 }, event));
    const before = new Map<string, number>();
    for (const id of ids) before.set(id, (await store.readStream(id)).length);

    let seen: Array<[string, number]> = [];
    await store.decideAndAppend({ lock: ids, read: [...ids, ids[0]] }, (histories) => {
      seen = [...histories].map(([id, events]) => [id, events.length]);
      return [];
    });
    expect(seen).toEqual(ids.map((id) => [id, before.get(id)]));
  });

  it('creates its schema with versioned migrations, recorded once', async () => {
    const { rows } = await database.pool.query<{ id: string }>('SELECT id FROM cx_schema_migrations ORDER BY id');
    expect(rows.map((r) => r.id)).toContain('0001_event_store_log');
    const { rows: columns } = await database.pool.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'cx_events' ORDER BY ordinal_position",
    );
    expect(columns.map((c) => c.column_name)).toEqual([
      'position',
      'event_id',
      'stream_id',
      'stream_version',
      'type',
      'data',
      'metadata',
      'recorded_at',
      'transaction_id',
    ]);
  });

  it('refuses to append after another write in the same transaction, and leaves the lock free', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE scratch (x int)');
      await client.query('INSERT INTO scratch VALUES (1)');
      const error = await store
        .appendWithin(client, `customer-${randomUUID()}`, [{ id: randomUUID(), type: 'moment.recorded.v1', data: {} }])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EventStoreUsageError);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
    // The advisory lock was released: a normal append still goes through.
    const ok = await store.append(`customer-${randomUUID()}`, [{ id: randomUUID(), type: 'moment.recorded.v1', data: {} }]);
    expect(ok.events[0].status).toBe('appended');
  });
  it('shares reads between the subscribers of a process, each of which still gets every event once and in order', async () => {
    const streams = [`shared-a-${randomUUID()}`, `shared-b-${randomUUID()}`];
    const from = await store.headPosition();
    const seen: Array<Array<{ id: string; position: bigint }>> = [[], [], []];
    const queries: string[] = [];
    const query = database.pool.query.bind(database.pool);
    (database.pool as { query: unknown }).query = (text: unknown, ...rest: unknown[]) => {
      if (typeof text === 'string' && text.includes('FROM cx_events') && text.includes('position > $1')) queries.push(text);
      return (query as (...args: unknown[]) => unknown)(text, ...rest);
    };
    const subscriptions = seen.map((list) =>
      store.subscribeBatches(from, async (events) => void list.push(...events.map((e) => ({ id: e.id, position: e.position }))), { limit: 3, pollIntervalMs: 60_000 }),
    );
    try {
      const appended: string[] = [];
      for (let round = 0; round < 4; round++) {
        const events = Array.from({ length: 4 }, () => ({ id: randomUUID(), type: 'spec.shared.v1', data: { round } }));
        appended.push(...events.map((e) => e.id));
        await store.append(streams[round % 2], events, 'any');
        if (round % 2 === 1) await new Promise((resolve) => setTimeout(resolve, 30));
      }
      const deadline = Date.now() + 10_000;
      while (seen.some((list) => list.length < appended.length) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const list of seen) {
        expect(list.map((e) => e.id)).toEqual(appended);
        expect(list.map((e) => e.position)).toEqual([...list.map((e) => e.position)].sort((a, b) => (a < b ? -1 : 1)));
      }
      // Three subscribers at the same positions: far fewer reads than three times one subscriber's.
      const batches = Math.ceil(appended.length / 3);
      expect(queries.length).toBeLessThan(3 * batches);
    } finally {
      (database.pool as { query: unknown }).query = query;
      for (const subscription of subscriptions) await subscription.stop();
    }
  });
  it('serves a subscriber behind the others from what they read, whatever position it starts from', async () => {
    const stream = `behind-${randomUUID()}`;
    const from = await store.headPosition();
    const appended = Array.from({ length: 30 }, () => ({ id: randomUUID(), type: 'spec.behind.v1', data: {} }));
    const positions = (await store.append(stream, appended, 'any')).events.map((e) => e.position);
    const queries: string[] = [];
    const query = database.pool.query.bind(database.pool);
    (database.pool as { query: unknown }).query = (text: unknown, ...rest: unknown[]) => {
      if (typeof text === 'string' && text.includes('FROM cx_events') && text.includes('position > $1')) queries.push(text);
      return (query as (...args: unknown[]) => unknown)(text, ...rest);
    };
    const follow = async (after: bigint) => {
      const seen: string[] = [];
      const subscription = store.subscribeBatches(after, async (events) => void seen.push(...events.map((e) => e.id)), { limit: 10, pollIntervalMs: 60_000 });
      const deadline = Date.now() + 10_000;
      while (subscription.position < positions[positions.length - 1] && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      await subscription.stop();
      return seen;
    };
    try {
      expect(await follow(from)).toEqual(appended.map((e) => e.id));
      const ahead = queries.length;
      // Off the first one's batches (it read 10 at a time from the start): only what lies past its reads is asked for.
      expect(await follow(positions[4])).toEqual(appended.slice(5).map((e) => e.id));
      expect(queries.length - ahead).toBeLessThanOrEqual(1);
    } finally {
      (database.pool as { query: unknown }).query = query;
    }
  });
  it('gathers what trickles in once caught up: one read per gatherMs, however many appends woke it', async () => {
    const stream = `gather-${randomUUID()}`;
    const from = await store.headPosition();
    const batches: number[] = [];
    const subscription = store.subscribeBatches(from, async (events) => void batches.push(events.length), { limit: 100, pollIntervalMs: 60_000, gatherMs: 2_000 });
    try {
      // The first append is read as soon as it wakes the subscriber; the next ones, each waking it, wait for the gather.
      await store.append(stream, [{ id: randomUUID(), type: 'spec.gather.v1', data: {} }], 'any');
      for (let waited = 0; batches.length === 0 && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      for (let n = 0; n < 5; n++) await store.append(stream, [{ id: randomUUID(), type: 'spec.gather.v1', data: {} }], 'any');
      for (let waited = 0; batches.reduce((a, b) => a + b, 0) < 6 && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(batches.reduce((a, b) => a + b, 0)).toBe(6);
      expect(batches.length).toBeLessThanOrEqual(3);
    } finally {
      await subscription.stop();
    }
  });
});
