import type { Migration, RecordedEvent } from '@cx/event-store';
import type { EntityManager } from 'typeorm';

/**
 * A read model: a pure fold of events into PostgreSQL rows. The runner hands it batches of the
 * event types it handles, in log order, inside a transaction that also moves its checkpoint:
 * a batch is applied exactly once, whatever crashes.
 */
export type Projection = {
  /** Stable name: the checkpoint's key, the API's and the CLI's. */
  readonly name: string;
  /** Bump when the fold changes: the read model is then rebuilt from the log. */
  readonly version: number;
  /** Stored event types it folds; the others only move its checkpoint. */
  readonly handles: readonly string[];
  /** Its tables, created by its migrations; dropped and refilled by a rebuild. */
  readonly tables: readonly string[];
  readonly migrations: readonly Migration[];
  /** TypeORM entities over its tables, for the query side. */
  readonly entities: readonly (new () => object)[];
  apply(events: readonly RecordedEvent[], manager: EntityManager): Promise<void>;
};

export type ProjectionStatus = 'starting' | 'running' | 'standby' | 'failed' | 'stopped';

export type ProjectionState = {
  name: string;
  version: number;
  position: string;
  status: ProjectionStatus;
  lagEvents: number;
  lagSeconds: number;
  updatedAt: string | null;
  error?: { message: string; position: string };
};
