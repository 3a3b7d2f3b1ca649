import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore, type RecordedEvent } from '@cx/event-store';
import { Metrics, parseExposition, samplesOf } from '@cx/http';
import { IngestService, piiFields } from '@cx/ingest';
import { MasterKey, PiiVault } from '@cx/platform';
import {
  type CloudEventJson,
  describeWithKafka,
  generateJourneys,
  openTestDatabase,
  type TestDatabase,
  testBackend,
  testKafkaBrokers,
  uniqueTopic,
} from '@cx/testing';
import type { IHeaders, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { randomBytes, randomUUID } from 'node:crypto';
import { publicTypeOf } from './event-message.js';
import { createKafka } from './kafka-client.js';
import { type DeadLetterReason, KafkaIngestConsumer } from './kafka-ingest.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A store with its write path: what `POST /v1/events` runs on. */
type WritePath = { database: TestDatabase; store: PostgresEventStore; vault: PiiVault; ingest: IngestService; close(): Promise<void> };

async function openWritePath(metrics?: Metrics): Promise<WritePath> {
  const database = await openTestDatabase();
  const store = new PostgresEventStore({ pool: database.pool });
  const vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
  const ingest = new IngestService(store, vault, createMomentCatalogue(), metrics);
  return {
    database,
    store,
    vault,
    ingest,
    async close() {
      await store.close();
      await database.close();
    },
  };
}

/** A structured-mode message: the whole CloudEvent as the value. */
const structured = (event: object, key?: string): Message => ({
  key: key ?? (event as { subject?: string }).subject ?? null,
  value: JSON.stringify(event),
  headers: { 'content-type': 'application/cloudevents+json' },
});

/** A binary-mode message: the attributes as `ce_*` headers, the data as the value. */
const binary = (event: CloudEventJson): Message => ({
  key: event.subject,
  value: JSON.stringify(event.data),
  headers: {
    ce_specversion: event.specversion,
    ce_id: event.id,
    ce_source: event.source,
    ce_type: event.type,
    ce_subject: event.subject,
    ce_time: event.time,
    'content-type': 'application/json',
  },
});

/** Comparable form of a stored event: personal data opened with the store's own vault, nothing that depends on when it arrived. */
async function comparable(events: readonly RecordedEvent[], vault: PiiVault) {
  const opened = await vault.unsealFields(
    events.map((e) => ({
      customerId: (e.data as { customerId: string }).customerId,
      data: e.data as Record<string, unknown>,
      fields: (piiFields as Record<string, readonly string[] | undefined>)[publicTypeOf(e.type)] ?? [],
    })),
  );
  return events
    .map((e, i) => ({ id: e.id, type: e.type, streamId: e.streamId, streamVersion: e.streamVersion, data: opened[i].data, cloudEvent: e.metadata.cloudEvent }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

describeWithKafka(`the Kafka ingest topic on ${testBackend}`, () => {
  let kafka: Kafka;
  let producer: Producer;
  const consumers: KafkaIngestConsumer[] = [];
  const paths: WritePath[] = [];

  beforeAll(async () => {
    kafka = createKafka({ brokers: testKafkaBrokers!, clientId: 'cx-ingest-test', eventsTopic: 'unused', ingestTopic: 'unused', deadLetterTopic: 'unused' });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });
  afterAll(async () => {
    for (const consumer of consumers) await consumer.stop();
    await producer?.disconnect();
    for (const path of paths) await path.close();
  });

  async function topics(partitions: number): Promise<{ topic: string; dlq: string; group: string }> {
    const topic = uniqueTopic('cx.ingest');
    const dlq = `${topic}.dlq`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }, { topic: dlq, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    return { topic, dlq, group: `${topic}.group` };
  }

  function consumer(path: WritePath, t: { topic: string; dlq: string; group: string }, options: { chunkSize?: number; metrics?: Metrics } = {}) {
    const c = new KafkaIngestConsumer({
      kafka,
      topic: t.topic,
      deadLetterTopic: t.dlq,
      groupId: t.group,
      ingest: path.ingest,
      metrics: options.metrics,
      chunkSize: options.chunkSize,
      retryMinMs: 50,
      retryMaxMs: 500,
    });
    consumers.push(c);
    return c;
  }

  async function writePath(metrics?: Metrics): Promise<WritePath> {
    const path = await openWritePath(metrics);
    paths.push(path);
    return path;
  }

  async function readTopic(topic: string, count: number): Promise<KafkaMessage[]> {
    const reader = kafka.consumer({ groupId: `${topic}.reader-${randomUUID().slice(0, 6)}` });
    const messages: KafkaMessage[] = [];
    await reader.connect();
    try {
      await reader.subscribe({ topic, fromBeginning: true });
      await reader.run({ eachMessage: async ({ message }) => void messages.push(message) });
      await until(`${count} messages on ${topic}`, async () => messages.length >= count);
      return messages;
    } finally {
      await reader.disconnect();
    }
  }

  async function committedOffsets(group: string, topic: string): Promise<number[]> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return entry.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
    } finally {
      await admin.disconnect();
    }
  }

  async function highWatermark(topic: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  it('stores valid events, in either CloudEvents mode, as POST /v1/events stores them', async () => {
    const t = await topics(3);
    const journeys = generateJourneys({ customers: 12, days: 30, seed: 5 });
    expect(journeys.length).toBeGreaterThan(50);
    const viaKafka = await writePath();
    const viaHttp = await writePath();

    // The reference: the write path of POST /v1/events, one batch as a client would send it.
    const reference = await viaHttp.ingest.ingest(journeys, { correlationId: 'reference' });
    expect(reference.rejected).toBe(0);

    // Every other customer's events in binary mode; keyed by customer, so each customer's events stay in order.
    const customers = [...new Set(journeys.map((e) => e.subject))];
    const binaryCustomers = new Set(customers.filter((_, i) => i % 2 === 1));
    await producer.send({ topic: t.topic, messages: journeys.map((e) => (binaryCustomers.has(e.subject) ? binary(e) : structured(e))) });

    const c = consumer(viaKafka, t, { chunkSize: 40 });
    await c.start();
    const stored = await until('every event stored', async () => {
      const events = await viaKafka.store.readAll(0n);
      return events.length >= reference.accepted ? events : undefined;
    });
    expect(await comparable(stored, viaKafka.vault)).toEqual(await comparable(await viaHttp.store.readAll(0n), viaHttp.vault));
    expect(stored.some((e) => JSON.stringify(e.data).includes('pii:v1:'))).toBe(true);
    await until('the offsets committed', async () => (await committedOffsets(t.group, t.topic)).reduce((a, b) => a + b, 0) === journeys.length);
    expect(c.state()).toMatchObject({ status: 'up', accepted: journeys.length, duplicates: 0, deadLettered: 0, group: t.group });
    expect(c.state().partitions).toEqual([0, 1, 2]);
  });

  it('stores a CloudEvent sent three times once, and acknowledges the copies', async () => {
    const t = await topics(1);
    const path = await writePath();
    const event: CloudEventJson = {
      specversion: '1.0',
      id: `mom-${randomUUID()}`,
      source: 'urn:cx:web',
      type: 'cx.moment.recorded',
      subject: 'cust-dup-1',
      time: '2026-10-01T10:00:00Z',
      data: { kind: 'information', channel: 'web' },
    };
    await producer.send({ topic: t.topic, messages: [structured(event)] });
    await producer.send({ topic: t.topic, messages: [binary(event), structured(event)] });
    const c = consumer(path, t, { chunkSize: 1 });
    await c.start();
    await until('three messages handled', async () => (await committedOffsets(t.group, t.topic))[0] === 3);
    expect(c.state()).toMatchObject({ accepted: 1, duplicates: 2, deadLettered: 0 });
    const stored = await path.store.readAll(0n);
    expect(stored.map((e) => (e.metadata.cloudEvent as { id: string }).id)).toEqual([event.id]);
  });

  it('dead-letters invalid messages with their original bytes, headers and the reason, and stores the rest', async () => {
    const t = await topics(1);
    const metrics = new Metrics({ process: false });
    const path = await writePath(metrics);
    const subject = `cust-dlq-${randomUUID().slice(0, 8)}`;
    const complaintId = `cmp-${randomUUID().slice(0, 8)}`;
    const ce = (type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      specversion: '1.0',
      id: randomUUID(),
      source: 'urn:cx:crm',
      type,
      subject,
      data,
      ...extra,
    });
    const badBytes = Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0xff, 0xfe, 0x00]);
    const traceHeader = Buffer.from([0x00, 0x01, 0xfe, 0xff]);
    const { subject: _dropped, ...withoutSubject } = ce('cx.moment.recorded', { kind: 'billing', channel: 'web' });
    const sent: Array<{ message: Message; reason?: Partial<DeadLetterReason> & { field?: string } }> = [
      { message: { key: Buffer.from('raw-key-\u00ff'), value: badBytes, headers: { trace: traceHeader, 'x-origin': 'legacy-crm' } }, reason: { kind: 'invalid_json' } },
      { message: structured(ce('cx.complaint.filed', { complaintId, category: 'billing', channel: 'web', severity: 'high' })) },
      { message: { ...structured(withoutSubject, 'key-no-subject'), headers: { 'content-type': 'application/cloudevents+json', trace: 'abc' } }, reason: { kind: 'rejected', field: 'subject' } },
      { message: structured(ce('cx.unknown.thing', { anything: 1 })), reason: { kind: 'rejected', field: 'type' } },
      { message: structured(ce('cx.complaint.confirmed', { complaintId })), reason: { kind: 'rejected', field: 'type', current: { stream: `complaint-${complaintId}`, status: 'filed' } } },
      { message: structured(ce('cx.moment.recorded', { kind: 'billing', channel: 'carrier-pigeon' })), reason: { kind: 'rejected', field: 'data.channel' } },
      {
        message: { key: subject, value: Buffer.from('not json {'), headers: { ce_specversion: '1.0', ce_id: 'bin-1', ce_source: 'urn:cx:crm', ce_type: 'cx.moment.recorded', ce_subject: subject } },
        reason: { kind: 'invalid_json' },
      },
      { message: structured(ce('cx.moment.recorded', { kind: 'billing', channel: 'web' })) },
    ];
    const offsets: string[] = [];
    for (const { message } of sent) offsets.push((await producer.send({ topic: t.topic, messages: [message] }))[0].baseOffset!);

    const c = consumer(path, t, { chunkSize: 3, metrics });
    await c.start();
    const invalid = sent.map((s, i) => ({ ...s, offset: offsets[i] })).filter((s) => s.reason);
    const letters = await readTopic(t.dlq, invalid.length);
    expect(letters).toHaveLength(invalid.length);

    const asBuffer = (value: IHeaders[string] | Message['value'] | Message['key']) =>
      value === null || value === undefined ? value : Buffer.isBuffer(value) ? value : Buffer.from(String(value));
    for (const [i, expected] of invalid.entries()) {
      const letter = letters[i];
      expect(letter.key).toEqual(asBuffer(expected.message.key));
      expect(letter.value).toEqual(asBuffer(expected.message.value));
      for (const [name, value] of Object.entries(expected.message.headers ?? {})) expect(letter.headers?.[name]).toEqual(asBuffer(value));
      expect(String(letter.headers?.cx_dlq_source_topic)).toBe(t.topic);
      expect(String(letter.headers?.cx_dlq_partition)).toBe('0');
      expect(String(letter.headers?.cx_dlq_offset)).toBe(expected.offset);
      expect(Number.isNaN(Date.parse(String(letter.headers?.cx_dlq_at)))).toBe(false);
      const reason = JSON.parse(String(letter.headers?.cx_dlq_reason)) as DeadLetterReason;
      expect(reason.kind).toBe(expected.reason!.kind);
      expect(reason.message.length).toBeGreaterThan(0);
      if (expected.reason!.field) expect(reason.errors?.map((e) => e.field)).toContain(expected.reason!.field);
      if (expected.reason!.current) expect(reason.current).toEqual(expected.reason!.current);
    }

    // The valid ones were stored; every offset was committed after its message was stored or dead-lettered.
    await until('all offsets committed', async () => (await committedOffsets(t.group, t.topic))[0] === sent.length);
    const stored = await path.store.readAll(0n);
    expect(stored.map((e) => e.type).sort()).toEqual(['complaint.filed.v1', 'moment.recorded.v1']);
    expect(c.state()).toMatchObject({ accepted: 2, duplicates: 0, deadLettered: invalid.length });
    const exposition = parseExposition(await metrics.exposition());
    const byReason = Object.fromEntries(samplesOf(exposition, 'cx_kafka_dead_lettered_total').map((s) => [s.labels.reason, s.value]));
    expect(byReason).toEqual({ invalid_json: 2, rejected: 4 });
    expect(samplesOf(exposition, 'cx_kafka_ingested_total', { status: 'accepted' })[0].value).toBe(2);
  });

  it('neither loses nor stores twice across a restart of the consumer: offsets move only after the store', async () => {
    const t = await topics(2);
    const path = await writePath();
    const moment = (n: number): CloudEventJson => ({
      specversion: '1.0',
      id: `restart-${n}`,
      source: 'urn:cx:app',
      type: 'cx.moment.recorded',
      subject: `cust-restart-${n % 6}`,
      time: new Date(Date.UTC(2026, 9, 1) + n * 60_000).toISOString(),
      data: { kind: 'information', channel: 'app' },
    });
    const first = Array.from({ length: 60 }, (_, n) => moment(n));
    const second = Array.from({ length: 40 }, (_, n) => moment(60 + n));
    await producer.send({ topic: t.topic, messages: first.map((e) => structured(e)) });

    const a = consumer(path, t, { chunkSize: 5 });
    await a.start();
    await until('some events stored', async () => (await path.store.readAll(0n)).length >= 20);
    await a.stop();
    const afterA = (await path.store.readAll(0n)).length;
    expect(a.state().accepted).toBe(afterA);

    await producer.send({ topic: t.topic, messages: second.map((e) => structured(e)) });
    const b = consumer(path, t, { chunkSize: 5 });
    await b.start();
    const stored = await until('every event stored', async () => {
      const events = await path.store.readAll(0n);
      return events.length >= 100 ? events : undefined;
    });
    await until('all offsets committed', async () => (await committedOffsets(t.group, t.topic)).reduce((x, y) => x + y, 0) === 100);
    // Every event exactly once; the second consumer started where the first committed: no message handled twice.
    const ids = stored.map((e) => (e.metadata.cloudEvent as { id: string }).id);
    expect(new Set(ids).size).toBe(100);
    expect(ids.sort()).toEqual([...first, ...second].map((e) => e.id).sort());
    expect(b.state()).toMatchObject({ accepted: 100 - afterA, duplicates: 0 });
  });

  it('retries while the database fails, without dead-lettering or committing, then stores', async () => {
    const t = await topics(1);
    const path = await writePath();
    const events = Array.from({ length: 3 }, (_, n) => ({
      specversion: '1.0',
      id: `outage-${n}-${randomUUID().slice(0, 6)}`,
      source: 'urn:cx:app',
      type: 'cx.moment.recorded',
      subject: 'cust-outage',
      data: { kind: 'information', channel: 'app' },
    }));
    // A real failure of the real database: the log's table is gone for a while.
    await path.database.pool.query('ALTER TABLE cx_events RENAME TO cx_events_away');
    try {
      await producer.send({ topic: t.topic, messages: events.map((e) => structured(e)) });
      const c = consumer(path, t);
      await c.start();
      const failing = await until('the consumer to report the failure', async () => {
        const state = c.state();
        return state.status === 'degraded' && state.lastError ? state : undefined;
      });
      expect(failing.lastError?.message).toMatch(/cx_events/);
      // Several attempts later: still nothing dead-lettered, nothing committed.
      await until('a few retries', async () => c.state().lastError && Date.parse(c.state().lastError!.at) > Date.parse(failing.lastError!.at));
      expect(await highWatermark(t.dlq)).toBe(0);
      expect(await committedOffsets(t.group, t.topic)).toEqual([-1]);
      expect(c.state()).toMatchObject({ accepted: 0, deadLettered: 0 });
    } finally {
      await path.database.pool.query('ALTER TABLE cx_events_away RENAME TO cx_events');
    }
    await until('the offsets committed', async () => (await committedOffsets(t.group, t.topic))[0] === 3);
    expect((await path.store.readAll(0n)).map((e) => (e.metadata.cloudEvent as { id: string }).id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(consumers.at(-1)!.state()).toMatchObject({ status: 'up', accepted: 3, deadLettered: 0 });
    expect(await highWatermark(t.dlq)).toBe(0);
  });
});
