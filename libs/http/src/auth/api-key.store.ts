import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { API_SCOPES, type ApiScope, isApiScope } from './api-keys.config.js';
import { digestFromStoredHash, type KnownApiKey, storedHashOf } from './api-key.verifier.js';

/** Serialises first-start key generation across processes; distinct from the migration lock. */
const GENERATE_LOCK = 4_210_017_200;

/** A freshly generated key. `key` exists only here: the caller shows it once and drops it. */
export type GeneratedApiKey = { id: string; key: string; scopes: ApiScope[] };

/** `cx_` and 32 random bytes, base64url: 256 bits, fits a Bearer header unquoted. */
export function newApiKey(): string {
  return `cx_${randomBytes(32).toString('base64url')}`;
}

/**
 * Generates a key with every scope if the table holds no active key, and stores its hash.
 * The advisory lock makes concurrent starters take turns, so the second one sees the first one's
 * key and generates nothing. Counting only unrevoked keys means revoking the last key and
 * restarting issues a new one, instead of locking everyone out.
 */
export async function generateKeyIfNone(pool: Pool, scopes: readonly ApiScope[] = API_SCOPES): Promise<GeneratedApiKey | undefined> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [GENERATE_LOCK]);
    const active = await client.query('SELECT 1 FROM cx_api_keys WHERE revoked_at IS NULL LIMIT 1');
    if (active.rowCount !== 0) {
      await client.query('COMMIT');
      return undefined;
    }
    const generated: GeneratedApiKey = { id: `key_${randomBytes(8).toString('hex')}`, key: newApiKey(), scopes: [...scopes] };
    await client.query('INSERT INTO cx_api_keys (id, key_hash, scopes) VALUES ($1, $2, $3)', [
      generated.id,
      storedHashOf(generated.key),
      generated.scopes,
    ]);
    await client.query('COMMIT');
    return generated;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The unrevoked keys, by digest. Rows in a hash form or with scopes this version does not know are skipped, not trusted. */
export async function loadActiveKeys(pool: Pool): Promise<KnownApiKey[]> {
  const { rows } = await pool.query<{ id: string; key_hash: string; scopes: string[] }>(
    'SELECT id, key_hash, scopes FROM cx_api_keys WHERE revoked_at IS NULL ORDER BY id',
  );
  const keys: KnownApiKey[] = [];
  for (const row of rows) {
    const digest = digestFromStoredHash(row.key_hash);
    if (digest) keys.push({ keyId: row.id, scopes: row.scopes.filter(isApiScope), digest });
  }
  return keys;
}

/** Marks a key revoked; verifiers stop accepting it within their reload interval. False if no such active key. */
export async function revokeApiKey(pool: Pool, id: string): Promise<boolean> {
  const result = await pool.query('UPDATE cx_api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return result.rowCount === 1;
}
