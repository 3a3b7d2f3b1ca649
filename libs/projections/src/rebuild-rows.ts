import type { EntityManager } from 'typeorm';

/** Rows per statement when a bulk fold writes what it held: one JSON parameter each, of bounded size. */
export const BULK_CHUNK_ROWS = 5_000;

/** Runs `sql` (one `$1::jsonb` array of rows) over the rows in chunks. */
export async function insertRows(manager: EntityManager, sql: string, rows: readonly object[], chunk = BULK_CHUNK_ROWS): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) await manager.query(sql, [JSON.stringify(rows.slice(i, i + chunk))]);
}
