import { DATABASE, type Database, HealthRegistry, type PlatformConfig } from '@cx/platform';
import { allProjections } from '@cx/projections';
import { type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createKafka } from './kafka-client.js';
import { KafkaProjector } from './kafka-projector.js';

const logger = new Logger('KafkaProjector');

@Injectable()
class KafkaProjectorLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(KafkaProjector) private readonly projector: KafkaProjector,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.health.register('kafka-projector', async () => this.projector.state());
    // Not awaited: the process answers /health while it waits for the broker.
    this.projector.start().catch((error: unknown) => logger.error(`kafka projector did not start: ${(error as Error).message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.projector.stop();
  }
}

/**
 * The projector's Kafka mode (CX_PROJECTOR_SOURCE=kafka): every read model folded from the events
 * topic by a member of the consumer group `cx-projector`, instead of following the log. Import it
 * in place of ProjectionsModule's runner; the schema needs kafkaConsumerMigrations.
 */
@Module({})
export class KafkaProjectorModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    const kafka = config.kafka;
    if (!kafka) throw new Error('the Kafka projector needs KAFKA_BROKERS');
    return {
      module: KafkaProjectorModule,
      providers: [
        {
          provide: KafkaProjector,
          inject: [DATABASE],
          useFactory: (database: Database) =>
            new KafkaProjector({
              kafka: createKafka(kafka, (level, message) => (level === 'error' ? logger.warn(message) : logger.debug(message)), 'projector'),
              topic: kafka.eventsTopic,
              groupId: kafka.projectorGroupId ?? 'cx-projector',
              dataSource: database.dataSource,
              projections: allProjections,
              batchSize: config.projectionBatchSize,
              logger: { log: (m) => logger.log(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
            }),
        },
        KafkaProjectorLifecycle,
      ],
      exports: [KafkaProjector],
    };
  }
}
