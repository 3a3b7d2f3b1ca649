import { parseExposition, samplesOf } from '@cx/http';
import { describeWithKafka, startTestApp, type TestApp, testBackend, testKafkaBrokers, uniqueTopic } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import { createKafka } from './kafka-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithKafka(`the all-in-one app consuming the ingest topic on ${testBackend}`, () => {
  let app: TestApp | undefined;
  afterAll(async () => {
    await app?.close();
  });

  it('stores what arrives on the topic, dead-letters the rest, and reports both in /health and /metrics', async () => {
    const topic = uniqueTopic('cx.ingest');
    const kafka = createKafka({ brokers: testKafkaBrokers!, clientId: 'cx-e2e', eventsTopic: 'unused', ingestTopic: topic, deadLetterTopic: `${topic}.dlq` });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }, { topic: `${topic}.dlq`, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const subject = `cust-e2e-${randomUUID().slice(0, 8)}`;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: subject, value: JSON.stringify({ specversion: '1.0', id: 'reg-1', source: 'urn:cx:crm', type: 'cx.customer.registered', subject, data: { name: 'Ana Kafka' } }) },
        { key: subject, value: JSON.stringify({ specversion: '1.0', id: 'm-1', source: 'urn:cx:web', type: 'cx.moment.recorded', subject, data: { kind: 'information', channel: 'web' } }) },
        { key: subject, value: 'this is not a CloudEvent' },
      ],
    });
    await producer.disconnect();

    app = await startTestApp({
      KAFKA_BROKERS: testKafkaBrokers!.join(','),
      CX_KAFKA_INGEST_TOPIC: topic,
      CX_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      CX_KAFKA_INGEST_GROUP: `${topic}.group`,
      CX_KAFKA_EVENTS_TOPIC: `${topic}.events`,
      CX_API_KEYS: 'e2e-key-0123456789abcdef:read+ingest+ops',
    });
    const deadline = Date.now() + 60_000;
    let health: { 'kafka-ingest'?: { status: string; accepted: number; deadLettered: number; group: string; partitions: number[] } } = {};
    while (Date.now() < deadline) {
      health = (await (await fetch(`${app.url}/health`)).json()) as typeof health;
      const check = health['kafka-ingest'];
      if (check && check.accepted + check.deadLettered >= 3) break;
      await sleep(200);
    }
    expect(health['kafka-ingest']).toMatchObject({ status: 'up', accepted: 2, deadLettered: 1, group: `${topic}.group`, partitions: [0, 1] });

    const metrics = parseExposition(await (await fetch(`${app.url}/metrics`)).text());
    expect(samplesOf(metrics, 'cx_kafka_dead_lettered_total', { reason: 'invalid_json' })[0]?.value).toBe(1);
    expect(samplesOf(metrics, 'cx_kafka_ingested_total', { status: 'accepted' })[0]?.value).toBe(2);
    // The same write path as HTTP: counted by type and result like any ingested event.
    expect(samplesOf(metrics, 'cx_ingested_events_total', { type: 'cx.moment.recorded', status: 'accepted' })[0]?.value).toBe(1);

    // Folded like any stored event: the customer's journey, personal data sealed in the log and opened for a reader.
    let events: Array<{ storedType: string; data: Record<string, unknown> }> = [];
    while (Date.now() < deadline && events.length < 2) {
      const reply = await fetch(`${app.url}/v1/customers/${subject}/journey`, { headers: { authorization: 'Bearer e2e-key-0123456789abcdef' } });
      if (reply.status === 200) events = ((await reply.json()) as { events: typeof events }).events;
      else await sleep(200);
    }
    expect(events.map((e) => e.storedType)).toEqual(['customer.registered.v1', 'moment.recorded.v1']);
    expect(events[0].data.name).toBe('Ana Kafka');
  }, 120_000);
});
