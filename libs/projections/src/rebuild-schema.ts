import type { EntityManager } from 'typeorm';
import type { Projection } from './projection.js';

/**
 * The database side of a blue/green rebuild. A projection is rebuilt in a schema of its own,
 * where its migrations create its tables under the same names (they name tables unqualified, and
 * run with that schema first on the search path); the switch moves the live tables out of
 * `public` and the new ones in, indexes, constraints and owned sequences with them.
 */

const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[^a-z0-9_]/g, '_');

/** Where a projection's next tables are built. */
export const rebuildSchemaOf = (projection: string): string => `cx_rebuild_${snake(projection)}`;
/** Where its old tables go at the switch, to be dropped right after. */
export const retiredSchemaOf = (projection: string): string => `cx_retired_${snake(projection)}`;

/** A quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Points unqualified names at the rebuild schema for the rest of the transaction (other tables still resolve in public). */
export async function useSchema(manager: EntityManager, schema: string, options: { synchronousCommit?: boolean } = {}): Promise<void> {
  await manager.query(`SELECT set_config('search_path', $1, true), set_config('synchronous_commit', $2, true)`, [
    `${ident(schema)}, public`,
    options.synchronousCommit === false ? 'off' : 'on',
  ]);
}

/** Keys and indexes taken off the fresh tables for the bulk load, to be put back after it. */
export type DeferredIndexes = { constraints: Deferred[]; indexes: Deferred[] };
type Deferred = { table: string; sql: string };

export class RebuildSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RebuildSchemaError';
  }
}

/**
 * Creates the projection's tables afresh in its rebuild schema (dropping what an earlier,
 * interrupted rebuild left there). With `unlogged`, the tables skip the write-ahead log until
 * `finishLoad`; with `deferIndexes`, their primary keys, unique constraints and indexes are taken
 * off (and returned, to be put back by `finishLoad`): a bulk load into bare tables followed by one
 * sorted index build is many times faster than maintaining the indexes row by row.
 */
