import type { Pool } from 'pg';

/** A versioned schema change. Ids sort in the order they must run; a shipped migration never changes. */
export type Migration = { id: string; sql: string };

const MIGRATION_LOCK = 4_210_017_001;

/**
 * Applies the migrations not yet recorded in `cx_schema_migrations`, each in its own
 * transaction. A transaction-scoped advisory lock makes concurrent starters take turns,
 * so two processes starting together never run the same migration twice.
 */
export async function migrate(pool: Pool, migrations: readonly Migration[]): Promise<string[]> {
  const ids = migrations.map((m) => m.id);
  if (new Set(ids).size !== ids.length) throw new Error(`duplicate migration ids in ${ids.join(', ')}`);
  const sorted = [...migrations].sort((a, b) => a.id.localeCompare(b.id));
  const applied: string[] = [];
  for (const migration of sorted) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(`CREATE TABLE IF NOT EXISTS cx_schema_migrations (
        id text PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const done = await client.query('SELECT 1 FROM cx_schema_migrations WHERE id = $1', [migration.id]);
      if (done.rowCount === 0) {
        await client.query(migration.sql);
        await client.query('INSERT INTO cx_schema_migrations (id) VALUES ($1)', [migration.id]);
        applied.push(migration.id);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new Error(`migration ${migration.id} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      client.release();
    }
  }
  return applied;
}
