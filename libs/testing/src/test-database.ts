import { type Database, openDatabase, type SchemaParts } from '@cx/platform';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Which database the tests run against: a real server when DATABASE_URL is set, embedded PGlite otherwise. */
export const testBackend: 'postgres' | 'embedded' = process.env.DATABASE_URL ? 'postgres' : 'embedded';

export type TestDatabase = Database & { name: string; url?: string };

/**
 * A fresh, migrated database of its own for one test file: a new database on the real server
 * (dropped on close), or an in-memory PGlite.
 */
export async function openTestDatabase(options: { poolSize?: number } & SchemaParts = {}): Promise<TestDatabase> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    const database = await openDatabase({ dataDir: 'memory', dbPoolSize: 1 }, options);
    return { ...database, name: 'memory' };
  }
  const name = `cx_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), dataDir: 'unused', dbPoolSize: options.poolSize ?? 10 }, options);
  return {
    ...database,
    name,
    url: url.toString(),
    async close() {
      await database.close();
      const dropper = new pg.Client({ connectionString: baseUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/**
 * The highest position committed so far: what "everything I appended" means in a test. Not the
 * store's head, which readers see only once no older transaction anywhere on the server is still
 * writing (other test files share the server).
 */
export async function lastCommittedPosition(pool: Pick<Database['pool'], 'query'>): Promise<bigint> {
  const { rows } = await pool.query<{ position: string | null }>('SELECT max(position)::text AS position FROM cx_events');
  return BigInt(rows[0].position ?? 0);
}
