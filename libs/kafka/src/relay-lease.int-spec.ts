import { jest } from '@jest/globals';
import { PostgresEventStore, type RecordedEvent } from '@cx/event-store';
import type { IngestService } from '@cx/ingest';
import { describeWithKafka, lastCommittedPosition, openTestDatabase, type TestDatabase, testBackend, testKafkaBrokers, uniqueTopic } from '@cx/testing';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { KafkaRelay, type KafkaRelayOptions } from './relay.js';
import { relayMigrations } from './relay.migrations.js';
import { checkDelivery, eventually, ingestAll, journeyEvents, readTopic, testKafka, writePath } from './relay.testing.js';

jest.setTimeout(120_000);

/**
 * One relay per database. On a PostgreSQL server the lease is an advisory lock, and the second
 * relay here has a pool and store of its own, as another process would. The embedded database is
 * opened by one process only; there the lease is held inside the process, per database.
 */
describeWithKafka(`Kafka relays sharing a database on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let ingest: IngestService;
  let kafka: Kafka;
  let otherPool: pg.Pool | undefined;
  let otherStore: PostgresEventStore | undefined;
  const relays: KafkaRelay[] = [];

  const relay = (topic: string, other: boolean, more: Partial<KafkaRelayOptions> = {}) => {
    const created = new KafkaRelay({
      store: other && otherStore ? otherStore : store,
      pool: other && otherPool ? otherPool : database.pool,
      kafka,
      topic,
      partitions: 3,
      batchSize: 20,
      lease: testBackend === 'postgres' ? 'database' : 'process',
      leaseRetryMs: 100,
      ...more,
    });
    relays.push(created);
    return created;
  };
  const logTo = async (last: bigint): Promise<RecordedEvent[]> => {
    let events: RecordedEvent[] = [];
    await eventually(
      async () => (events = await store.readAll(0n, { limit: 100_000 })).at(-1)?.position === last,
      () => `the log up to ${last}`,
    );
    return events;
  };

  beforeAll(async () => {
    database = await openTestDatabase({ migrations: relayMigrations });
    ({ store, ingest } = writePath(database.pool));
    kafka = testKafka(testKafkaBrokers!);
    if (testBackend === 'postgres') {
      otherPool = new pg.Pool({ connectionString: database.url, max: 4 });
      otherStore = new PostgresEventStore({ pool: otherPool });
    }
  });
  afterAll(async () => {
    for (const r of relays) await r.stop();
    await otherStore?.close();
    await otherPool?.end();
    await store?.close();
    await database?.close();
  });

  it('lets one relay publish while the other stands by, and the other take over when it stops', async () => {
    const topic = uniqueTopic('cx.events');
    const customers = ['customer-anna', 'customer-ben', 'customer-chloe'];
    const first = relay(topic, false);
    const second = relay(topic, true);
    await first.start();
    await eventually(
      () => first.currentStatus === 'running',
      () => `the first relay to run (${first.currentStatus})`,
    );
    await second.start();
    await eventually(
      () => second.currentStatus === 'standby',
      () => `the second relay to stand by (${second.currentStatus})`,
    );

    await ingestAll(ingest, journeyEvents(customers, 50), 'lease-1');
    const firstLast = await lastCommittedPosition(database.pool);
    await eventually(
      () => first.position >= firstLast,
      () => `checkpoint ${first.position} to reach ${firstLast}`,
    );
    expect(second.currentStatus).toBe('standby');
    expect(second.publishedEvents).toBe(0);
    // The relay standing by reports the stored checkpoint, which the active one moved.
    expect(await second.state()).toMatchObject({ status: 'standby', brokerConnected: false, position: firstLast.toString(), lagEvents: 0 });

    await first.stop();
    await eventually(
      () => second.currentStatus === 'running',
      () => `the second relay to take over (${second.currentStatus})`,
    );
    await ingestAll(ingest, journeyEvents(customers, 30).slice(customers.length), 'lease-2');
    const last = await lastCommittedPosition(database.pool);
    await eventually(
      () => second.position >= last,
      () => `checkpoint ${second.position} to reach ${last}`,
    );

    const events = await logTo(last);
    const messages = await readTopic(kafka, topic);
    expect(checkDelivery(messages, events)).toEqual({ duplicates: 0, missing: [], problems: [] });
    expect(first.publishedEvents).toBe(events.filter((e) => e.position <= firstLast).length);
    expect(second.publishedEvents).toBe(events.filter((e) => e.position > firstLast).length);
    await second.stop();
  });

  it('stands by when its checkpoint moved under it (a lost lease), then resumes from the stored checkpoint; repeats keep their ce_id', async () => {
    const topic = uniqueTopic('cx.events');
    const customers = ['customer-dev', 'customer-eve'];
    const warnings: string[] = [];
    const fenced = relay(topic, false, { logger: { log: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) } });
    await fenced.start();
    await ingestAll(ingest, journeyEvents(customers, 20), 'fence-1');
    const caughtUp = await lastCommittedPosition(database.pool);
    await eventually(
      () => fenced.position >= caughtUp,
      () => `checkpoint ${fenced.position} to reach ${caughtUp}`,
    );

    // What another process holding the lease would do: move the checkpoint (here, back).
    const movedTo = caughtUp - 20n;
    await database.pool.query('UPDATE cx_relay_checkpoints SET position = $2 WHERE topic = $1', [topic, movedTo.toString()]);
    await ingestAll(ingest, journeyEvents(customers, 10).slice(customers.length), 'fence-2');
    const last = await lastCommittedPosition(database.pool);
    await eventually(
      () => warnings.some((w) => /checkpoint moved in another process/.test(w)),
      () => `the relay to notice the moved checkpoint (${fenced.currentStatus})`,
    );
    await eventually(
      async () => BigInt((await fenced.state()).position) >= last,
      () => `checkpoint to reach ${last} again`,
    );
    const events = await logTo(last);
    const messages = await readTopic(kafka, topic);
    const delivery = checkDelivery(messages, events);
    expect(delivery.missing).toEqual([]);
    expect(delivery.problems).toEqual([]);
    // The events after movedTo were sent again: as the same events, under the same ce_id.
    expect(delivery.duplicates).toBeGreaterThan(0);
    expect(new Set(messages.map((m) => m.headers.cx_position)).size).toBe(new Set(messages.map((m) => m.headers.ce_id)).size);
    await fenced.stop();
  });
});
