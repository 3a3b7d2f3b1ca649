import { SESSION_RANDOM_PAGE_COST } from '@cx/platform';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import { InvalidReadError, type RecordedEvent } from '../event-store.js';
import { customerInLog, inCustomerSnapshot, logReachedAt, readCustomerTimeline } from './customer-timeline.js';
import { PostgresEventStore } from './postgres-event-store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`a customer's timeline from the PostgreSQL log on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  const run = randomUUID().slice(0, 8);
  const ana = `ana-${run}`;
  const bea = `bea-${run}`;
  const positions: bigint[] = [];
  /** Ana's events as appended, in log order. */
  let anas: RecordedEvent[];

  const event = (customerId: string | undefined, type: string, extra: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    type,
    data: { ...(customerId ? { customerId } : {}), ...extra },
  });

  beforeAll(async () => {
    database = await openTestDatabase();
    store = new PostgresEventStore({ pool: database.pool });
    // Three separate transactions, a few ms apart, so their recorded_at differ; Ana's events in
    // four streams, Bea's and an event naming nobody in between.
    const batches = [
      [
        { streamId: `customer-${ana}`, events: [event(ana, 'customer.registered.v1'), event(ana, 'customer.tier-changed.v1')] },
        { streamId: `customer-${bea}`, events: [event(bea, 'customer.registered.v1')] },
      ],
      [
        { streamId: `moment-${run}-1`, events: [event(ana, 'moment.recorded.v1')] },
        { streamId: `changes-${run}`, events: [event(undefined, 'change.recorded.v1')] },
        { streamId: `complaint-${run}-1`, events: [event(ana, 'complaint.filed.v1'), event(ana, 'complaint.routed.v1')] },
      ],
      [
        { streamId: `feedback-${run}-1`, events: [event(ana, 'feedback.submitted.v1', { nps: 3 })] },
        { streamId: `moment-${run}-2`, events: [event(bea, 'moment.recorded.v1')] },
      ],
    ];
    for (const appends of batches) {
      const results = await store.appendMany(appends);
      positions.push(...results.flatMap((r) => r.events.map((e) => e.position)));
      await sleep(15);
    }
    const all = await database.pool.query<{ position: string }>('SELECT position FROM cx_events ORDER BY position');
    expect(all.rows).toHaveLength(9);
    anas = (await Promise.all([`customer-${ana}`, `moment-${run}-1`, `complaint-${run}-1`, `feedback-${run}-1`].map((s) => store.readStream(s))))
      .flat()
      .sort((a, b) => (a.position < b.position ? -1 : 1));
    expect(anas).toHaveLength(6);
  });

  afterAll(async () => {
    await store.close();
    await database.close();
  });

  it("reads every event of the customer across their streams, in log order, and nobody else's", async () => {
    const timeline = await readCustomerTimeline(database.pool, ana);
    expect(timeline).toEqual(anas);
    expect(timeline.map((e) => e.type)).toEqual([
      'customer.registered.v1',
      'customer.tier-changed.v1',
      'moment.recorded.v1',
      'complaint.filed.v1',
      'complaint.routed.v1',
      'feedback.submitted.v1',
    ]);
    expect((await readCustomerTimeline(database.pool, bea)).map((e) => e.streamId)).toEqual([`customer-${bea}`, `moment-${run}-2`]);
    expect(await readCustomerTimeline(database.pool, `nobody-${run}`)).toEqual([]);
  });

  it('pages with after and limit, every event once', async () => {
    const seen: RecordedEvent[] = [];
    let after = 0n;
    const sizes: number[] = [];
    for (;;) {
      const page = await readCustomerTimeline(database.pool, ana, { after, limit: 4 });
      if (page.length === 0) break;
      sizes.push(page.length);
      seen.push(...page);
      after = page[page.length - 1].position;
    }
    // 6 events, 4 a page.
    expect(sizes).toEqual([4, 2]);
    expect(seen).toEqual(anas);
  });

  it('cuts at a position, and at a recorded time', async () => {
    // Cut at the complaint's filing: registered, tier-changed, moment, filed.
    expect(await readCustomerTimeline(database.pool, ana, { upTo: anas[3].position })).toEqual(anas.slice(0, 4));
    // A position of someone else's event between Ana's: the ones before it.
    const beaRegistered = (await store.readStream(`customer-${bea}`))[0].position;
    expect(await readCustomerTimeline(database.pool, ana, { upTo: beaRegistered })).toEqual(anas.slice(0, 2));
    expect(await readCustomerTimeline(database.pool, ana, { upTo: 0n })).toEqual([]);

    // Each transaction has one recorded_at: the cut keeps whole transactions. (Dates carry
    // milliseconds, recorded_at microseconds: a cut 1 ms after a Date includes its transaction.)
    const [first, second, third] = [anas[0].recordedAt, anas[2].recordedAt, anas[5].recordedAt];
    const justAfter = (date: Date) => new Date(date.getTime() + 1);
    expect(first.getTime()).toBeLessThan(second.getTime());
    expect(second.getTime()).toBeLessThan(third.getTime());
    expect(await readCustomerTimeline(database.pool, ana, { recordedUpTo: justAfter(second) })).toEqual(anas.slice(0, 5));
    expect(await readCustomerTimeline(database.pool, ana, { recordedUpTo: new Date(second.getTime() - 1) })).toEqual(anas.slice(0, 2));
    expect(await readCustomerTimeline(database.pool, ana, { recordedUpTo: new Date(first.getTime() - 1) })).toEqual([]);
    // Both cuts together, and after: the tighter wins.
    expect(await readCustomerTimeline(database.pool, ana, { after: anas[0].position, upTo: anas[4].position, recordedUpTo: justAfter(second) })).toEqual(anas.slice(1, 5));
  });

  it('knows whether the log names a customer, and when the log reached a position', async () => {
    expect(await customerInLog(database.pool, ana)).toBe(true);
    expect(await customerInLog(database.pool, `nobody-${run}`)).toBe(false);
    expect(await logReachedAt(database.pool, anas[2].position)).toEqual(anas[2].recordedAt);
    // Past the head: when the last event was recorded; before the first: nothing.
    expect(await logReachedAt(database.pool, positions[positions.length - 1] + 1000n)).toEqual(anas[5].recordedAt);
    expect(await logReachedAt(database.pool, 0n)).toBeUndefined();
  });

  it('reads only the ids of the metadata when asked, and reads in one read-only snapshot', async () => {
    const slim = await readCustomerTimeline(database.pool, ana, { metadata: 'ids' });
    expect(slim).toEqual(anas.map((e) => ({ ...e, metadata: { correlationId: e.metadata.correlationId, causationId: e.metadata.causationId } })));
    expect(slim[0].metadata.correlationId).toEqual(expect.any(String));

    const setting = async (client: Pick<typeof database.pool, 'query'>) =>
      (await client.query<{ setting: string }>("SELECT current_setting('random_page_cost') AS setting")).rows[0].setting;
    const inside = await inCustomerSnapshot(database.pool, async (client) => {
      const first = await readCustomerTimeline(client, ana, { limit: 3 });
      return { events: [...first, ...(await readCustomerTimeline(client, ana, { after: first[2].position }))], cost: await setting(client) };
    });
    // The platform's connections plan for cached data (SESSION_RANDOM_PAGE_COST), the snapshot's too: the customer index.
    expect(inside).toEqual({ events: anas, cost: String(SESSION_RANDOM_PAGE_COST) });
    // The snapshot writes nothing: an error inside rolls it back and is raised.
    await expect(inCustomerSnapshot(database.pool, (client) => client.query('DELETE FROM cx_events WHERE false'))).rejects.toThrow(/read-only transaction/);
    expect(await customerInLog(database.pool, ana)).toBe(true);
  });

  it('refuses bad arguments with InvalidReadError', async () => {
    await expect(readCustomerTimeline(database.pool, '')).rejects.toThrow(InvalidReadError);
    await expect(readCustomerTimeline(database.pool, ana, { after: -1n })).rejects.toThrow(InvalidReadError);
    await expect(readCustomerTimeline(database.pool, ana, { upTo: -5n })).rejects.toThrow(InvalidReadError);
    await expect(readCustomerTimeline(database.pool, ana, { limit: 0 })).rejects.toThrow(InvalidReadError);
    await expect(readCustomerTimeline(database.pool, ana, { limit: 10_001 })).rejects.toThrow(InvalidReadError);
    await expect(readCustomerTimeline(database.pool, ana, { recordedUpTo: new Date('nope') })).rejects.toThrow(InvalidReadError);
  });

  it('reads through the customer index (migration 0002), not by scanning the log', async () => {
    const { rows: migrations } = await database.pool.query<{ id: string }>('SELECT id FROM cx_schema_migrations ORDER BY id');
    expect(migrations.map((m) => m.id)).toContain('0002_event_store_customer_index');
    const client = await database.pool.connect();
    try {
      // A 9-row table is cheaper to scan: forbid that, and the plan must still find an index for the query.
      await client.query('SET enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT position FROM cx_events WHERE (data->>'customerId') = $1 AND position > 0 ORDER BY (data->>'customerId'), position LIMIT 10`,
        [ana],
      );
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('cx_events_customer_position_idx');
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });
});
