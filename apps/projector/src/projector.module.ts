import { observedPlatform } from '@cx/http';
import { kafkaConsumerMigrations, KafkaProjectorModule, RelayModule, relayMigrations } from '@cx/kafka';
import type { PlatformConfig } from '@cx/platform';
import { ProjectionsModule, readModelSchema } from '@cx/projections';
import { type DynamicModule, Module } from '@nestjs/common';

/**
 * The projector: folds the log into the read models. Several can run; each projection is applied by one at a time.
 * With CX_PROJECTOR_SOURCE=kafka it folds the events topic instead, as a member of a consumer group sharing its partitions.
 */
@Module({})
export class ProjectorModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    const migrations = [...readModelSchema.migrations, ...relayMigrations, ...kafkaConsumerMigrations];
    const fold = config.projectorSource === 'kafka' ? KafkaProjectorModule.forRoot(config) : ProjectionsModule.forRoot({ run: true, serve: false });
    return {
      module: ProjectorModule,
      imports: [...observedPlatform(config, { ...readModelSchema, migrations }, { personalData: false }), fold, RelayModule.forRoot(config)],
    };
  }
}
