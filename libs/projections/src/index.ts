export type { Projection, ProjectionState, ProjectionStatus } from './projection.js';
export { CheckpointFencedError, ProjectionRunner, type ProjectionRunnerOptions, type RunnerLogger, UnknownProjectionError } from './projection-runner.js';
export { projectionMigrations } from './projections.migrations.js';
