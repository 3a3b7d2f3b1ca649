import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore, type RecordedEvent } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { type Database, MasterKey, PiiVault } from '@cx/platform';
import { allProjections, ProjectionRunner, readModelSchema } from '@cx/projections';
import { generateJourneys, type JourneyOptions, lastCommittedPosition, openTestDatabase, type TestDatabase } from '@cx/testing';
import { type Kafka, Partitioners } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { kafkaConsumerMigrations } from './consumer.migrations.js';
import { toKafkaMessage } from './event-message.js';
import { relayMigrations } from './relay.migrations.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The read models' schema with the relay's checkpoints and the Kafka consumers' offsets: what the projector app migrates. */
export const kafkaProjectorSchema = { ...readModelSchema, migrations: [...readModelSchema.migrations, ...relayMigrations, ...kafkaConsumerMigrations] };

/** A log of realistic journeys, written through the ingest path (PII sealed), and every event read back in log order. */
export async function seedLog(journeys: JourneyOptions): Promise<{ database: TestDatabase; events: RecordedEvent[] }> {
  const database = await openTestDatabase({ ...kafkaProjectorSchema, poolSize: 4 });
  const store = new PostgresEventStore({ pool: database.pool });
  const vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
  const ingest = new IngestService(store, vault, createMomentCatalogue());
  const cloudEvents = generateJourneys(journeys);
  for (let i = 0; i < cloudEvents.length; i += 500) {
    const outcome = await ingest.ingest(cloudEvents.slice(i, i + 500), { correlationId: `seed-${i}` });
    if (outcome.rejected > 0) throw new Error(`seeding rejected ${outcome.rejected} events`);
  }
  const head = await lastCommittedPosition(database.pool);
  const events: RecordedEvent[] = [];
  for (let after = 0n; after < head; ) {
    const page = await store.readAll(after, { limit: 1000 });
    if (page.length === 0) {
      await sleep(50);
      continue;
    }
    events.push(...page);
    after = page[page.length - 1].position;
  }
  await store.close();
  return { database, events };
}

/** Every read model folded from the log by the projection runner, up to the last event. */
export async function foldFromLog(database: Database, head: bigint): Promise<void> {
  const runner = new ProjectionRunner({
    store: new PostgresEventStore({ pool: database.pool }),
    dataSource: database.dataSource,
    pool: database.pool,
    projections: allProjections,
    lease: false,
    batchSize: 1000,
  });
  await runner.start();
  try {
    await until(`the log fold to reach ${head}`, async () => (await runner.lowestPosition()) >= head);
  } finally {
    await runner.stop();
  }
}

/** Every read model table's rows as JSON, in a canonical order. */
export async function snapshot(database: Pick<Database, 'pool'>): Promise<Record<string, string[]>> {
  const tables: Record<string, string[]> = {};
  for (const table of allProjections.flatMap((p) => p.tables)) {
    const { rows } = await database.pool.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY 1`);
    tables[table] = rows.map((r) => r.row);
  }
  return tables;
}

/** Creates the topic and publishes the events as the relay does: the cx.events format, keyed by customer, the default partitioner. */
export async function publish(kafka: Kafka, topic: string, partitions: number, events: readonly RecordedEvent[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  await send(kafka, topic, events);
}

export async function send(kafka: Kafka, topic: string, events: readonly RecordedEvent[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 500) await producer.send({ topic, acks: -1, messages: events.slice(i, i + 500).map(toKafkaMessage) });
  } finally {
    await producer.disconnect();
  }
}

/** The broker's end of each partition. */
export async function topicEnds(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** The stored offsets of a group reached the end of every partition. */
export async function caughtUp(database: Pick<Database, 'pool'>, kafka: Kafka, topic: string, group: string): Promise<boolean> {
  const ends = await topicEnds(kafka, topic);
  const { rows } = await database.pool.query<{ partition: number; next_offset: string }>(
    'SELECT partition, next_offset::text FROM cx_kafka_consumer_offsets WHERE group_id = $1 AND topic = $2',
    [group, topic],
  );
  const stored = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
  return [...ends].every(([partition, end]) => end === 0n || stored.get(partition) === end);
}
