import { createHash, randomBytes } from 'node:crypto';
import {
  ApiKeyVerifier,
  digestApiKey,
  digestFromStoredHash,
  type KnownApiKey,
  matchDigest,
  storedHashOf,
} from './api-key.verifier.js';

describe('API key digests', () => {
  it('are the 32-byte SHA-256 of the key whatever its length, so timingSafeEqual always compares equal lengths', () => {
    for (const key of ['k', 'k1', 'x'.repeat(1000)]) {
      const digest = digestApiKey(key);
      expect(digest).toHaveLength(32);
      expect(digest.equals(createHash('sha256').update(key).digest())).toBe(true);
    }
  });

  it('round-trip through the stored form, which does not contain the key', () => {
    const key = `cx_${randomBytes(32).toString('base64url')}`;
    const stored = storedHashOf(key);
    expect(stored).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(stored).not.toContain(key);
    expect(digestFromStoredHash(stored)?.equals(digestApiKey(key))).toBe(true);
  });

  it('refuse stored hashes in a form they cannot check', () => {
    expect(digestFromStoredHash('md5:abc')).toBeUndefined();
    expect(digestFromStoredHash(`sha256:${'0'.repeat(63)}`)).toBeUndefined();
    expect(digestFromStoredHash(`sha256:${'A'.repeat(64)}`)).toBeUndefined();
  });
});

describe('matchDigest', () => {
  const keys = ['first-key', 'second-key', 'third-key'].map((key, i) => ({ keyId: `id${i}`, scopes: [], digest: digestApiKey(key) }));

  it('finds the matching key wherever it is in the list', () => {
    expect(matchDigest(keys, digestApiKey('first-key'))?.keyId).toBe('id0');
    expect(matchDigest(keys, digestApiKey('third-key'))?.keyId).toBe('id2');
    expect(matchDigest(keys, digestApiKey('fourth-key'))).toBeUndefined();
    expect(matchDigest([], digestApiKey('first-key'))).toBeUndefined();
  });

  it('compares against every key even after a match, so the time taken does not reveal which key matched', () => {
    let compared = 0;
    const counted = keys.map((key) => ({
      ...key,
      get digest() {
        compared++;
        return key.digest;
      },
    }));
    expect(matchDigest(counted, digestApiKey('first-key'))?.keyId).toBe('id0');
    expect(compared).toBe(keys.length);
  });
});

describe('ApiKeyVerifier', () => {
  it('accepts configured keys by their digest and returns the principal without the key', async () => {
    const verifier = ApiKeyVerifier.forKeys([
      { id: 'CX_API_KEYS#1', key: 'k1', scopes: ['ingest'] },
      { id: 'CX_API_KEYS#2', key: 'k2', scopes: ['read', 'ops'] },
    ]);
    const principal = await verifier.verify('k2');
    expect(principal).toEqual({ keyId: 'CX_API_KEYS#2', scopes: ['read', 'ops'] });
    expect(JSON.stringify(principal)).not.toContain('"k2"');
  });

  it('rejects unknown, empty, near-miss and oversized keys', async () => {
    const verifier = ApiKeyVerifier.forKeys([{ id: 'a', key: 'k1', scopes: ['ingest'] }]);
    for (const key of ['', 'k2', 'k1 ', 'K1', 'k10', 'k'.repeat(2000)]) expect(await verifier.verify(key)).toBeUndefined();
  });

  it('reloads a stale set before use, and an unknown key reloads at most once per interval', async () => {
    let now = 0;
    let loads = 0;
    let stored: KnownApiKey[] = [{ keyId: 'old', scopes: ['read'], digest: digestApiKey('old-key') }];
    const verifier = new ApiKeyVerifier(stored, {
      load: async () => {
        loads++;
        return stored;
      },
      maxAgeMs: 10_000,
      missReloadMs: 1_000,
      now: () => now,
    });
    expect(await verifier.verify('old-key')).toMatchObject({ keyId: 'old' });
    expect(loads).toBe(0);

    stored = [{ keyId: 'new', scopes: ['read'], digest: digestApiKey('new-key') }];
    expect(await verifier.verify('new-key')).toBeUndefined(); // a miss within the interval: no reload
    expect(loads).toBe(0);
    now = 1_000;
    expect(await verifier.verify('new-key')).toMatchObject({ keyId: 'new' }); // miss after the interval reloads
    expect(loads).toBe(1);
    expect(await verifier.verify('junk')).toBeUndefined();
    expect(loads).toBe(1);

    stored = [];
    now = 5_000;
    expect(await verifier.verify('new-key')).toMatchObject({ keyId: 'new' }); // a hit within maxAge trusts the cache
    now = 11_000;
    expect(await verifier.verify('new-key')).toBeUndefined(); // stale: reloaded first, the key is gone
    expect(loads).toBe(2);
  });

  it('keeps the last set when a reload fails', async () => {
    let now = 0;
    const verifier = new ApiKeyVerifier([{ keyId: 'a', scopes: ['ops'], digest: digestApiKey('a-key') }], {
      load: () => Promise.reject(new Error('database away')),
      maxAgeMs: 10,
      now: () => now,
    });
    now = 20;
    expect(await verifier.verify('a-key')).toMatchObject({ keyId: 'a' });
  });

  it('shares one reload between concurrent callers', async () => {
    let now = 0;
    let loads = 0;
    const verifier = new ApiKeyVerifier([], {
      load: async () => {
        loads++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return [{ keyId: 'a', scopes: ['ops'], digest: digestApiKey('a-key') }];
      },
      maxAgeMs: 10,
      now: () => now,
    });
    now = 20;
    const results = await Promise.all([verifier.verify('a-key'), verifier.verify('a-key'), verifier.verify('a-key')]);
    expect(results.map((r) => r?.keyId)).toEqual(['a', 'a', 'a']);
    expect(loads).toBe(1);
  });
});
