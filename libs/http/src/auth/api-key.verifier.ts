import { Logger } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiScope } from './api-keys.config.js';

/** Who made a request: safe to log, never carries the key. */
export type ApiKeyPrincipal = { keyId: string; scopes: readonly ApiScope[] };

/** A key the verifier accepts, known only by its digest. */
export type KnownApiKey = ApiKeyPrincipal & { digest: Buffer };

/**
 * Keys are high-entropy secrets (generated ones carry 256 random bits), so one SHA-256 is enough:
 * there is nothing to brute-force, and a slow KDF would cost every request. The `sha256:` prefix
 * in the stored form leaves room to change the algorithm later.
 */
export function digestApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function storedHashOf(key: string): string {
  return `sha256:${digestApiKey(key).toString('hex')}`;
}

/** The digest inside a stored `sha256:<hex>` hash, or undefined for a form this version cannot check. */
export function digestFromStoredHash(hash: string): Buffer | undefined {
  const match = /^sha256:([0-9a-f]{64})$/.exec(hash);
  return match ? Buffer.from(match[1], 'hex') : undefined;
}

/**
 * Compares the digest with every known key, without stopping at a match, each with
 * timingSafeEqual on equal-length (32-byte) digests: how long a check takes says nothing about
 * which key, or how much of one, matched.
 */
export function matchDigest<T extends { digest: Buffer }>(known: readonly T[], digest: Buffer): T | undefined {
  let found: T | undefined;
  for (const candidate of known) {
    if (timingSafeEqual(candidate.digest, digest) && found === undefined) found = candidate;
  }
  return found;
}

/** Longer than any key we issue or accept by a wide margin; bounds the hashing done for junk. */
const MAX_PRESENTED_LENGTH = 1024;

export type ApiKeyVerifierOptions = {
  /** Reloads the keys, for keys kept outside the process (the table). Without it the set is fixed. */
  load?: () => Promise<KnownApiKey[]>;
  /** A cached set older than this is reloaded before use: the longest a revoked key keeps working. */
  maxAgeMs?: number;
  /** An unknown key reloads the set if it is older than this: a key added elsewhere works at once, and junk keys cannot hammer the database. */
  missReloadMs?: number;
  now?: () => number;
};

/**
 * Checks presented keys against digests held in memory. Configured and stored keys take the same
 * path; stored ones are reloaded on a short interval or on a miss, so a request costs one hash and
 * no database round trip.
 */
export class ApiKeyVerifier {
  private readonly logger = new Logger('ApiKeys');
  private known: readonly KnownApiKey[];
  private loadedAt: number;
  private reloading: Promise<void> | undefined;
  private readonly maxAgeMs: number;
  private readonly missReloadMs: number;
  private readonly now: () => number;

  constructor(
    initial: readonly KnownApiKey[],
    private readonly options: ApiKeyVerifierOptions = {},
  ) {
    this.known = initial;
    this.now = options.now ?? Date.now;
    this.loadedAt = this.now();
    this.maxAgeMs = options.maxAgeMs ?? 10_000;
    this.missReloadMs = options.missReloadMs ?? 1_000;
  }

  /** Configured keys: hashed now, the plain keys dropped. */
  static forKeys(keys: readonly { id: string; key: string; scopes: readonly ApiScope[] }[]): ApiKeyVerifier {
    return new ApiKeyVerifier(keys.map(({ id, key, scopes }) => ({ keyId: id, scopes: [...scopes], digest: digestApiKey(key) })));
  }

  /** How many keys are accepted right now. */
  get size(): number {
    return this.known.length;
  }

  /** The principal of a valid key; undefined for an unknown, revoked or malformed one. */
  async verify(presented: string): Promise<ApiKeyPrincipal | undefined> {
    if (presented.length === 0 || presented.length > MAX_PRESENTED_LENGTH) return undefined;
    const digest = digestApiKey(presented);
    if (this.options.load && this.now() - this.loadedAt >= this.maxAgeMs) await this.reload();
    let match = matchDigest(this.known, digest);
    if (!match && this.options.load && this.now() - this.loadedAt >= this.missReloadMs) {
      await this.reload();
      match = matchDigest(this.known, digest);
    }
    return match && { keyId: match.keyId, scopes: match.scopes };
  }

  /**
   * Reloads now (one load at a time, shared by concurrent callers). A failed load keeps the last
   * set until the next interval: the database being briefly away should not lock every client out.
   */
  async reload(): Promise<void> {
    const load = this.options.load;
    if (!load) return;
    this.reloading ??= load()
      .then(
        (keys) => {
          this.known = keys;
        },
        (error: unknown) => {
          this.logger.warn(`reloading API keys failed, keeping the last ${this.known.length}: ${(error as Error).message}`);
        },
      )
      .finally(() => {
        this.loadedAt = this.now();
        this.reloading = undefined;
      });
    return this.reloading;
  }
}
