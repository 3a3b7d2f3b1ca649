import { createMomentCatalogue } from '@cx/domain';
import type { EventStore } from '@cx/event-store';
import { Metrics } from '@cx/http';
import { IngestService } from '@cx/ingest';
import { EVENT_STORE, HealthRegistry, PII_VAULT, type PiiVault, type PlatformConfig, WRITE_ACTIVITY, type WriteActivity } from '@cx/platform';
import { type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createKafka } from './kafka-client.js';
import { KafkaIngestConsumer } from './kafka-ingest.js';

const logger = new Logger('KafkaIngest');

@Injectable()
class KafkaIngestLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(KafkaIngestConsumer) private readonly consumer: KafkaIngestConsumer,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.health.register('kafka-ingest', async () => this.consumer.state());
    // Not awaited: the app serves HTTP while the broker is away; kafkajs keeps trying to join.
    this.consumer.start().catch((error: unknown) => logger.error(`kafka ingest consumer did not start: ${(error as Error).message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }
}

/**
 * The ingest topic (`cx.ingest`): with KAFKA_BROKERS set, a consumer in group `cx-ingest` feeds the
 * topic's CloudEvents through IngestService, the write path of `POST /v1/events`, and sends what it
 * refuses to the dead-letter topic. Without Kafka configured it is an empty module. Needs the
 * platform module (event store, PII vault).
 */
@Module({})
export class KafkaIngestModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    const kafka = config.kafka;
    if (!kafka) return { module: KafkaIngestModule };
    return {
      module: KafkaIngestModule,
      providers: [
        {
          provide: KafkaIngestConsumer,
          inject: [EVENT_STORE, PII_VAULT, { token: Metrics, optional: true }, { token: WRITE_ACTIVITY, optional: true }],
          useFactory: (store: EventStore, vault: PiiVault, metrics?: Metrics, activity?: WriteActivity) =>
            new KafkaIngestConsumer({
              kafka: createKafka(kafka, (level, message) => (level === 'error' ? logger.warn(message) : logger.debug(message)), 'ingest'),
              topic: kafka.ingestTopic,
              deadLetterTopic: kafka.deadLetterTopic,
              groupId: kafka.ingestGroupId ?? 'cx-ingest',
              ingest: new IngestService(store, vault, createMomentCatalogue(config.momentKinds), metrics, activity),
              metrics,
              logger: { log: (m) => logger.log(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
            }),
        },
        KafkaIngestLifecycle,
      ],
    };
  }
}
