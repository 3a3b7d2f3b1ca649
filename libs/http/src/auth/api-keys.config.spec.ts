import { ConfigError } from '@cx/platform';
import { ApiKeysConfigError, loadApiKeysConfig, parseApiKeys } from './api-keys.config.js';

const LONG = 'a1b2c3d4e5f6a7b8c9d0';

function failure(raw: string): ApiKeysConfigError {
  try {
    parseApiKeys(raw);
  } catch (error) {
    if (error instanceof ApiKeysConfigError) return error;
    throw error;
  }
  throw new Error(`parsed without error: ${raw}`);
}

describe('CX_API_KEYS parsing', () => {
  it('parses the issue example into keys with their scopes, entries numbered from 1', () => {
    expect(parseApiKeys('k1:ingest,k2:read,k3:ops+read+ingest').keys).toEqual([
      { entry: 1, key: 'k1', scopes: ['ingest'] },
      { entry: 2, key: 'k2', scopes: ['read'] },
      { entry: 3, key: 'k3', scopes: ['ops', 'read', 'ingest'] },
    ]);
  });

  it('tolerates spaces around entries, keys and scopes', () => {
    expect(parseApiKeys(` ${LONG} : read + ops , k2:ingest `).keys).toEqual([
      { entry: 1, key: LONG, scopes: ['read', 'ops'] },
      { entry: 2, key: 'k2', scopes: ['ingest'] },
    ]);
  });

  it('accepts base64 and base64url keys, padding included', () => {
    const keys = parseApiKeys('cx_AbC-dEf_123.~x:read,QUJD+/xyz==:ops').keys;
    expect(keys.map((k) => k.key)).toEqual(['cx_AbC-dEf_123.~x', 'QUJD+/xyz==']);
  });

  it('accepts short keys but warns about each, by entry and without the key', () => {
    const { keys, warnings } = parseApiKeys(`k1:ingest,${LONG}:read,shortkey:ops`);
    expect(keys).toHaveLength(3);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^CX_API_KEYS entry 1: the key is shorter than 16 characters/);
    expect(warnings[1]).toMatch(/^CX_API_KEYS entry 3:/);
    expect(warnings.join(' ')).not.toContain('shortkey');
  });

  it('does not warn about keys of 16 characters or more', () => {
    expect(parseApiKeys(`${'x'.repeat(16)}:read`).warnings).toEqual([]);
  });

  const rejected: [string, string, number, RegExp][] = [
    ['an unknown scope', 'k1:ingest,secretkey2:admin', 2, /scope 1 of 1 is not one of ingest, read, ops/],
    ['an unknown scope among known ones', 'secretkey1:read+writ', 1, /scope 2 of 2 is not one of/],
    ['an empty key', 'k1:read,:ingest', 2, /empty key/],
    ['a duplicate key', 'k1:read,secretkey2:ops,secretkey2:ingest', 3, /repeats the key of entry 2/],
    ['missing scopes (no colon)', 'k1:read,secretkey2', 2, /has no scopes/],
    ['missing scopes (empty after the colon)', 'secretkey1:', 1, /has no scopes/],
    ['an empty scope between +', 'secretkey1:read++ops', 1, /scope 2 of 3 is not one of/],
    ['a repeated scope', 'secretkey1:read+read', 1, /lists the scope read twice/],
    ['an empty entry (trailing comma)', 'k1:read,', 2, /is empty/],
    ['an empty entry (double comma)', 'k1:read,,k2:ops', 2, /is empty/],
    ['a key with a colon in it', 'secret:key1:read', 1, /may only contain/],
    ['a key with a space in it', 'secret key1:read', 1, /may only contain/],
    ['scope and key swapped', 'read:secretkey1', 1, /scope 1 of 1 is not one of/],
  ];
  it.each(rejected)('rejects %s naming CX_API_KEYS and the entry, never the key', (_name, raw, entry, reason) => {
    const error = failure(raw);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe('CX_API_KEYS');
    expect(error.entry).toBe(entry);
    expect(error.message).toMatch(new RegExp(`^CX_API_KEYS: entry ${entry}: `));
    expect(error.message).toMatch(reason);
    for (const secret of ['secretkey1', 'secretkey2', 'secret key1', 'secret:key1']) expect(error.message).not.toContain(secret);
  });

  it('rejects a value of only spaces instead of running without keys', () => {
    expect(failure('   ').message).toBe('CX_API_KEYS: entry 1: is empty; write key:scope+scope');
  });
});

describe('loadApiKeysConfig', () => {
  it('uses the stored keys when CX_API_KEYS is unset or empty', () => {
    expect(loadApiKeysConfig({})).toEqual({ mode: 'stored' });
    expect(loadApiKeysConfig({ CX_API_KEYS: '' })).toEqual({ mode: 'stored' });
  });

  it('uses exactly the configured keys when CX_API_KEYS is set', () => {
    const config = loadApiKeysConfig({ CX_API_KEYS: 'k1:ingest' });
    expect(config).toMatchObject({ mode: 'configured', keys: [{ entry: 1, key: 'k1', scopes: ['ingest'] }] });
  });

  it('throws on a bad value rather than falling back to stored keys', () => {
    expect(() => loadApiKeysConfig({ CX_API_KEYS: 'k1:root' })).toThrow(ApiKeysConfigError);
  });
});
