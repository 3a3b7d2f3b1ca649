import type { Migration, RecordedEvent } from '@cx/event-store';
import type { EntityManager } from 'typeorm';
import type { RowFormat } from './rebuild-rows.js';

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
  apply(events: readonly RecordedEvent[], manager: EntityManager, context?: ApplyContext): Promise<void>;
  /**
   * Optional fast path of a rebuild: a fold that keeps its state in memory across the batches of
   * the rebuild and writes each row about once. See BulkFold; without it a rebuild calls `apply`.
   * `format`: how its rows go to the server (rebuild-rows.ts: rowWriter).
   */
  bulk?(format: RowFormat): BulkFold;
};

/**
 * A rebuild's fold into fresh tables that have no indexes or keys yet (the rebuild adds them after
 * `finish`). It must end with exactly the rows `apply` gives batch by batch. `add` folds a batch
 * in memory and may hand back the writing of rows it will not change again (plain INSERTs: nothing
 * can conflict, and nothing may be read back, there are no indexes yet); `finish` hands back the
 * writing of the rest, a chunk at a time (a generator suits). The rebuild runs each write in a
 * short transaction of its own, in order, while it folds on: a long transaction would hold back
 * every reader of the log (docs/operations.md). After `finish` the rebuild goes on with `apply`.
 */
export type BulkFold = {
  add(events: readonly RecordedEvent[]): BulkWrite | undefined;
  finish(): Iterable<BulkWrite>;
  /** Entries held in memory (customers, moments, ...): the rebuild calls `finish` early when it grows too large. */
  readonly held: number;
};

export type BulkWrite = (manager: EntityManager) => Promise<void>;

/**
 * What the live runner tells `apply` (a rebuild tells nothing). `previousCommit`: the transaction
 * id of this runner's last committed batch of the projection, given only when this batch's
 * transaction commits solely if the checkpoint is still where that transaction left it (the
 * runner's compare-and-set). So a projection may take what it wrote in that transaction as
 * committed and its tables as untouched since, by any writer the platform has (other processes
 * move the checkpoint, a rebuild's switch its generation): if that were not so, this batch would
 * not commit either. Lets a projection trust state it kept in memory without reading its rows back.
 */
export type ApplyContext = { readonly previousCommit?: string };

export type ProjectionStatus = 'starting' | 'running' | 'standby' | 'failed' | 'stopped' | 'rebuilding';

export type ProjectionState = {
  name: string;
  version: number;
  position: string;
  status: ProjectionStatus;
  lagEvents: number;
  lagSeconds: number;
  updatedAt: string | null;
  error?: { message: string; position: string };
  /** The rebuild requested or running, if any. */
  rebuild?: RebuildProgress;
  /** The outcome of the last rebuild that ended. */
  lastRebuild?: RebuildOutcome;
};

export type RebuildPhase = 'waiting' | 'building' | 'indexing' | 'catching-up' | 'switching';

export type RebuildProgress = {
  id: string;
  status: 'requested' | 'running';
  phase: RebuildPhase;
  version: number;
  /** The log position it builds up to before catching up with the live checkpoint; null until it starts. */
  targetPosition: string | null;
  /** The log position its tables have reached. */
  position: string;
  /** Log positions covered per second (about events per second). */
  eventsPerSecond: number | null;
  etaSeconds: number | null;
  requestedAt: string;
  startedAt: string | null;
};

export type RebuildOutcome = {
  id: string;
  status: 'done' | 'failed';
  version: number;
  position: string;
  startedAt: string | null;
  finishedAt: string;
  seconds: number | null;
  eventsPerSecond: number | null;
  error?: string;
};
