import { createMomentCatalogue } from '@cx/domain';
import type { EventStore } from '@cx/event-store';
import { Metrics } from '@cx/http';
import { EVENT_STORE, PII_VAULT, PLATFORM_CONFIG, type PiiVault, type PlatformConfig, WRITE_ACTIVITY, type WriteActivity } from '@cx/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { IngestController } from './ingest.controller.js';
import { IngestService } from './ingest.service.js';

/** The ingest API and its write path. Needs the platform module (event store, PII vault, config). */
@Module({})
export class IngestModule {
  static forRoot(): DynamicModule {
    return {
      module: IngestModule,
      controllers: [IngestController],
      providers: [
        {
          provide: IngestService,
          inject: [EVENT_STORE, PII_VAULT, PLATFORM_CONFIG, { token: Metrics, optional: true }, { token: WRITE_ACTIVITY, optional: true }],
          useFactory: (store: EventStore, vault: PiiVault, config: PlatformConfig, metrics?: Metrics, activity?: WriteActivity) =>
            new IngestService(store, vault, createMomentCatalogue(config.momentKinds), metrics, activity),
        },
      ],
      exports: [IngestService],
    };
  }
}
