import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  describe('Kafka', () => {
    it('is off without KAFKA_BROKERS', () => {
      expect(loadConfig({}).kafka).toBeUndefined();
    });

    it('takes the brokers and defaults the topics', () => {
      expect(loadConfig({ KAFKA_BROKERS: ' 127.0.0.1:9092, kafka-2:19092 ' }).kafka).toEqual({
        brokers: ['127.0.0.1:9092', 'kafka-2:19092'],
        clientId: 'cx-platform',
        eventsTopic: 'cx.events',
        ingestTopic: 'cx.ingest',
        deadLetterTopic: 'cx.ingest.dlq',
        ingestGroupId: 'cx-ingest',
        projectorGroupId: 'cx-projector',
        partitions: 6,
        relayBatchSize: expect.any(Number),
      });
    });

    it('takes topic names from the environment', () => {
      const kafka = loadConfig({ KAFKA_BROKERS: 'k:9092', CX_KAFKA_EVENTS_TOPIC: 'acme.cx.events', CX_KAFKA_DLQ_TOPIC: 'acme.dlq' }).kafka;
      expect([kafka?.eventsTopic, kafka?.ingestTopic, kafka?.deadLetterTopic]).toEqual(['acme.cx.events', 'cx.ingest', 'acme.dlq']);
    });

    it.each([
      ['KAFKA_BROKERS', { KAFKA_BROKERS: 'localhost' }, 'host:port'],
      ['KAFKA_BROKERS', { KAFKA_BROKERS: 'kafka://k:9092' }, 'host:port'],
      ['CX_KAFKA_EVENTS_TOPIC', { KAFKA_BROKERS: 'k:9092', CX_KAFKA_EVENTS_TOPIC: 'cx events' }, 'Kafka topic name'],
    ])('refuses a bad %s naming the variable', (variable, env, reason) => {
      const error = (() => {
        try {
          loadConfig(env);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as Error).message).toContain(reason);
    });
  });

  describe('ingest first (projections deferring while the process ingests)', () => {
    it('defers up to 10 s and 250,000 events by default, and never with CX_PROJECTION_DEFER_MS=0', () => {
      expect(loadConfig({}).projectionDefer).toEqual({ maxMs: 10_000, maxEvents: 250_000 });
      expect(loadConfig({ CX_PROJECTION_DEFER_MS: '0', CX_PROJECTION_DEFER_EVENTS: '1000' }).projectionDefer).toEqual({ maxMs: 0, maxEvents: 1_000 });
    });

    it.each([['CX_PROJECTION_DEFER_MS', '-1'], ['CX_PROJECTION_DEFER_MS', '2.5'], ['CX_PROJECTION_DEFER_EVENTS', 'lots']])('refuses %s=%s', (variable, value) => {
      expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    });
  });

  describe('EventStoreDB', () => {
    it('is off without EVENTSTOREDB_URL and on with an esdb:// connection string', () => {
      expect(loadConfig({}).eventStoreDbUrl).toBeUndefined();
      expect(loadConfig({ EVENTSTOREDB_URL: 'esdb://127.0.0.1:2113?tls=false' }).eventStoreDbUrl).toBe('esdb://127.0.0.1:2113?tls=false');
      expect(loadConfig({ EVENTSTOREDB_URL: 'esdb+discover://cluster.example:2113' }).eventStoreDbUrl).toBe('esdb+discover://cluster.example:2113');
    });

    it('refuses another scheme', () => {
      expect(() => loadConfig({ EVENTSTOREDB_URL: 'http://127.0.0.1:2113' })).toThrow('EVENTSTOREDB_URL: must be an esdb://');
    });
  });
});
