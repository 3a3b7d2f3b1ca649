import { migrate } from '@cx/event-store';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import pg from 'pg';
import { API_SCOPES, parseApiKeys } from './api-keys.config.js';
import { apiKeyMigrations } from './api-keys.migrations.js';
import { revokeApiKey } from './api-key.store.js';
import { storedHashOf } from './api-key.verifier.js';
import { startApiKeys } from './auth.module.js';

describe(`stored API keys on ${testBackend}`, () => {
  let database: TestDatabase;
  const extraPools: pg.Pool[] = [];

  /** Another process's connections: its own pool on a real server; PGlite has one session, so its one pool. */
  function otherProcessPool(): pg.Pool {
    if (!database.url) return database.pool;
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    // The forced DROP DATABASE at teardown cuts idle connections; a pool without a listener would throw.
    pool.on('error', () => undefined);
    extraPools.push(pool);
    return pool;
  }

  async function rows() {
    const result = await database.pool.query<{ id: string; key_hash: string; scopes: string[]; revoked_at: Date | null }>(
      'SELECT id, key_hash, scopes, revoked_at FROM cx_api_keys ORDER BY created_at, id',
    );
    return result.rows;
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    await migrate(database.pool, apiKeyMigrations);
  });
  beforeEach(async () => {
    await database.pool.query('DELETE FROM cx_api_keys');
  });
  afterAll(async () => {
    await Promise.all(extraPools.map((pool) => pool.end()));
    await database?.close();
  });

  it('keeps keys in cx_api_keys with the columns the issue names, migrated once', async () => {
    const { rows: columns } = await database.pool.query<{ column_name: string; data_type: string; is_nullable: string }>(
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'cx_api_keys' ORDER BY ordinal_position",
    );
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'text', is_nullable: 'NO' },
      { column_name: 'key_hash', data_type: 'text', is_nullable: 'NO' },
      { column_name: 'scopes', data_type: 'ARRAY', is_nullable: 'NO' },
      { column_name: 'created_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
      { column_name: 'revoked_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
    ]);
    expect(await migrate(database.pool, apiKeyMigrations)).toEqual([]);
  });

  it('generates one key with every scope on first start, and nothing on the next start', async () => {
    const first = await startApiKeys({ mode: 'stored' }, { pool: database.pool });
    expect(first.generated).toMatchObject({ id: expect.stringMatching(/^key_[0-9a-f]{16}$/), scopes: [...API_SCOPES] });
    expect(first.generated?.key).toMatch(/^cx_[A-Za-z0-9_-]{43}$/);

    const second = await startApiKeys({ mode: 'stored' }, { pool: database.pool });
    expect(second.generated).toBeUndefined();
    expect(await rows()).toHaveLength(1);
    expect(await second.verifier.verify(first.generated!.key)).toEqual({ keyId: first.generated!.id, scopes: [...API_SCOPES] });
  });

  it('stores only a hash: the row holds sha256:<hex> of the key, never the key', async () => {
    const { generated } = await startApiKeys({ mode: 'stored' }, { pool: database.pool });
    const [row] = await rows();
    expect(row.id).toBe(generated!.id);
    expect(row.key_hash).toBe(storedHashOf(generated!.key));
    expect(row.key_hash).not.toContain(generated!.key);
    expect(row.key_hash).not.toContain(generated!.key.slice(3));
    expect(row.scopes).toEqual([...API_SCOPES]);
    const dump = await database.pool.query<{ text: string }>('SELECT cx_api_keys::text AS text FROM cx_api_keys');
    expect(dump.rows[0].text).not.toContain(generated!.key.slice(3, 20));
  });

  it('generates exactly one key when several processes start at once', async () => {
    const processes = Array.from({ length: 8 }, otherProcessPool);
    // Several rounds: a missing lock loses this race most of the time, not every time.
    for (let round = 0; round < 5; round++) {
      await database.pool.query('DELETE FROM cx_api_keys');
      const starts = await Promise.all(processes.map((pool) => startApiKeys({ mode: 'stored' }, { pool })));
      const generated = starts.flatMap((start) => (start.generated ? [start.generated] : []));
      expect(generated).toHaveLength(1);
      expect((await rows()).map((row) => row.id)).toEqual([generated[0].id]);
      for (const start of starts) expect(await start.verifier.verify(generated[0].key)).toMatchObject({ keyId: generated[0].id });
    }
  });

  it('verifies a stored key, refuses an unknown one, and stops accepting a revoked one', async () => {
    const { verifier, generated } = await startApiKeys({ mode: 'stored' }, { pool: database.pool, maxAgeMs: 60_000 });
    expect(await verifier.verify(generated!.key)).toEqual({ keyId: generated!.id, scopes: [...API_SCOPES] });
    expect(await verifier.verify(`cx_${'A'.repeat(43)}`)).toBeUndefined();
    expect(await verifier.verify(generated!.key.slice(0, -1))).toBeUndefined();

    expect(await revokeApiKey(database.pool, generated!.id)).toBe(true);
    expect(await revokeApiKey(database.pool, generated!.id)).toBe(false);
    expect(await verifier.verify(generated!.key)).toMatchObject({ keyId: generated!.id }); // cached until reloaded
    await verifier.reload();
    expect(await verifier.verify(generated!.key)).toBeUndefined();
    expect((await rows())[0].revoked_at).toBeInstanceOf(Date);
  });

  it('drops a revoked key on its own once the cache is older than maxAgeMs', async () => {
    const { verifier, generated } = await startApiKeys({ mode: 'stored' }, { pool: database.pool, maxAgeMs: 50 });
    await revokeApiKey(database.pool, generated!.id);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await verifier.verify(generated!.key)).toBeUndefined();
  });

  it('accepts a key stored by another process on the first miss', async () => {
    const { verifier } = await startApiKeys({ mode: 'stored' }, { pool: database.pool, missReloadMs: 0 });
    const key = `cx_${'B'.repeat(43)}`;
    await otherProcessPool().query("INSERT INTO cx_api_keys (id, key_hash, scopes) VALUES ('key_other', $1, '{read}')", [storedHashOf(key)]);
    expect(await verifier.verify(key)).toEqual({ keyId: 'key_other', scopes: ['read'] });
  });

  it('ignores scopes it does not know in a stored row rather than trusting them', async () => {
    const key = `cx_${'C'.repeat(43)}`;
    await database.pool.query("INSERT INTO cx_api_keys (id, key_hash, scopes) VALUES ('key_odd', $1, '{read,admin}')", [storedHashOf(key)]);
    const { verifier, generated } = await startApiKeys({ mode: 'stored' }, { pool: database.pool });
    expect(generated).toBeUndefined();
    expect(await verifier.verify(key)).toEqual({ keyId: 'key_odd', scopes: ['read'] });
  });

  it('generates a new key on the next start after every key was revoked', async () => {
    const first = await startApiKeys({ mode: 'stored' }, { pool: database.pool });
    await revokeApiKey(database.pool, first.generated!.id);
    const next = await startApiKeys({ mode: 'stored' }, { pool: database.pool });
    expect(next.generated?.id).toBeDefined();
    expect(next.generated?.id).not.toBe(first.generated!.id);
    expect(await next.verifier.verify(first.generated!.key)).toBeUndefined();
    expect(await next.verifier.verify(next.generated!.key)).toMatchObject({ keyId: next.generated!.id });
  });

  it('with CX_API_KEYS set, neither generates nor accepts stored keys', async () => {
    const storedKey = `cx_${'D'.repeat(43)}`;
    await database.pool.query("INSERT INTO cx_api_keys (id, key_hash, scopes) VALUES ('key_stored', $1, '{ops}')", [storedHashOf(storedKey)]);
    await revokeApiKey(database.pool, 'key_stored');
    const { verifier, generated } = await startApiKeys({ mode: 'configured', ...parseApiKeys('k1:ingest') }, { pool: database.pool });
    expect(generated).toBeUndefined();
    expect(await rows()).toHaveLength(1);
    expect(await verifier.verify('k1')).toEqual({ keyId: 'CX_API_KEYS#1', scopes: ['ingest'] });
    await database.pool.query('UPDATE cx_api_keys SET revoked_at = NULL');
    expect(await verifier.verify(storedKey)).toBeUndefined();
  });
});
