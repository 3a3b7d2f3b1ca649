import { jest } from '@jest/globals';
import type { PostgresEventStore, RecordedEvent } from '@cx/event-store';
import type { IngestService } from '@cx/ingest';
import { describeWithKafka, lastCommittedPosition, openTestDatabase, type TestDatabase, testBackend, testKafkaBrokers, uniqueTopic } from '@cx/testing';
import type { Kafka } from 'kafkajs';
import { KafkaRelay } from './relay.js';
import { relayMigrations } from './relay.migrations.js';
import { checkDelivery, eventually, ingestAll, journeyEvents, readTopic, testKafka, writePath } from './relay.testing.js';

jest.setTimeout(120_000);

describeWithKafka(`the Kafka relay on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let ingest: IngestService;
  let kafka: Kafka;
  const relays: KafkaRelay[] = [];

  const relay = (topic: string, batchSize: number) => {
    const created = new KafkaRelay({
      store,
      pool: database.pool,
      kafka,
      topic,
      partitions: 3,
      batchSize,
      lease: testBackend === 'postgres' ? 'database' : 'process',
    });
    relays.push(created);
    return created;
  };
  const storedEvents = async () => store.readAll(0n, { limit: 100_000 });
  const stored = async (): Promise<RecordedEvent[]> => {
    // Readers see up to the oldest open writer on the server: wait for what this file wrote.
    const last = await lastCommittedPosition(database.pool);
    let events: RecordedEvent[] = [];
    await eventually(
      async () => (events = await storedEvents()).at(-1)?.position === last,
      () => `the log up to ${last}`,
    );
    return events;
  };

  beforeAll(async () => {
    database = await openTestDatabase({ migrations: relayMigrations });
    ({ store, ingest } = writePath(database.pool));
    kafka = testKafka(testKafkaBrokers!);
  });
  afterAll(async () => {
    for (const r of relays) await r.stop();
    await store?.close();
    await database?.close();
  });

  it('publishes every stored event exactly once, in order per customer, with its CloudEvents headers, personal data sealed', async () => {
    const topic = uniqueTopic('cx.events');
    // Fixed ids (a fresh database per file), which murmur2 spreads over all three partitions.
    const customers = ['customer-anna', 'customer-ben', 'customer-chloe', 'customer-dev', 'customer-eve'];
    // Stored before the relay starts (catch-up) and while it runs (live).
    await ingestAll(ingest, journeyEvents(customers.slice(0, 3), 40), 'corr-before');
    const publisher = relay(topic, 50);
    await publisher.start();
    await ingestAll(ingest, journeyEvents(customers.slice(3), 40), 'corr-live', 7);
    const events = (await stored()).filter((e) => customers.includes((e.data as { customerId: string }).customerId));
    const last = events.at(-1)!.position;
    await eventually(
      () => publisher.position >= last,
      () => `checkpoint ${publisher.position} to reach ${last}`,
    );

    const messages = await readTopic(kafka, topic);
    const delivery = checkDelivery(messages, events);
    expect(delivery).toEqual({ duplicates: 0, missing: [], problems: [] });
    expect(messages).toHaveLength(events.length);
    expect(events).toHaveLength(5 * 41);
    expect(new Set(messages.map((m) => m.partition)).size).toBe(3);

    const byId = new Map(messages.map((m) => [m.headers.ce_id, m]));
    for (const event of events) {
      const message = byId.get(event.id)!;
      const origin = event.metadata.cloudEvent as { id: string; source: string; time?: string };
      const customerId = (event.data as { customerId: string }).customerId;
      expect(message.key).toBe(customerId);
      expect(JSON.parse(message.value)).toEqual(event.data);
      expect(message.headers).toMatchObject({
        ce_specversion: '1.0',
        ce_id: event.id,
        ce_source: 'urn:cx:spec',
        ce_type: event.type === 'customer.registered.v1' ? 'cx.customer.registered' : 'cx.moment.recorded',
        ce_subject: customerId,
        ce_time: origin.time ?? event.recordedAt.toISOString(),
        cx_position: event.position.toString(),
        cx_correlation_id: customers.indexOf(customerId) < 3 ? 'corr-before' : 'corr-live',
        cx_origin_id: origin.id,
        cx_type: event.type,
      });
    }
    const registration = messages.find((m) => m.headers.ce_type === 'cx.customer.registered')!;
    const data = JSON.parse(registration.value) as { name: string; email: string };
    expect(data.name).toMatch(/^pii:v1:/);
    expect(data.email).toMatch(/^pii:v1:/);
    expect(registration.value).not.toContain('Person ');
    expect(registration.value).not.toContain('@example.com');

    const { rows } = await database.pool.query<{ position: string }>('SELECT position::text AS position FROM cx_relay_checkpoints WHERE topic = $1', [topic]);
    expect(rows).toEqual([{ position: last.toString() }]);
    const state = await publisher.state();
    expect(state).toMatchObject({ status: 'running', brokerConnected: true, position: last.toString(), publishedEvents: (await storedEvents()).filter((e) => e.position <= last).length });
    const admin = kafka.admin();
    await admin.connect();
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    await admin.disconnect();
    expect(metadata.partitions).toHaveLength(3);
    await publisher.stop();
    expect(publisher.currentStatus).toBe('stopped');
  });

  it('sends a request too large for the topic again in halves, in order, and keeps the smaller size', async () => {
    const topic = uniqueTopic('cx.events.small');
    const admin = kafka.admin();
    await admin.connect();
    // About 25 events of these per partition and request.
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'max.message.bytes', value: '20000' }] }], waitForLeaders: true });
    await admin.disconnect();
    const warnings: string[] = [];
    const small = new KafkaRelay({
      store,
      pool: database.pool,
      kafka,
      topic,
      batchSize: 300,
      lease: testBackend === 'postgres' ? 'database' : 'process',
      logger: { log: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    relays.push(small);
    await small.start();
    const events = await stored();
    const last = events.at(-1)!.position;
    await eventually(
      () => small.position >= last,
      () => `checkpoint ${small.position} to reach ${last} (${warnings.join('; ')})`,
    );
    const messages = await readTopic(kafka, topic);
    const delivery = checkDelivery(messages, events);
    expect(delivery.missing).toEqual([]);
    expect(delivery.problems).toEqual([]);
    // Partitions whose part fitted were written before the halves were sent: repeats, same ce_id.
    expect(new Set(messages.map((m) => m.headers.cx_position)).size).toBe(new Set(messages.map((m) => m.headers.ce_id)).size);
    expect(warnings.filter((w) => /too large for one request/.test(w)).length).toBeGreaterThanOrEqual(1);
    expect(warnings.at(-1)).toMatch(/sending at most \d+ from now on/);
    await small.stop();
  });

  it('stopped mid-way, leaves exactly what it checkpointed on the topic; a new relay resumes from there and loses nothing', async () => {
    const topic = uniqueTopic('cx.events');
    const customers = ['fay', 'gus', 'hal', 'ivy'].map((n) => `${n}-${topic.slice(-8)}`);
    await ingestAll(ingest, journeyEvents(customers, 150), 'corr-restart');
    const events = await stored();
    const last = events.at(-1)!.position;

    const first = relay(topic, 10);
    await first.start();
    await eventually(
      () => first.position > 0n,
      () => 'the first batch',
    );
    await first.stop();
    const stoppedAt = BigInt((await first.state()).position);
    expect(stoppedAt).toBeGreaterThan(0n);
    expect(stoppedAt).toBeLessThan(last);
    const before = await readTopic(kafka, topic);
    // A graceful stop finishes the batch in flight: the topic holds exactly the checkpointed events.
    expect(before.map((m) => m.headers.ce_id).sort()).toEqual(events.filter((e) => e.position <= stoppedAt).map((e) => e.id).sort());

    const second = relay(topic, 200);
    await second.start();
    await eventually(
      () => second.position >= last,
      () => `checkpoint ${second.position} to reach ${last}`,
    );
    const messages = await readTopic(kafka, topic);
    expect(checkDelivery(messages, events)).toEqual({ duplicates: 0, missing: [], problems: [] });
    expect(second.publishedEvents).toBe(events.filter((e) => e.position > stoppedAt).length);
    await second.stop();
  });
});
