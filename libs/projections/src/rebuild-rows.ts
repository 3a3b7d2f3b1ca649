import type { FoldChanges } from '@cx/domain';
import type { EntityManager } from 'typeorm';

/** Rows per statement when a bulk fold writes what it held: one JSON parameter each, of bounded size. */
export const BULK_CHUNK_ROWS = 5_000;

/** Runs `sql` (one `$1::jsonb` array of rows) over the rows in chunks. */
export async function insertRows(manager: EntityManager, sql: string, rows: readonly object[], chunk = BULK_CHUNK_ROWS): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) await manager.query(sql, [JSON.stringify(rows.slice(i, i + chunk))]);
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
