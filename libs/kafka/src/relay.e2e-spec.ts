import { jest } from '@jest/globals';
import { parseExposition, samplesOf } from '@cx/http';
import { describeWithKafka, startTestApp, type TestApp, testBackend, testKafkaBrokers, uniqueTopic } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import { eventually, readTopic, testKafka } from './relay.testing.js';

jest.setTimeout(120_000);

const KEY = 'relay-e2e-key-0123456789abcdef';

type KafkaHealth = {
  status: string;
  broker: string;
  relay: { status: string; topic: string; position: string; lagEvents: number; lagSeconds: number; publishedEvents: number };
};

/** The all-in-one app with KAFKA_BROKERS set: what it stores appears on the topic, /health and /metrics say so. */
describeWithKafka(`the all-in-one app publishing to Kafka on ${testBackend}`, () => {
  let app: TestApp;
  const topic = uniqueTopic('cx.events');

  beforeAll(async () => {
    app = await startTestApp({
      KAFKA_BROKERS: testKafkaBrokers!.join(','),
      CX_KAFKA_EVENTS_TOPIC: topic,
      CX_KAFKA_PARTITIONS: '2',
      // The app's ingest-topic consumer too gets topics and a group of its own: a group shared with
      // another file's app would still be rebalancing (kafka-ingest degraded) when this test reads /health.
      CX_KAFKA_INGEST_TOPIC: `${topic}.ingest`,
      CX_KAFKA_DLQ_TOPIC: `${topic}.ingest.dlq`,
      CX_KAFKA_INGEST_GROUP: `${topic}.ingest-group`,
      CX_API_KEYS: `${KEY}:ingest+read+ops`,
      CX_RETENTION_ALERT_INTERVAL_SECONDS: '0',
      CX_TIER_INTERVAL_MINUTES: '0',
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('publishes posted events, reports the relay in /health and counts them in /metrics', async () => {
    const subject = `customer-${randomUUID().slice(0, 8)}`;
    const events = ['incident', 'billing', 'payment'].map((kind) => ({
      specversion: '1.0',
      id: randomUUID(),
      source: 'urn:cx:e2e',
      type: 'cx.moment.recorded',
      subject,
      data: { kind, channel: 'phone' },
    }));
    const response = await fetch(`${app.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(events),
    });
    expect(response.status).toBeLessThan(300);
    const body = (await response.json()) as { position?: string; results?: Array<{ position: string }> };
    const position = body.position ?? body.results!.at(-1)!.position;

    let health: { status: string; kafka: KafkaHealth } | undefined;
    await eventually(
      async () => {
        health = (await (await fetch(`${app.url}/health`)).json()) as typeof health;
        return BigInt(health!.kafka?.relay.position ?? 0) >= BigInt(position) && health!.status === 'ok';
      },
      () => `the relay to reach ${position} and the app to be healthy: ${JSON.stringify(health)}`,
    );
    expect(health).toMatchObject({
      status: 'ok',
      kafka: { status: 'up', broker: 'connected', relay: { status: 'running', topic, lagEvents: 0, lagSeconds: 0, publishedEvents: expect.any(Number) } },
    });
    expect(health!.kafka.relay.publishedEvents).toBeGreaterThanOrEqual(3);

    const metrics = parseExposition(await (await fetch(`${app.url}/metrics`)).text());
    expect(samplesOf(metrics, 'cx_kafka_published_events_total', { topic })[0].value).toBe(health!.kafka.relay.publishedEvents);
    expect(samplesOf(metrics, 'cx_kafka_relay_lag_events', { topic })[0].value).toBe(0);
    expect(samplesOf(metrics, 'cx_kafka_relay_waiting_for_broker', { topic })[0].value).toBe(0);

    const messages = (await readTopic(testKafka(testKafkaBrokers!), topic)).filter((m) => m.key === subject);
    expect(messages.map((m) => JSON.parse(m.value).kind)).toEqual(['incident', 'billing', 'payment']);
    expect(messages.map((m) => m.headers.cx_origin_id)).toEqual(events.map((e) => e.id));
  });
});
