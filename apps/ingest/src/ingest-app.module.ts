import { AuthModule, OpenApiModule, observedPlatform } from '@cx/http';
import { IngestModule } from '@cx/ingest';
import { KafkaIngestModule } from '@cx/kafka';
import type { PlatformConfig } from '@cx/platform';
import { readModelSchema } from '@cx/projections';
import { type DynamicModule, Module } from '@nestjs/common';

/** The ingest app: POST /v1/events for channel systems. Scales out freely: appends need no coordination beyond the database. */
@Module({})
export class IngestAppModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    return {
      module: IngestAppModule,
      imports: [...observedPlatform(config, readModelSchema), AuthModule.forRoot(), IngestModule.forRoot(), KafkaIngestModule.forRoot(config), OpenApiModule],
    };
  }
}
