import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError } from '../config.js';
import { loadMasterKey, MASTER_KEY_FILE, MasterKey } from './master-key.js';
import { MasterKeyError, PiiDecryptionError } from './pii.errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cx-master-key-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function loadError(run: () => unknown): MasterKeyError {
  try {
    run();
  } catch (error) {
    if (error instanceof MasterKeyError) return error;
    throw error;
  }
  throw new Error('expected a MasterKeyError');
}

describe('master key from CX_MASTER_KEY', () => {
  it('takes the base64 of 32 bytes, with or without padding, and fingerprints it', () => {
    const secret = randomBytes(32).toString('base64');
    const key = loadMasterKey({ env: { CX_MASTER_KEY: secret }, dataDir: dir, embedded: false });
    expect(key.source).toBe('env');
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    const unpadded = loadMasterKey({ env: { CX_MASTER_KEY: ` ${secret.replace(/=+$/, '')}\n` }, dataDir: dir, embedded: false });
    expect(unpadded.id).toBe(key.id);
    const other = loadMasterKey({ env: { CX_MASTER_KEY: randomBytes(32).toString('base64') }, dataDir: dir, embedded: false });
    expect(other.id).not.toBe(key.id);
  });

  it('wins over the key file of the embedded data folder', () => {
    const fromFile = loadMasterKey({ env: {}, dataDir: dir, embedded: true });
    const fromEnv = loadMasterKey({ env: { CX_MASTER_KEY: randomBytes(32).toString('base64') }, dataDir: dir, embedded: true });
    expect(fromEnv.source).toBe('env');
    expect(fromEnv.id).not.toBe(fromFile.id);
  });

  it.each([
    ['too short', randomBytes(31).toString('base64')],
    ['too long', randomBytes(33).toString('base64')],
    ['hex, not base64', randomBytes(32).toString('hex')],
    ['base64url', 'A-_' + randomBytes(30).toString('base64url').slice(3) + 'AA'],
    ['foreign characters', `${randomBytes(32).toString('base64').slice(0, 20)}!${randomBytes(32).toString('base64').slice(20)}`],
    ['a passphrase', 'correct horse battery staple'],
  ])('refuses a malformed key (%s) with a typed error naming the variable, not the value', (_case, value) => {
    const error = loadError(() => loadMasterKey({ env: { CX_MASTER_KEY: value }, dataDir: dir, embedded: true }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe('CX_MASTER_KEY');
    expect(error.problem).toBe('invalid');
    expect(error.message).toContain('CX_MASTER_KEY');
    expect(error.message).toContain('32 bytes');
    expect(error.message).not.toContain(value);
  });

  it('is required with a real PostgreSQL server, and the error tells how to make one', () => {
    for (const env of [{}, { CX_MASTER_KEY: '' }, { CX_MASTER_KEY: '  ' }]) {
      const error = loadError(() => loadMasterKey({ env, dataDir: dir, embedded: false }));
      expect(error.problem).toBe('required');
      expect(error.variable).toBe('CX_MASTER_KEY');
      expect(error.message).toContain('openssl rand -base64 32');
      expect(error.message).toContain('randomBytes(32)');
    }
    expect(existsSync(join(dir, MASTER_KEY_FILE))).toBe(false);
  });
});

describe('master key of the embedded database', () => {
  it('is generated once into <dataDir>/master.key, mode 0600, and reused on later starts', () => {
    const dataDir = join(dir, 'nested', 'data');
    const first = loadMasterKey({ env: {}, dataDir, embedded: true });
    const file = join(dataDir, MASTER_KEY_FILE);
    expect(first.source).toBe('file');
    expect(first.file).toBe(file);
    expect(first.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    const again = loadMasterKey({ env: {}, dataDir, embedded: true });
    expect(again.created).toBe(false);
    expect(again.id).toBe(first.id);
  });

  it('creates the file 0600 whatever the umask, and leaves no temporary file behind', () => {
    const previous = process.umask(0o000);
    try {
      loadMasterKey({ env: {}, dataDir: dir, embedded: true });
    } finally {
      process.umask(previous);
    }
    expect(statSync(join(dir, MASTER_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, MASTER_KEY_FILE), 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(readdirSync(dir)).toEqual([MASTER_KEY_FILE]);
  });

  it('uses a key file written by someone else (a restore, or another process that won the race)', () => {
    const secret = randomBytes(32);
    writeFileSync(join(dir, MASTER_KEY_FILE), `${secret.toString('base64')}\n`, { mode: 0o600 });
    const key = loadMasterKey({ env: {}, dataDir: dir, embedded: true });
    expect(key.created).toBe(false);
    expect(key.id).toBe(new MasterKey(secret, 'env').id);
  });

  it('refuses a damaged key file rather than replacing it', () => {
    writeFileSync(join(dir, MASTER_KEY_FILE), 'not a key\n');
    const error = loadError(() => loadMasterKey({ env: {}, dataDir: dir, embedded: true }));
    expect(error.problem).toBe('invalid');
    expect(error.message).toContain(join(dir, MASTER_KEY_FILE));
    expect(readFileSync(join(dir, MASTER_KEY_FILE), 'utf8')).toBe('not a key\n');
  });

  it("is ephemeral for an in-memory database: a new key each time, and no file", () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const a = loadMasterKey({ env: {}, dataDir: 'memory', embedded: true });
      const b = loadMasterKey({ env: {}, dataDir: 'memory', embedded: true });
      expect(a.source).toBe('ephemeral');
      expect(a.id).not.toBe(b.id);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('MasterKey', () => {
  const secret = randomBytes(32);
  const key = new MasterKey(secret, 'env');

  it('never shows its secret: not in JSON, inspect, describe or its own properties', () => {
    const shown = [JSON.stringify({ key }), inspect(key, { showHidden: true, depth: 5 }), key.describe(), JSON.stringify(Object.entries(key))];
    for (const text of shown) {
      expect(text).not.toContain(secret.toString('base64'));
      expect(text).not.toContain(secret.toString('hex'));
    }
    expect(key.describe()).toContain(key.id);
  });

  it('wraps a data key so that it opens only for the same customer and master key', () => {
    const dataKey = randomBytes(32);
    const wrapped = key.wrap(dataKey, 'c-1');
    expect(wrapped).toHaveLength(12 + 32 + 16);
    expect(wrapped.includes(dataKey)).toBe(false);
    expect(key.wrap(dataKey, 'c-1').equals(wrapped)).toBe(false);
    expect(key.unwrap(wrapped, 'c-1').equals(dataKey)).toBe(true);
    expect(() => key.unwrap(wrapped, 'c-2')).toThrow(PiiDecryptionError);
    expect(() => new MasterKey(randomBytes(32), 'env').unwrap(wrapped, 'c-1')).toThrow(PiiDecryptionError);
    const tampered = Buffer.from(wrapped);
    tampered[20] ^= 1;
    expect(() => key.unwrap(tampered, 'c-1')).toThrow(PiiDecryptionError);
  });

  it('refuses a secret that is not 32 bytes', () => {
    expect(() => new MasterKey(randomBytes(16), 'env')).toThrow(RangeError);
  });
});
