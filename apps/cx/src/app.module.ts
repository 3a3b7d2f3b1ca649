import { AuthModule, OpenApiModule, observedPlatform } from '@cx/http';
import { IngestModule } from '@cx/ingest';
import { KafkaIngestModule, RelayModule, relayMigrations } from '@cx/kafka';
import type { PlatformConfig } from '@cx/platform';
import { ProjectionsModule, readModelSchema } from '@cx/projections';
import { type DynamicModule, Module } from '@nestjs/common';

/** The all-in-one app: every module of the platform in one process (the embedded default). */
@Module({})
export class AppModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...observedPlatform(config, { ...readModelSchema, migrations: [...readModelSchema.migrations, ...relayMigrations] }),
        AuthModule.forRoot(),
        IngestModule.forRoot(),
        ProjectionsModule.forRoot({ run: true, serve: true }),
        RelayModule.forRoot(config),
        KafkaIngestModule.forRoot(config),
        OpenApiModule,
      ],
    };
  }
}
