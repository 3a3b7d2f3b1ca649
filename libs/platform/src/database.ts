import { eventStoreMigrations, migrate, type Migration } from '@cx/event-store';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { type PlatformConfig, redactUrl } from './config.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { piiMigrations } from './pii/pii.migrations.js';

export type Database = {
  kind: 'embedded' | 'postgres';
  /** Where the data lives, safe to print. */
  location: string;
  dataSource: DataSource;
  /** The one pg pool of the process, shared by TypeORM and the event store. */
  pool: Pool;
  close(): Promise<void>;
};

/**
 * The planner's cost of a page read out of order, for the platform's sessions (the server's
 * default is 4, made for spinning disks). The platform's statements look rows up by key, hundreds
 * at a time (`WHERE customer_id = ANY($1)`, joins on the keys of a batch's rows), in tables and
 * indexes that stay in memory; at 4 the planner reads a whole 50,000-row read model instead of 900
 * index probes (24 ms against 10 ms measured on the test machine, and one such scan per table and
 * batch). 1.1 is the usual setting for SSDs and cached data. Set per session, so the server's other
 * users keep theirs.
 */
export const SESSION_RANDOM_PAGE_COST = 1.1;

/** Every lib's migrations, in the order their ids sort. */
export const platformMigrations: Migration[] = [...eventStoreMigrations, ...piiMigrations];

/**
 * Opens the database named by the config (a PostgreSQL server, or embedded PGlite) and
 * migrates its schema. TypeORM owns the pool; the embedded database gets exactly one connection.
 */
export type SchemaParts = {
  /** Migrations beyond the platform's own (read models'), run after them in id order. */
  migrations?: readonly Migration[];
  /** TypeORM entities of the read models. */
  entities?: readonly (new () => object)[];
};

export async function openDatabase(
  config: Pick<PlatformConfig, 'databaseUrl' | 'dataDir' | 'dbPoolSize'>,
  parts: SchemaParts = {},
): Promise<Database> {
  const migrations = [...platformMigrations, ...(parts.migrations ?? [])];
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir);
  const url = config.databaseUrl ?? embedded!.url;
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    uuidExtension: 'pgcrypto',
    entities: [...(parts.entities ?? [])],
    synchronize: false,
    migrationsRun: false,
    extra: {
      max: embedded ? 1 : config.dbPoolSize,
      application_name: 'cx-platform',
      // pg-pool runs this on each new connection before handing it out.
      onConnect: (client: { query(sql: string): Promise<unknown> }) => client.query(`SET random_page_cost = ${SESSION_RANDOM_PAGE_COST}`),
    },
  });
  try {
    await dataSource.initialize();
    const pool = (dataSource.driver as unknown as { master: Pool }).master;
    await migrate(pool, migrations);
    return {
      kind: embedded ? 'embedded' : 'postgres',
      location: embedded ? `embedded PGlite (${embedded.location})` : redactUrl(url),
      dataSource,
      pool,
      async close() {
        if (dataSource.isInitialized) await dataSource.destroy();
        await embedded?.stop();
      },
    };
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
}
