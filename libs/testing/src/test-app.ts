import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppProcess, startApp } from './app-process.js';
import { openTestDatabase, type TestDatabase, testBackend } from './test-database.js';

export type TestApp = AppProcess & {
  /** The app's own database on a real server; undefined on the embedded default. */
  database?: TestDatabase;
  /** The embedded database's data folder (unused on a real server). */
  dataDir: string;
  /** Stops the app, drops its database or data folder. */
  close(): Promise<void>;
};

/**
 * The all-in-one app as a process, on the run's backend: a fresh database on the real server
 * (with a master key), or a fresh embedded data folder. `env` adds the test's own variables.
 */
export async function startTestApp(env: Record<string, string> = {}, entry?: string): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cx-app-'));
  const database = testBackend === 'postgres' ? await openTestDatabase() : undefined;
  const backend = database
    ? { DATABASE_URL: database.url!, CX_MASTER_KEY: randomBytes(32).toString('base64') }
    : { DATABASE_URL: '', CX_DATA_DIR: dataDir };
  try {
    const app = await startApp(entry, { ...backend, ...env });
    return {
      ...app,
      database,
      dataDir,
      async close() {
        await app.stop();
        await database?.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
