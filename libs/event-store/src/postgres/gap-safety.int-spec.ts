import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { EventToAppend, Position, RecordedEvent } from '../event-store.js';
import { PostgresEventStore } from './postgres-event-store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newEvent = (n: number): EventToAppend => ({ id: randomUUID(), type: 'moment.recorded.v1', data: { n } });

/** Deterministic pseudo-random numbers, so a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(`global log gap safety on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await openTestDatabase({ poolSize: 12 });
    store = new PostgresEventStore({ pool: database.pool, notifications: testBackend === 'postgres' ? 'listen' : 'local' });
  });
  afterAll(async () => {
    await store?.close();
    await database?.close();
  });

  // Two transactions open at once need two sessions: PGlite has one, so this case exists only on a real server.
  if (testBackend === 'postgres') {
    it('holds readers back while an earlier-numbered transaction is in flight, where a plain sequence reader skips it', async () => {
      const slow = await database.pool.connect();
      const fast = await database.pool.connect();
      try {
        await slow.query('BEGIN');
        const slowResult = await store.appendWithin(slow, `customer-${randomUUID()}`, [newEvent(1)]);
        // Everything this test writes has a position from here on.
        const start = slowResult.position - 1n;
        await fast.query('BEGIN');
        const fastResult = await store.appendWithin(fast, `customer-${randomUUID()}`, [newEvent(2)]);
        await fast.query('COMMIT');
        expect(slowResult.position < fastResult.position).toBe(true);

        // The later-numbered event is committed, the earlier one is not yet.
        const naive = await database.pool.query<{ position: string }>(
          'SELECT position FROM cx_events WHERE position > $1 ORDER BY position',
          [start.toString()],
        );
        expect(naive.rows.map((r) => BigInt(r.position))).toEqual([fastResult.position]);
        expect(await store.readAll(start)).toEqual([]);

        await slow.query('COMMIT');
        // Visible as soon as no older transaction of the server is writing (other test files share it).
        let safe = await store.readAll(start);
        for (const deadline = Date.now() + 10_000; safe.length < 2 && Date.now() < deadline; ) {
          await sleep(10);
          safe = await store.readAll(start);
        }
        expect(safe.map((e) => e.position)).toEqual([slowResult.position, fastResult.position]);
        // A reader that had checkpointed at the fast event would never see the slow one.
        const naiveAfterCheckpoint = await database.pool.query(
          'SELECT position FROM cx_events WHERE position > $1 ORDER BY position',
          [fastResult.position.toString()],
        );
        expect(naiveAfterCheckpoint.rows).toEqual([]);
      } finally {
        await slow.query('ROLLBACK').catch(() => undefined);
        await fast.query('ROLLBACK').catch(() => undefined);
        slow.release();
        fast.release();
      }
    });
  }

  it('lets a live follower see exactly the committed events, in order, with concurrent writers, long transactions and rollbacks', async () => {
    const seed = Number(process.env.CX_GAP_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const writers = 8;
    const target = 10_000;
    // Long transactions are the point; on PGlite every transaction waits for the one before it, so keep them short there.
    const maxHoldMs = testBackend === 'postgres' ? 25 : 2;
    const streams = Array.from({ length: 40 }, (_, i) => `customer-gap-${i}-${randomUUID().slice(0, 8)}`);
    const start = await store.headPosition();

    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    const seen: RecordedEvent[] = [];
    const outOfOrder: Array<[Position, Position]> = [];
    let lastSeen = start;
    const follower = store.subscribe(
      start,
      (event) => {
        if (event.position <= lastSeen) outOfOrder.push([lastSeen, event.position]);
        lastSeen = event.position;
        seen.push(event);
      },
      { limit: 200, pollIntervalMs: 50 },
    );

    let written = 0;
    let counter = 0;
    const writer = async () => {
      while (written < target) {
        const batch = Array.from({ length: 1 + Math.floor(random() * 10) }, () => newEvent(counter++));
        const stream = streams[Math.floor(random() * streams.length)];
        const rollback = random() < 0.1;
        const holdMs = Math.floor(random() * maxHoldMs);
        const client: PoolClient = await database.pool.connect();
        try {
          await client.query('BEGIN');
          const result = await store.appendWithin(client, stream, batch);
          if (holdMs > 0) await sleep(holdMs);
          if (rollback) {
            await client.query('ROLLBACK');
            batch.forEach((e) => rolledBack.add(e.id));
          } else {
            await client.query('COMMIT');
            batch.forEach((e) => committed.add(e.id));
            written += batch.length;
            store.announce(result);
          }
        } finally {
          client.release();
        }
      }
    };
    await Promise.all(Array.from({ length: writers }, writer));

    const deadline = Date.now() + 60_000;
    while (seen.length < committed.size && Date.now() < deadline) await sleep(20);
    await sleep(200); // anything extra (a duplicate, a rolled-back event) would arrive now
    await follower.stop();

    const seenIds = seen.map((e) => e.id);
    const context = `seed ${seed}: ${committed.size} committed, ${rolledBack.size} rolled back, ${seen.length} seen`;
    expect({ context, count: committed.size >= target }).toEqual({ context, count: true });
    expect(rolledBack.size).toBeGreaterThan(0);
    expect({ context, outOfOrder }).toEqual({ context, outOfOrder: [] });
    expect({ context, duplicates: seenIds.length - new Set(seenIds).size }).toEqual({ context, duplicates: 0 });
    expect({ context, rolledBackSeen: seenIds.filter((id) => rolledBack.has(id)) }).toEqual({ context, rolledBackSeen: [] });
    const seenSet = new Set(seenIds);
    expect({ context, missing: [...committed].filter((id) => !seenSet.has(id)).length }).toEqual({ context, missing: 0 });
    // And what the follower saw is what a fresh reader of the whole log sees.
    const all: RecordedEvent[] = [];
    for (let after = start; ; ) {
      const page = await store.readAll(after, { limit: 5_000 });
      if (page.length === 0) break;
      all.push(...page);
      after = page[page.length - 1].position;
    }
    expect(all.map((e) => e.id)).toEqual(seenIds);
  }, 240_000);
});
