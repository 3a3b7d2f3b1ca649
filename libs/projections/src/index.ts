export type { BulkFold, Projection, ProjectionState, ProjectionStatus, RebuildOutcome, RebuildPhase, RebuildProgress } from './projection.js';
export {
  CheckpointFencedError,
  NotFailedError,
  ProjectionRunner,
  type ProjectionRunnerOptions,
  type RunnerLogger,
  UnknownProjectionError,
} from './projection-runner.js';
export { FoldDeferral, type FoldDeferralOptions, type FoldPacer } from './fold-deferral.js';
export { defaultRebuildOptions, type RebuildOptions } from './rebuild.js';
export { RebuildConflictError } from './rebuild-requests.js';
export { rebuildSchemaOf } from './rebuild-schema.js';
export { projectionMigrations } from './projections.migrations.js';
export { ProjectionsController } from './projections.controller.js';
export { ProjectionsModule, type ProjectionsModuleOptions, readModelSchema } from './projections.module.js';
export { allProjections, readModelControllers } from './read-models/index.js';
export { MIN_POSITION_WAIT_MS, minPositionOf, ReadsProjections, ReadYourWritesInterceptor } from './read-your-writes.js';
export { JourneyReplayer, type JourneyReplayPage } from './read-models/journey/journey.replay.js';
