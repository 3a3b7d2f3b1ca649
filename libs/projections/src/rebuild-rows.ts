import type { FoldChanges } from '@cx/domain';
import type { BulkWrite } from './projection.js';

/** Rows per statement when a bulk fold writes what it held: one JSON parameter each, of bounded size. */
export const BULK_CHUNK_ROWS = 5_000;

/**
 * The writes of `rows` (made as they are taken, so a chunk at a time is in memory), each running
 * `sql` (one `$1` JSON array of rows) over a chunk.
 */
export function* insertRows(sql: string, rows: Iterable<object>, chunk = BULK_CHUNK_ROWS): Generator<BulkWrite> {
  let batch: object[] = [];
  const write = (rows: object[]): BulkWrite => {
    const json = JSON.stringify(rows);
    return async (manager) => void (await manager.query(sql, [json]));
  };
  for (const row of rows) {
    batch.push(row);
    if (batch.length >= chunk) {
      yield write(batch);
      batch = [];
    }
  }
  if (batch.length > 0) yield write(batch);
}

const marked = new WeakSet<BulkWrite>();

/**
 * `writes` marked as free to run at the same time as the projection's other marked writes next to
 * them (plain INSERTs of rows no other write of the fold touches, into tables without keys): the
 * rebuild spreads them over connections. A write not marked still waits for every write before
 * it, and the marked ones after it wait for it.
 */
export function* sideBySide(writes: Iterable<BulkWrite>): Generator<BulkWrite> {
  for (const write of writes) yield markedSideBySide(write);
}

export function markedSideBySide(write: BulkWrite): BulkWrite {
  marked.add(write);
  return write;
}

export const isSideBySide = (write: BulkWrite): boolean => marked.has(write);

/** `items` mapped, lazily. */
export function* mapped<T, R>(items: Iterable<T>, map: (item: T) => R): Generator<R> {
  for (const item of items) yield map(item);
}

/** `items` mapped to several each, flattened, lazily. */
export function* flatMapped<T, R>(items: Iterable<T>, map: (item: T) => Iterable<R>): Generator<R> {
  for (const item of items) yield* map(item);
}

class DiscardingMap<K, V> extends Map<K, V> {
  override set(): this {
    return this;
  }
}

class DiscardingSet<T> extends Set<T> {
  override add(): this {
    return this;
  }
}

/**
 * What the customer 360 fold reports as changed, thrown away: apply writes the rows it names, a
 * bulk fold writes every state at the end and needs none of it. The fold only ever writes to it
 * (a fold that read it back would be caught by the rebuild-equals-live test).
 */
export const discardedChanges = (): FoldChanges => ({ channels: new DiscardingMap(), complaints: new DiscardingMap(), closedComplaints: new DiscardingSet() });
