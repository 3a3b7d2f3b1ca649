import type { EventStore } from '@cx/event-store';
import { Metrics } from '@cx/http';
import { DATABASE, type Database, EVENT_STORE, HealthRegistry, type PlatformConfig } from '@cx/platform';
import { type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createKafka } from './kafka-client.js';
import { KafkaRelay } from './relay.js';
import { relayMetrics } from './relay.metrics.js';

const logger = new Logger('KafkaRelay');

@Injectable()
class RelayLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(KafkaRelay) private readonly relay: KafkaRelay,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject('CX_KAFKA_BROKERS') private readonly brokers: string[],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.health.register('kafka', async () => {
      const { status, brokerConnected, topic, position, lagEvents, lagSeconds, publishedEvents, waitingSince, lastError } = await this.relay.state();
      return {
        // The app still serves while the broker is away (events are stored and wait): degraded, not down.
        status: status === 'waiting-for-broker' ? 'degraded' : 'up',
        brokers: this.brokers,
        broker: brokerConnected ? 'connected' : status === 'standby' ? 'not used (standby)' : 'not connected',
        relay: { status, topic, position, lagEvents, lagSeconds, publishedEvents, ...(waitingSince ? { waitingSince } : {}), ...(lastError ? { lastError } : {}) },
      };
    });
    await this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}

/**
 * The Kafka relay: with KAFKA_BROKERS set, publishes every stored event to the events topic
 * (`cx.events`). Import it in every app that should publish; a lease keeps it to one process per
 * database, the others stand by. Without Kafka configured it is an empty module.
 */
@Module({})
export class RelayModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    const kafka = config.kafka;
    if (!kafka) return { module: RelayModule };
    return {
      module: RelayModule,
      providers: [
        { provide: 'CX_KAFKA_BROKERS', useValue: kafka.brokers },
        {
          provide: KafkaRelay,
          inject: [EVENT_STORE, DATABASE, { token: Metrics, optional: true }],
          useFactory: (store: EventStore, database: Database, metrics?: Metrics) => {
            // kafkajs reports every failed connection attempt; the relay reports an outage once.
            const client = createKafka(kafka, (_level, message) => logger.debug(message), 'relay');
            let counted: ((topic: string, events: number) => void) | undefined;
            const relay = new KafkaRelay({
              store,
              pool: database.pool,
              kafka: client,
              topic: kafka.eventsTopic,
              lease: database.kind === 'postgres' ? 'database' : 'process',
              batchSize: kafka.relayBatchSize,
              partitions: kafka.partitions,
              logger: { log: (m) => logger.log(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
              onPublished: (events) => counted?.(kafka.eventsTopic, events),
            });
            if (metrics) counted = relayMetrics(metrics, relay).published;
            return relay;
          },
        },
        RelayLifecycle,
      ],
      exports: [KafkaRelay],
    };
  }
}
