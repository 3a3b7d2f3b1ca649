import type { EventStore } from '@cx/event-store';
import { DATABASE, type Database, EVENT_STORE } from '@cx/platform';
import type { Provider } from '@nestjs/common';
import type { Projection } from '../projection.js';
import { AlertDispatcher } from './alert.dispatcher.js';
import { customerValueProjection } from './customer-value.projection.js';
import { retentionEpisodesProjection } from './retention-episodes.projection.js';
import { loadRetentionConfig, RETENTION_CONFIG, type RetentionConfig } from './retention.config.js';
import { RetentionController } from './retention.controller.js';
import { RetentionScheduler } from './retention.scheduler.js';
import { TierJob } from './tier.job.js';

export const projections: readonly Projection[] = [customerValueProjection, retentionEpisodesProjection];
export const controllers: readonly (new (...args: never[]) => object)[] = [RetentionController];

/**
 * The retention processes, for ProjectionsModule's providers: they need EVENT_STORE and DATABASE
 * (PlatformModule) and the module's 'CX_RUN_PROJECTIONS' value (the intervals run only where the
 * projections run; the on-demand endpoint works in any process that serves the API).
 */
export const providers: Provider[] = [
  { provide: RETENTION_CONFIG, useFactory: () => loadRetentionConfig(process.env) },
  {
    provide: TierJob,
    inject: [EVENT_STORE, DATABASE, RETENTION_CONFIG],
    useFactory: (store: EventStore, database: Database, config: RetentionConfig) => new TierJob(store, database.pool, config),
  },
  {
    provide: AlertDispatcher,
    inject: [EVENT_STORE, DATABASE, RETENTION_CONFIG],
    useFactory: (store: EventStore, database: Database, config: RetentionConfig) => new AlertDispatcher(store, database.pool, config),
  },
  RetentionScheduler,
];

export { AlertDispatcher, type AlertSent } from './alert.dispatcher.js';
export { CUSTOMER_VALUE, customerValueProjection } from './customer-value.projection.js';
export { ReadModelBehindError } from './read-model.gate.js';
export { RETENTION_EPISODES, retentionEpisodesProjection } from './retention-episodes.projection.js';
export { loadRetentionConfig, RETENTION_CONFIG, type RetentionConfig, type TierRule } from './retention.config.js';
export { TierJob, type TierChange, type TierRun } from './tier.job.js';
