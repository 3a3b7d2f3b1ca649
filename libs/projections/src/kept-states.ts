import type { ApplyContext } from './projection.js';

/** A kept state as `take` hands it back: `version` is the transaction that wrote its rows; `trusted`: usable unchecked (see KeptStates). */
export type KeptState<T> = { value: T; version: string; trusted: boolean };

/**
 * States a projection's live fold keeps in memory between batches, by key (a customer), so that
 * the next batches naming them need not read their rows back: bounded, the least recently used
 * dropped first. A state is taken out while a batch folds it and put back once its rows are
 * written, so two runners of one process never fold the same object.
 *
 * Whether a kept state may be used as it is follows the chain of the live runner's commits: the
 * runner tells each batch which transaction committed the batch before (ApplyContext), and this
 * batch commits only if nobody moved the checkpoint since. While that transaction is the one these
 * states were last written in (`wrote`), nothing else wrote the projection's rows since, and what
 * the live batches put since the chain last broke is `trusted`. A break (a batch that did not
 * commit, a runner taking the projection up afresh, a batch that wrote nothing in between) makes
 * every state put before it untrusted; so is whatever a fold without a context puts (a rebuild
 * writing tables of its own). An untrusted state is the projection's to check against its rows
 * (by `version`), or to drop.
 */
export class KeptStates<T> {
  private readonly entries = new Map<string, { value: T; version: string; epoch: number }>();
  /** States used, those used without a check (trusted), and those read from their rows; the projection counts them. */
  hits = 0;
  unchecked = 0;
  misses = 0;
  /** Moved on at each break: states put before it are no longer trusted. */
  private epoch = 0;
  /** The transaction that wrote the latest live batch (committed or not). */
  private lastWrite?: string;
  private database?: unknown;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Kept states speak for one database (the row versions of two embedded databases in one process
   * can coincide): handed another (its TypeORM DataSource, say), they are forgotten.
   */
  belongTo(database: unknown): void {
    if (this.database === database) return;
    this.clear();
    this.database = database;
  }

  /**
   * At the start of a batch, with the database it writes and what the runner told apply: whether
   * the batch is live (the runner gives a context; a rebuild's catch-up writes tables of its own).
   * A live batch breaks the chain unless its previous commit is what this last wrote.
   */
  begin(database: unknown, context: ApplyContext | undefined): boolean {
    this.belongTo(database);
    if (context === undefined) return false;
    if (context.previousCommit === undefined || context.previousCommit !== this.lastWrite) this.epoch += 1;
    return true;
  }

  /** Takes the state kept for `key` out; `trusted` only for a live batch (`live`), and then counted as a hit unchecked. */
  take(key: string, live: boolean): KeptState<T> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    const trusted = live && entry.epoch === this.epoch;
    if (trusted) {
      this.hits += 1;
      this.unchecked += 1;
    }
    return { value: entry.value, version: entry.version, trusted };
  }

  /** `version`: the transaction that wrote the rows of `value`. `live`: put by a live batch, which then calls `wrote`. */
  put(key: string, value: T, version: string, live: boolean): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, version, epoch: live ? this.epoch : -1 });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The transaction of a live batch that wrote: the next batch trusts what it put when that transaction is the runner's previous commit. */
  wrote(version: string): void {
    this.lastWrite = version;
  }

  clear(): void {
    this.entries.clear();
    this.epoch += 1;
    this.lastWrite = undefined;
  }
}
