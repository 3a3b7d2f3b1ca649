import { PostgresEventStore, type RecordedEvent } from '@cx/event-store';
import { allProjections } from '@cx/projections';
import { type AppProcess, describeWithKafka, openTestDatabase, startApp, type TestDatabase, testBackend, testKafkaBrokers, uniqueTopic } from '@cx/testing';
import type { Kafka } from 'kafkajs';
import { createKafka } from './kafka-client.js';
import { KafkaProjector, type KafkaProjectorState } from './kafka-projector.js';
import { caughtUp, foldFromLog, kafkaProjectorSchema, seedLog, send, snapshot, until } from './kafka-projector.testing.js';
import { KafkaRelay } from './relay.js';

const PARTITIONS = 4;

/** A member of the projector group: a projector process (real server), or an in-process projector (embedded: one process owns the database). */
type Member = { state(): Promise<KafkaProjectorState>; stop(): Promise<void> };

/**
 * The same log folded twice: by the projection runner following the log (database A), and by two
 * members of one consumer group reading what the relay published to a topic of 4 partitions
 * (database B). Every read model table must come out identical, row by row and column by column:
 * no column is excluded, as every read model derives its columns from the events alone (log
 * positions, event ids and times, never the time of folding).
 */
describeWithKafka(`two projectors in one consumer group on ${testBackend}`, () => {
  let kafka: Kafka;
  let log: TestDatabase | undefined;
  let models: TestDatabase | undefined;
  const members: Member[] = [];

  beforeAll(() => {
    kafka = createKafka({ brokers: testKafkaBrokers!, clientId: 'cx-projector-e2e', eventsTopic: 'unused', ingestTopic: 'unused', deadLetterTopic: 'unused' });
  });
  afterAll(async () => {
    for (const member of members) await member.stop().catch(() => undefined);
    await models?.close();
    await log?.close();
  });

  async function processMember(database: TestDatabase, topic: string, group: string): Promise<Member> {
    const app: AppProcess = await startApp(
      'dist/apps/projector/src/main.js',
      {
        DATABASE_URL: database.url!,
        CX_MASTER_KEY: '',
        KAFKA_BROKERS: testKafkaBrokers!.join(','),
        CX_PROJECTOR_SOURCE: 'kafka',
        CX_KAFKA_EVENTS_TOPIC: topic,
        CX_KAFKA_PROJECTOR_GROUP: group,
        CX_PROJECTION_BATCH_SIZE: '100',
      },
      60_000,
    );
    return {
      async state() {
        const health = (await (await fetch(`${app.url}/health`)).json()) as { 'kafka-projector': KafkaProjectorState; projections?: unknown };
        // Kafka mode: the log runner does not run in this process.
        expect(health.projections).toBeUndefined();
        return health['kafka-projector'];
      },
      async stop() {
        expect(await app.stop()).toBe(0);
      },
    };
  }

  async function inProcessMember(database: TestDatabase, topic: string, group: string): Promise<Member> {
    const projector = new KafkaProjector({ kafka, topic, groupId: group, dataSource: database.dataSource, projections: allProjections, batchSize: 100 });
    await projector.start();
    return { state: () => projector.state(), stop: () => projector.stop() };
  }

  it('folds what the relay published into the read models the log runner folds, the partitions shared between both', async () => {
    let events: RecordedEvent[];
    ({ database: log, events } = await seedLog({ customers: 150, days: 60, seed: 33 }));
    const head = events[events.length - 1].position;
    await foldFromLog(log, head);
    const reference = await snapshot(log);
    // The journeys fill the customer, moment, answer, complaint, journey and payment tables (no changes, tiers or alerts are recorded).
    const filled = ['rm_customers', 'rm_customer_channels', 'rm_moments', 'rm_feedback', 'rm_complaints', 'rm_journey', 'rm_customer_payments', 'rm_retention_customers'];
    expect(filled.filter((table) => (reference[table]?.length ?? 0) === 0)).toEqual([]);

    const topic = uniqueTopic('cx.events');
    const group = `${topic}.projector`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    await admin.disconnect();

    // Both members join before anything is published, so both fold.
    models = await openTestDatabase({ ...kafkaProjectorSchema, poolSize: 4 });
    const member = testBackend === 'postgres' ? processMember : inProcessMember;
    members.push(await member(models, topic, group), await member(models, topic, group));
    const assigned = await until('both members to hold partitions', async () => {
      const states = await Promise.all(members.map((m) => m.state()));
      const partitions = states.map((s) => s.partitions.map((p) => p.partition));
      return partitions.every((p) => p.length > 0) && partitions.flat().length === PARTITIONS ? partitions : undefined;
    });
    expect(assigned.flat().sort()).toEqual([0, 1, 2, 3]);

    // The relay publishes database A's log; then a stretch of it again, as a relay re-sends after a lost acknowledgement.
    const relay = new KafkaRelay({
      store: new PostgresEventStore({ pool: log.pool }),
      pool: log.pool,
      kafka,
      topic,
      partitions: PARTITIONS,
      lease: testBackend === 'postgres' ? 'database' : 'process',
    });
    await relay.start();
    await until('the relay to publish the whole log', async () => relay.position >= head);
    await relay.stop();
    await send(kafka, topic, events.slice(1000, 1400));

    await until('the group to fold every partition to its end', () => caughtUp(models!, kafka, topic, group));
    const states = await Promise.all(members.map((m) => m.state()));
    for (const state of states) {
      expect(state).toMatchObject({ status: 'up', group, topic, invalidMessages: 0 });
      expect(state.eventsApplied).toBeGreaterThan(0);
      expect(state.partitions.every((p) => p.lag === 0)).toBe(true);
    }
    expect(states.reduce((sum, s) => sum + s.eventsApplied, 0)).toBe(events.length);
    expect(states.reduce((sum, s) => sum + s.duplicatesSkipped, 0)).toBe(400);
    while (members.length > 0) await members.pop()!.stop();

    const folded = await snapshot(models);
    for (const table of Object.keys(reference)) {
      expect({ table, rows: folded[table].length }).toEqual({ table, rows: reference[table].length });
      expect(folded[table]).toEqual(reference[table]);
    }
  }, 300_000);
});
