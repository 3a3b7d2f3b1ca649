import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { type KafkaConfig, MasterKey, PiiVault } from '@cx/platform';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { createKafka } from './kafka-client.js';

export const kafkaConfig = (brokers: string[]): KafkaConfig => ({
  brokers,
  clientId: 'cx-test',
  eventsTopic: 'unused',
  ingestTopic: 'unused',
  deadLetterTopic: 'unused',
});

export const testKafka = (brokers: string[]): Kafka => createKafka(kafkaConfig(brokers));

/** A message as a consumer reads it back: header values as strings. */
export type Consumed = {
  partition: number;
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
};

/**
 * Everything the topic holds now: reads every partition from the start up to the high watermark
 * taken when called. Duplicates, if any, are returned too, in each partition's order.
 */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<Consumed[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  const messages: Consumed[] = [];
  if (remaining.size === 0) return messages;
  const consumer = kafka.consumer({ groupId: `${topic}.reader-${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${messages.length} messages of ${topic}; partitions left: ${[...remaining.keys()].join(', ')}`)), timeoutMs);
      void consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const high = remaining.get(partition);
            if (high === undefined || BigInt(message.offset) >= high) return;
            messages.push({
              partition,
              offset: message.offset,
              key: String(message.key),
              value: String(message.value),
              headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)])),
            });
            if (BigInt(message.offset) + 1n >= high) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** The real write path (validation, PII sealed per customer, deciding) on a test database. */
export function writePath(pool: Pool): { store: PostgresEventStore; ingest: IngestService } {
  const store = new PostgresEventStore({ pool });
  const vault = new PiiVault({ pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
  return { store, ingest: new IngestService(store, vault, createMomentCatalogue()) };
}

const MOMENT_KINDS = ['billing', 'incident', 'advice', 'payment'];

/**
 * CloudEvents for `customers` customers: each one registered (a sealed name) then `moments`
 * moments, interleaved across customers so their events share batches.
 */
export function journeyEvents(customers: readonly string[], moments: number): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = customers.map((subject) => ({
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:cx:spec',
    type: 'cx.customer.registered',
    subject,
    time: '2026-03-01T09:00:00Z',
    data: { name: `Person ${subject}`, email: `${subject}@example.com` },
  }));
  for (let i = 0; i < moments; i++) {
    for (const subject of customers) {
      events.push({
        specversion: '1.0',
        id: randomUUID(),
        source: 'urn:cx:spec',
        type: 'cx.moment.recorded',
        subject,
        data: { kind: MOMENT_KINDS[i % MOMENT_KINDS.length], channel: 'web', outcome: i % 3 === 0 ? 'negative' : 'positive' },
      });
    }
  }
  return events;
}

/** Stores the events through the write path in batches; every one must be accepted. */
export async function ingestAll(ingest: IngestService, events: ReadonlyArray<Record<string, unknown>>, correlationId: string, batch = 100): Promise<void> {
  for (let i = 0; i < events.length; i += batch) {
    const outcome = await ingest.ingest(events.slice(i, i + batch), { correlationId });
    const refused = outcome.results.find((r) => r.status !== 'accepted');
    if (refused) throw new Error(`not accepted: ${JSON.stringify(refused)}`);
  }
}

/** Waits until `done()` holds, polling; fails with `what` after the timeout. */
export async function eventually(done: () => boolean | Promise<boolean>, what: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The delivery properties every reader may rely on, checked over what a topic holds against the
 * stored events: each stored event arrives (by ce_id); a customer's events are in one partition
 * and, first arrivals taken, in log order; a repeat is the same event (same ce_id, position and
 * value). Returns how many repeats there were.
 */
export function checkDelivery(messages: readonly Consumed[], stored: ReadonlyArray<{ id: string; position: bigint }>): { duplicates: number; missing: string[]; problems: string[] } {
  const problems: string[] = [];
  const first = new Map<string, Consumed>();
  let duplicates = 0;
  const partitionOfKey = new Map<string, number>();
  const lastPositionOfKey = new Map<string, bigint>();
  const ordered = [...messages].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  for (const message of ordered) {
    const id = message.headers.ce_id;
    const original = first.get(id);
    if (original) {
      duplicates++;
      if (original.headers.cx_position !== message.headers.cx_position || original.value !== message.value || original.key !== message.key) {
        problems.push(`ce_id ${id} repeated with different content`);
      }
      continue;
    }
    first.set(id, message);
    const partition = partitionOfKey.get(message.key);
    if (partition !== undefined && partition !== message.partition) problems.push(`customer ${message.key} in partitions ${partition} and ${message.partition}`);
    partitionOfKey.set(message.key, message.partition);
    const position = BigInt(message.headers.cx_position);
    const last = lastPositionOfKey.get(message.key);
    if (last !== undefined && position <= last) problems.push(`customer ${message.key}: position ${position} after ${last}`);
    lastPositionOfKey.set(message.key, position);
  }
  const missing = stored.filter((e) => !first.has(e.id)).map((e) => e.id);
  const storedIds = new Set(stored.map((e) => e.id));
  const unknown = [...first.keys()].filter((id) => !storedIds.has(id));
  if (unknown.length > 0) problems.push(`${unknown.length} messages of events not stored`);
  for (const e of stored) {
    const message = first.get(e.id);
    if (message && message.headers.cx_position !== e.position.toString()) problems.push(`ce_id ${e.id}: cx_position ${message.headers.cx_position}, stored at ${e.position}`);
  }
  return { duplicates, missing, problems };
}