export async function prepareRebuildSchema(
  manager: EntityManager,
  projection: Projection,
  options: { unlogged: boolean; deferIndexes: boolean },
): Promise<DeferredIndexes> {
  const schema = rebuildSchemaOf(projection.name);
  await manager.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
  await manager.query(`CREATE SCHEMA ${ident(schema)}`);
  await useSchema(manager, schema);
  for (const migration of [...projection.migrations].sort((a, b) => a.id.localeCompare(b.id))) {
    try {
      await manager.query(migration.sql);
    } catch (error) {
      throw new RebuildSchemaError(`migration ${migration.id} of ${projection.name} failed in schema ${schema}: ${(error as Error).message}`);
    }
  }
  const objects: Array<{ relname: string; relkind: string }> = await manager.query(
    `SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [schema],
  );
  const created = objects.map((o) => o.relname).sort();
  const declared = [...projection.tables].sort();
  if (created.join() !== declared.join() || objects.some((o) => o.relkind !== 'r')) {
    throw new RebuildSchemaError(
      `projection ${projection.name}: its migrations create ${created.join(', ') || 'nothing'} but it declares the tables ${declared.join(', ')}; ` +
        'a rebuild moves exactly the declared tables, so they must match (and be plain tables, named unqualified)',
    );
  }
  if (options.unlogged) {
    for (const table of projection.tables) await manager.query(`ALTER TABLE ${ident(schema)}.${ident(table)} SET UNLOGGED`);
  }
  const deferred: DeferredIndexes = { constraints: [], indexes: [] };
  if (!options.deferIndexes) return deferred;
  const foreign: unknown[] = await manager.query(
    `SELECT 1 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND k.contype = 'f'`,
    [schema],
  );
  if (foreign.length > 0) return deferred; // keys other tables point at stay: loading is slower, not wrong
  const constraints: Array<{ tbl: string; name: string; def: string }> = await manager.query(
    `SELECT c.relname AS tbl, k.conname AS name, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND k.contype IN ('p', 'u', 'x')
      ORDER BY c.relname, k.conname`,
    [schema],
  );
  const indexes: Array<{ tbl: string; name: string; def: string }> = await manager.query(
    `SELECT t.relname AS tbl, i.relname AS name, pg_get_indexdef(i.oid) AS def
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace
       JOIN pg_class t ON t.oid = x.indrelid
      WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))
      ORDER BY i.relname`,
    [schema],
  );
  for (const c of constraints) {
    deferred.constraints.push({ table: c.tbl, sql: `ALTER TABLE ${ident(schema)}.${ident(c.tbl)} ADD CONSTRAINT ${ident(c.name)} ${c.def}` });
    await manager.query(`ALTER TABLE ${ident(schema)}.${ident(c.tbl)} DROP CONSTRAINT ${ident(c.name)}`);
  }
  for (const index of indexes) {
    deferred.indexes.push({ table: index.tbl, sql: index.def });
    await manager.query(`DROP INDEX ${ident(schema)}.${ident(index.name)}`);
  }
  return deferred;
}

/**
 * The statements that put back what the bulk load went without: logging, keys and indexes (built
 * in one sorted pass each), statistics; one list per table, to run in order. Each statement may
 * run in a transaction of its own (they should: an index build on a large table is a long
 * transaction, and readers of the log wait for it), and the tables' lists side by side.
 */
export function finishLoad(projection: Projection, deferred: DeferredIndexes, options: { unlogged: boolean }): string[][] {
  const schema = rebuildSchemaOf(projection.name);
  return projection.tables.map((table) => [
    // Logged first: SET LOGGED rewrites the table and every index on it, so it goes before the indexes exist.
    ...(options.unlogged ? [`ALTER TABLE ${ident(schema)}.${ident(table)} SET LOGGED`] : []),
    ...deferred.constraints.filter((c) => c.table === table).map((c) => c.sql),
    ...deferred.indexes.filter((i) => i.table === table).map((i) => i.sql),
    `ANALYZE ${ident(schema)}.${ident(table)}`,
  ]);
}

/**
 * Views or foreign keys of other tables that point at a projection's live tables would follow the
 * old tables out of `public` and be dropped with them: a rebuild refuses to switch such a model.
 */
export async function dependentsOf(manager: EntityManager, tables: readonly string[]): Promise<string[]> {
  const rows: Array<{ what: string }> = await manager.query(
    `WITH live AS (
       SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = ANY($1::text[]))
     SELECT DISTINCT 'view ' || v.oid::regclass::text AS what
       FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
      WHERE d.refobjid IN (SELECT oid FROM live) AND v.oid NOT IN (SELECT oid FROM live)
     UNION
     SELECT DISTINCT 'foreign key ' || k.conname || ' of ' || k.conrelid::regclass::text
       FROM pg_constraint k
      WHERE k.contype = 'f' AND k.confrelid IN (SELECT oid FROM live) AND k.conrelid NOT IN (SELECT oid FROM live)`,
    [tables],
  );
  return rows.map((r) => r.what);
}

/**
 * Inside the switch transaction (the live tables locked): moves the live tables to the retired
 * schema and the rebuilt ones into `public`, under the same names. Readers that wait on the lock
 * look the names up again once it is released, and find the new tables.
 */
export async function swapTables(manager: EntityManager, projection: Projection): Promise<void> {
  const schema = rebuildSchemaOf(projection.name);
  const retired = retiredSchemaOf(projection.name);
  await manager.query(`DROP SCHEMA IF EXISTS ${ident(retired)} CASCADE`);
  await manager.query(`CREATE SCHEMA ${ident(retired)}`);
  for (const table of projection.tables) {
    await manager.query(`ALTER TABLE IF EXISTS public.${ident(table)} SET SCHEMA ${ident(retired)}`);
    await manager.query(`ALTER TABLE ${ident(schema)}.${ident(table)} SET SCHEMA public`);
  }
}

/** The live tables that exist, for LOCK TABLE (a model may be rebuilt before its tables were ever created). */
export async function liveTables(manager: EntityManager, tables: readonly string[]): Promise<string[]> {
  const rows: Array<{ relname: string }> = await manager.query(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname = ANY($1::text[]) ORDER BY c.relname`,
    [tables],
  );
  return rows.map((r) => r.relname);
}

export async function dropSchemas(manager: Pick<EntityManager, 'query'>, schemas: readonly string[]): Promise<void> {
  for (const schema of schemas) await manager.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
}
