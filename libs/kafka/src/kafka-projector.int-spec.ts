import type { RecordedEvent } from '@cx/event-store';
import { allProjections } from '@cx/projections';
import { describeWithKafka, openTestDatabase, type TestDatabase, testBackend, testKafkaBrokers, uniqueTopic } from '@cx/testing';
import type { Kafka } from 'kafkajs';
import { toKafkaMessage } from './event-message.js';
import { createKafka } from './kafka-client.js';
import { KafkaProjector } from './kafka-projector.js';
import { caughtUp, foldFromLog, kafkaProjectorSchema, publish, seedLog, send, snapshot, until } from './kafka-projector.testing.js';

describeWithKafka(`the Kafka projector on ${testBackend}`, () => {
  let kafka: Kafka;
  let log: TestDatabase;
  let events: RecordedEvent[];
  let reference: Record<string, string[]>;
  const databases: TestDatabase[] = [];
  const projectors: KafkaProjector[] = [];

  beforeAll(async () => {
    kafka = createKafka({ brokers: testKafkaBrokers!, clientId: 'cx-projector-test', eventsTopic: 'unused', ingestTopic: 'unused', deadLetterTopic: 'unused' });
    ({ database: log, events } = await seedLog({ customers: 60, days: 45, seed: 21 }));
    await foldFromLog(log, events[events.length - 1].position);
    reference = await snapshot(log);
  }, 300_000);
  afterAll(async () => {
    for (const projector of projectors) await projector.stop();
    for (const database of databases) await database.close();
    await log?.close();
  });

  async function readModels(): Promise<TestDatabase> {
    const database = await openTestDatabase({ ...kafkaProjectorSchema, poolSize: 4 });
    databases.push(database);
    return database;
  }

  function projector(database: TestDatabase, topic: string, group: string, batchSize = 1000): KafkaProjector {
    const p = new KafkaProjector({ kafka, topic, groupId: group, dataSource: database.dataSource, projections: allProjections, batchSize, retryMinMs: 50, retryMaxMs: 500 });
    projectors.push(p);
    return p;
  }

  const appliedInDatabase = async (database: TestDatabase, group: string) =>
    Number((await database.pool.query<{ n: string }>('SELECT coalesce(sum(events_applied), 0)::text AS n FROM cx_kafka_consumer_offsets WHERE group_id = $1', [group])).rows[0].n);

  it('folds every event exactly once across a restart and relay re-sends, into the read models the log gives', async () => {
    expect(events.length).toBeGreaterThan(1000);
    const topic = uniqueTopic('cx.events');
    const group = `${topic}.projector`;
    await publish(kafka, topic, 4, events);
    // A relay re-send after a lost acknowledgement: a stretch of events again, each on its customer's partition.
    const resent = events.slice(200, 500);
    await send(kafka, topic, resent);
    const database = await readModels();

    // Small transactions, stopped half-way: the second member resumes from the offsets stored with the rows.
    const first = projector(database, topic, group, 50);
    await first.start();
    await until('some events folded', async () => (await appliedInDatabase(database, group)) > events.length / 3);
    await first.stop();
    const second = projector(database, topic, group, 50);
    await second.start();
    await until('the end of every partition', () => caughtUp(database, kafka, topic, group));

    expect(await snapshot(database)).toEqual(reference);
    expect(await appliedInDatabase(database, group)).toBe(events.length);
    const firstState = await first.state();
    const secondState = await second.state();
    expect(firstState.eventsApplied + secondState.eventsApplied).toBe(events.length);
    expect(firstState.duplicatesSkipped + secondState.duplicatesSkipped).toBe(resent.length);
    expect(secondState).toMatchObject({ status: 'up', invalidMessages: 0 });
    expect(secondState.partitions.map((p) => [p.partition, p.lag])).toEqual([[0, 0], [1, 0], [2, 0], [3, 0]]);
    // Every partition's highest position is the highest of the events keyed to it.
    const stored = await database.pool.query<{ max_position: string }>('SELECT max(max_position)::text AS max_position FROM cx_kafka_consumer_offsets WHERE group_id = $1', [group]);
    expect(BigInt(stored.rows[0].max_position)).toBe(events[events.length - 1].position);
  }, 300_000);

  it("takes the stored offsets over the group's committed ones: a member whose Kafka offsets went back folds nothing twice", async () => {
    const topic = uniqueTopic('cx.events');
    const group = `${topic}.projector`;
    await publish(kafka, topic, 4, events);
    const database = await readModels();
    const first = projector(database, topic, group);
    await first.start();
    await until('the end of every partition', () => caughtUp(database, kafka, topic, group));
    await first.stop();
    const before = await snapshot(database);
    expect(before).toEqual(reference);

    // The group's committed offsets back to the start (as after a lost commit, or a reset by an operator).
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: group, topic, partitions: [0, 1, 2, 3].map((partition) => ({ partition, offset: '0' })) });
    await admin.disconnect();
    // One more event arrives, so there is something new to fold after the seek.
    const extra = { ...events[events.length - 1], id: '00000000-0000-4000-8000-000000000001', position: events[events.length - 1].position + 1000n };
    await send(kafka, topic, [extra]);

    const second = projector(database, topic, group);
    await second.start();
    await until('the end of every partition', () => caughtUp(database, kafka, topic, group));
    await until('the member to report its partitions', async () => (await second.state()).partitions.length === 4);
    expect(await appliedInDatabase(database, group)).toBe(events.length + 1);
    expect((await second.state()).eventsApplied).toBe(1);
    const journeyRows = (await snapshot(database)).rm_journey;
    expect(journeyRows.length).toBe(before.rm_journey.length + 1);
    expect(journeyRows.some((row) => JSON.parse(row).position === Number(extra.position))).toBe(true);
  }, 300_000);

  it('skips a message that is not a cx.events message, and counts it', async () => {
    const topic = uniqueTopic('cx.events');
    const group = `${topic}.projector`;
    const some = events.slice(0, 20);
    await publish(kafka, topic, 1, some.slice(0, 10));
    const producer = kafka.producer();
    await producer.connect();
    const broken = toKafkaMessage(some[10]);
    await producer.send({ topic, messages: [{ key: broken.key, value: broken.value, headers: { ...broken.headers, cx_position: 'not-a-position' } }] });
    await producer.disconnect();
    await send(kafka, topic, some.slice(10));
    const database = await readModels();
    const p = projector(database, topic, group);
    await p.start();
    await until('the end of the partition', () => caughtUp(database, kafka, topic, group));
    expect(await p.state()).toMatchObject({ eventsApplied: 20, invalidMessages: 1, duplicatesSkipped: 0 });
  }, 120_000);
});
