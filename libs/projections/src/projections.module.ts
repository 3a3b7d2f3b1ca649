import type { EventStore, Migration } from '@cx/event-store';
import { DATABASE, type Database, EVENT_STORE, HealthRegistry, PLATFORM_CONFIG, type PlatformConfig, WRITE_ACTIVITY, type WriteActivity } from '@cx/platform';
import { Metrics } from '@cx/http';
import { type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { FoldDeferral } from './fold-deferral.js';
import { ProjectionRunner } from './projection-runner.js';
import { projectionMigrations } from './projections.migrations.js';
import { ProjectionsController } from './projections.controller.js';
import { allProjections, readModelControllers } from './read-models/index.js';
import { ReadYourWritesInterceptor } from './read-your-writes.js';
import { providers as retentionProviders } from './retention/index.js';

/** What the database needs for the read models: run after the platform's own migrations. */
export const readModelSchema = {
  migrations: [...projectionMigrations, ...allProjections.flatMap((p) => p.migrations)] as Migration[],
  entities: allProjections.flatMap((p) => p.entities),
};

export type ProjectionsModuleOptions = {
  /** Fold the log in this process (the all-in-one app, the projector); false for a query-only app. */
  run: boolean;
  /** Serve the query API (read models, /v1/projections). */
  serve: boolean;
};

@Injectable()
class RunnerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(ProjectionRunner) private readonly runner: ProjectionRunner,
    @Inject('CX_RUN_PROJECTIONS') private readonly run: boolean,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Optional() @Inject(Metrics) private readonly metrics?: Metrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.health.register('projections', async () => {
      const states = await this.runner.states();
      return {
        status: states.some((s) => s.status === 'failed') ? 'degraded' : 'up',
        list: states.map(({ name, version, position, status, lagEvents, lagSeconds, error }) => ({ name, version, position, status, lagEvents, lagSeconds, ...(error ? { error } : {}) })),
      };
    });
    this.metrics?.watchProjections(this.runner);
    if (this.run) await this.runner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}

@Module({})
export class ProjectionsModule {
  static forRoot(options: ProjectionsModuleOptions): DynamicModule {
    const logger = new Logger('Projections');
    return {
      module: ProjectionsModule,
      controllers: options.serve ? [ProjectionsController, ...readModelControllers] : [],
      providers: [
        { provide: 'CX_RUN_PROJECTIONS', useValue: options.run },
        {
          // Ingest first: in a process that also ingests (the all-in-one app), live folding steps aside while it does.
          provide: FoldDeferral,
          inject: [PLATFORM_CONFIG, { token: WRITE_ACTIVITY, optional: true }],
          useFactory: (config: PlatformConfig, activity?: WriteActivity) =>
            options.run && activity && config.projectionDefer.maxMs > 0
              ? new FoldDeferral(activity, { maxDeferMs: config.projectionDefer.maxMs, maxLagEvents: config.projectionDefer.maxEvents })
              : undefined,
        },
        {
          provide: ProjectionRunner,
          inject: [EVENT_STORE, DATABASE, PLATFORM_CONFIG, FoldDeferral],
          useFactory: (store: EventStore, database: Database, config: PlatformConfig, pacer?: FoldDeferral) =>
            new ProjectionRunner({
              store,
              dataSource: database.dataSource,
              pool: database.pool,
              projections: allProjections,
              lease: database.kind === 'postgres',
              batchSize: config.projectionBatchSize,
              pacer,
              logger: { log: (m) => logger.log(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
            }),
        },
        RunnerLifecycle,
        ...retentionProviders,
        { provide: APP_INTERCEPTOR, useClass: ReadYourWritesInterceptor },
      ],
      exports: [ProjectionRunner],
    };
  }
}
