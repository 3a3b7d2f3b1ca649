import { jest } from '@jest/globals';
import type { PostgresEventStore, RecordedEvent } from '@cx/event-store';
import type { IngestService } from '@cx/ingest';
import { describeWithKafka, lastCommittedPosition, openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { KafkaRelay } from './relay.js';
import { relayMigrations } from './relay.migrations.js';
import { checkDelivery, eventually, ingestAll, journeyEvents, readTopic, testKafka, writePath } from './relay.testing.js';

jest.setTimeout(180_000);

const script = resolve(dirname(fileURLToPath(import.meta.url)), '../../../deploy/local/kafka.sh');

/** A free port whose successor (the broker's controller port) is free too. */
async function freePortPair(): Promise<number> {
  const listen = (port: number) =>
    new Promise<number | undefined>((done) => {
      const server = createServer();
      server.once('error', () => done(undefined));
      server.listen(port, '127.0.0.1', () => {
        const taken = (server.address() as { port: number }).port;
        server.close(() => done(taken));
      });
    });
  for (;;) {
    const port = await listen(0);
    if (port && port < 65_000 && (await listen(port + 1))) return port;
  }
}

/**
 * A broker of this test's own (never the shared one): stopped and started again while the relay
 * publishes to it.
 */
describeWithKafka(`the Kafka relay through a broker outage on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let ingest: IngestService;
  let kafka: Kafka;
  let relay: KafkaRelay;
  let env: NodeJS.ProcessEnv;
  const logs: Array<{ level: string; message: string }> = [];
  const broker = (command: 'start' | 'stop' | 'reset') => promisify(execFile)('bash', [script, command], { env, timeout: 120_000 });

  beforeAll(async () => {
    const port = await freePortPair();
    env = { ...process.env, KAFKA_PORT: String(port), CX_KAFKA_DIR: mkdtempSync(join(tmpdir(), 'cx-kafka-outage-')) };
    await broker('start');
    database = await openTestDatabase({ migrations: relayMigrations });
    ({ store, ingest } = writePath(database.pool));
    kafka = testKafka([`127.0.0.1:${port}`]);
  });
  afterAll(async () => {
    await relay?.stop();
    await store?.close();
    await database?.close();
    if (env) await broker('reset');
  });

  it('waits while the broker is down and, once it is back, publishes every event, in order per customer, repeats only as the same ce_id', async () => {
    const topic = 'cx.events.outage';
    const customers = ['customer-anna', 'customer-ben', 'customer-chloe', 'customer-dev'];
    relay = new KafkaRelay({
      store,
      pool: database.pool,
      kafka,
      topic,
      partitions: 3,
      batchSize: 25,
      lease: testBackend === 'postgres' ? 'database' : 'process',
      backoff: { initialMs: 100, maxMs: 1_000 },
      logger: {
        log: (message) => logs.push({ level: 'log', message }),
        warn: (message) => logs.push({ level: 'warn', message }),
        error: (message) => logs.push({ level: 'error', message }),
      },
    });
    await relay.start();

    // 1. Broker up: the first events are published.
    await ingestAll(ingest, journeyEvents(customers, 20), 'before');
    const beforeOutage = await lastCommittedPosition(database.pool);
    await eventually(
      () => relay.position >= beforeOutage,
      () => `checkpoint ${relay.position} to reach ${beforeOutage}`,
    );

    // 2. The broker goes down while the relay publishes a burst; more events are stored meanwhile.
    await ingestAll(ingest, journeyEvents(customers, 100).slice(customers.length), 'burst', 50);
    await broker('stop');
    await ingestAll(ingest, journeyEvents(customers, 30).slice(customers.length), 'during', 10);
    const duringOutage = await lastCommittedPosition(database.pool);
    await eventually(
      () => relay.currentStatus === 'waiting-for-broker',
      () => `the relay to notice the outage (status ${relay.currentStatus})`,
    );
    const waiting = await relay.state();
    expect(waiting).toMatchObject({ status: 'waiting-for-broker', brokerConnected: false });
    expect(BigInt(waiting.position)).toBeLessThan(duringOutage);
    expect(waiting.lagEvents).toBeGreaterThanOrEqual(30 * customers.length);
    expect(waiting.waitingSince).toEqual(expect.any(String));
    // Retrying for a while: the checkpoint stays, and there is one warning for the whole outage.
    const held = relay.position;
    await new Promise((r) => setTimeout(r, 3_000));
    expect(relay.position).toBe(held);

    // 3. Broker back: everything stored meanwhile, and what comes after, is published.
    await broker('start');
    await ingestAll(ingest, journeyEvents(customers, 10).slice(customers.length), 'after', 10);
    const last = await lastCommittedPosition(database.pool);
    expect(last).toBeGreaterThan(duringOutage);
    await eventually(
      () => relay.position >= last,
      () => `checkpoint ${relay.position} to reach ${last} (status ${relay.currentStatus})`,
      120_000,
    );
    expect(await relay.state()).toMatchObject({ status: 'running', brokerConnected: true, lagEvents: 0 });

    let events: RecordedEvent[] = [];
    await eventually(
      async () => (events = await store.readAll(0n, { limit: 10_000 })).at(-1)?.position === last,
      () => 'the whole log',
    );
    const messages = await readTopic(kafka, topic);
    const delivery = checkDelivery(messages, events);
    expect(delivery.missing).toEqual([]);
    expect(delivery.problems).toEqual([]);
    // A repeat is a re-send of the same event: as many distinct positions as distinct ce_ids.
    expect(new Set(messages.map((m) => m.headers.cx_position)).size).toBe(new Set(messages.map((m) => m.headers.ce_id)).size);
    expect(messages.length).toBe(events.length + delivery.duplicates);
    console.log(`broker outage: ${events.length} events, ${messages.length} messages, ${delivery.duplicates} re-sent duplicates`);

    const warnings = logs.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(/Kafka unavailable .*waits at position/);
    expect(logs.filter((l) => /available again/.test(l.message))).toHaveLength(1);
  });

  it('started while no broker answers, waits (health degraded, nothing checkpointed) and stops promptly', async () => {
    const nowhere = await freePortPair();
    const warnings: string[] = [];
    const waiting = new KafkaRelay({
      store,
      pool: database.pool,
      kafka: testKafka([`127.0.0.1:${nowhere}`]),
      topic: 'cx.events.nowhere',
      lease: testBackend === 'postgres' ? 'database' : 'process',
      backoff: { initialMs: 100, maxMs: 500 },
      logger: { log: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    await ingestAll(ingest, journeyEvents(['customer-zed'], 5), 'nowhere');
    await waiting.start();
    await eventually(
      () => waiting.currentStatus === 'waiting-for-broker',
      () => `the relay to wait for the broker (${waiting.currentStatus})`,
    );
    await new Promise((r) => setTimeout(r, 1_500));
    const state = await waiting.state();
    expect(state).toMatchObject({ status: 'waiting-for-broker', brokerConnected: false, position: '0', publishedEvents: 0 });
    expect(state.lagEvents).toBeGreaterThanOrEqual(6);
    expect(state.lastError).toMatch(/ECONNREFUSED|Connection/i);
    expect(warnings).toHaveLength(1);
    await waiting.stop();
    expect(waiting.currentStatus).toBe('stopped');
  });
});
