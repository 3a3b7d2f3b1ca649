import { openTestDatabase, startApp, type TestDatabase, testBackend } from '@cx/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe(`all-in-one app as a process on ${testBackend}`, () => {
  let dataDir: string;
  let database: TestDatabase | undefined;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cx-app-'));
    if (testBackend === 'postgres') {
      database = await openTestDatabase();
      env = { DATABASE_URL: database.url, CX_MASTER_KEY: randomBytes(32).toString('base64') };
    } else {
      env = { DATABASE_URL: '', CX_DATA_DIR: dataDir };
    }
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves /health with the store status and shuts down cleanly on SIGTERM', async () => {
    const app = await startApp(undefined, env);
    try {
      const response = await fetch(`${app.url}/health`);
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body).toMatchObject({
        status: 'ok',
        database: testBackend,
        store: { status: 'up', headPosition: expect.stringMatching(/^\d+$/) },
      });
    } finally {
      const code = await app.stop('SIGTERM');
      expect(code).toBe(0);
    }
    expect(app.output()).toContain('closed the event store');
  }, 60_000);

  if (testBackend === 'embedded') {
    it('keeps its data folder, reopens it after a restart, and refuses a second process on the same folder', async () => {
      const first = await startApp(undefined, env);
      const second = await startApp(undefined, env).then(
        async (app) => {
          await app.stop();
          return 'started';
        },
        (error: Error) => error.message,
      );
      expect(second).toMatch(/data folder .* is in use by process \d+/);
      expect(await first.stop()).toBe(0);

      const again = await startApp(undefined, env);
      try {
        const health = (await (await fetch(`${again.url}/health`)).json()) as { store: { status: string } };
        expect(health.store.status).toBe('up');
        expect(again.output()).toContain(`embedded PGlite (${dataDir})`);
      } finally {
        expect(await again.stop()).toBe(0);
      }
    }, 90_000);
  }

  if (testBackend === 'postgres') {
    it('refuses to start on a real server without CX_MASTER_KEY, saying how to make one', async () => {
      const error = await startApp(undefined, { ...env, CX_MASTER_KEY: '' }).then(
        async (app) => {
          await app.stop();
          return 'started';
        },
        (e: Error) => e.message,
      );
      expect(error).toContain('CX_MASTER_KEY');
      expect(error).toContain('openssl rand -base64 32');
    }, 30_000);
  }

  it('refuses bad configuration with a message naming the variable', async () => {
    const error = await startApp(undefined, { ...env, PORT: 'eighty' }).then(
      async (app) => {
        await app.stop();
        return 'started';
      },
      (e: Error) => e.message,
    );
    expect(error).toContain('PORT: must be an integer from 0 to 65535, got "eighty"');
  }, 30_000);
});
