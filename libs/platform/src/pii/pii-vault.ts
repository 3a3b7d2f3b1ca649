import { createSecretKey, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { DataKeyCache, type DataKeyState } from './data-key-cache.js';
import type { MasterKey } from './master-key.js';
import { isSealed, openValue, sealValue } from './pii-format.js';
import { CustomerErasedError, MasterKeyMismatchError } from './pii.errors.js';

const DATA_KEY_BYTES = 32;

export type PiiVaultOptions = {
  pool: Pool;
  masterKey: MasterKey;
  /** Most unwrapped data keys kept in memory (least recently used go first). 0 turns the cache off. */
  cacheSize?: number;
  /**
   * How long a cached key is used before it is read again. An erase in this process evicts at once;
   * an erase in another process reaches this one within this time (or on restart).
   */
  cacheTtlMs?: number;
  /** The clock of the cache, for tests. */
  now?: () => number;
};

/** A customer's event data and which of its fields are personal. */
export type PiiRecord = { customerId: string; data: Record<string, unknown>; fields: readonly string[] };

/** Opened data. A field of an erased customer is null in `data` and named in `erased`. */
export type UnsealedRecord = { data: Record<string, unknown>; erased: string[] };

type KeyRow = { customer_id: string; wrapped_key: Buffer | null; master_key_id: string; erased_at: Date | null };

/**
 * Encrypts personal data with a key per customer, so erasing one key (crypto-shredding) makes every
 * copy of that customer's data unreadable: in the event log, projections fed from it, and backups.
 *
 * Keys are created in their own autocommitted statement, never inside a caller's transaction: a key
 * rolled back after values were sealed with it would leave those values unreadable.
 *
 * Erasure is final. The row stays as a tombstone, sealing for the customer again raises
 * CustomerErasedError, and reading their sealed values gives null. Other processes may keep a
 * cached key for up to `cacheTtlMs` after an erase here. PostgreSQL keeps the old row version
 * (still wrapped by the master key) until VACUUM, and backups keep it until they are rotated.
 */
export class PiiVault {
  static readonly DEFAULT_CACHE_SIZE = 50_000;
  static readonly DEFAULT_CACHE_TTL_MS = 5 * 60_000;

  readonly #pool: Pool;
  readonly #masterKey: MasterKey;
  readonly #cache: DataKeyCache;

  constructor(options: PiiVaultOptions) {
    this.#pool = options.pool;
    this.#masterKey = options.masterKey;
    this.#cache = new DataKeyCache(
      options.cacheSize ?? PiiVault.DEFAULT_CACHE_SIZE,
      options.cacheTtlMs ?? PiiVault.DEFAULT_CACHE_TTL_MS,
      options.now,
    );
  }

  /** Seals one value; creates the customer's key on first use. */
  async seal(customerId: string, value: string, field: string): Promise<string> {
    const [sealed] = await this.sealFields([{ customerId, data: { [field]: value }, fields: [field] }]);
    return sealed[field] as string;
  }

  /**
   * Copies of each item's data with the listed string fields sealed (an item with nothing to seal
   * comes back as it is, not copied); absent and null fields stay as they are, any other type is refused rather than stored in the clear. Every value is sealed, even
   * one that looks sealed: a client cannot smuggle a foreign ciphertext in. Keys come from the cache,
   * then one SELECT, then one INSERT for the customers without one (and one more SELECT for the
   * customers another writer created meanwhile). Raises CustomerErasedError naming every erased
   * customer of the batch, and seals nothing then.
   */
  async sealFields(items: readonly PiiRecord[]): Promise<Array<Record<string, unknown>>> {
    const customers = new Set<string>();
    for (const item of items) {
      for (const field of item.fields) {
        const value = item.data[field];
        if (value === undefined || value === null) continue;
        if (typeof value !== 'string') {
          throw new TypeError(`PII field ${JSON.stringify(field)} must be a string, got ${Array.isArray(value) ? 'array' : typeof value}`);
        }
        customers.add(item.customerId);
      }
    }
    const keys = await this.#keys(customers, 'create');
    const erased = [...customers].filter((id) => keys.get(id)?.state !== 'live');
    if (erased.length > 0) throw new CustomerErasedError(erased);
    return items.map(({ customerId, data, fields }) => {
      const key = keys.get(customerId);
      let copy: Record<string, unknown> | undefined;
      for (const field of fields) {
        const value = data[field];
        if (typeof value === 'string' && key?.state === 'live') {
          copy ??= copyOf(data);
          copy[field] = sealValue(key.key, customerId, field, value);
        }
      }
      return copy ?? data;
    });
  }

  /** The plain value; null when the customer was erased. A value that was never sealed comes back as it is. */
  async unseal(customerId: string, value: string, field: string): Promise<string | null> {
    if (!isSealed(value)) return value;
    const [opened] = await this.unsealFields([{ customerId, data: { [field]: value }, fields: [field] }]);
    return opened.data[field] as string | null;
  }

  /**
   * Copies with the listed sealed fields opened. Needs at most one query, for the keys not cached;
   * never creates a key. A missing key row counts as erased. Raises PiiDecryptionError for a value
   * that does not open, and MasterKeyMismatchError for keys wrapped by another master key.
   */
  async unsealFields(items: readonly PiiRecord[]): Promise<UnsealedRecord[]> {
    const customers = new Set<string>();
    for (const item of items) {
      if (item.fields.some((field) => isSealed(item.data[field]))) customers.add(item.customerId);
    }
    const keys = await this.#keys(customers, 'read');
    return items.map(({ customerId, data, fields }) => {
      const copy = { ...data };
      const erased: string[] = [];
      const key = keys.get(customerId);
      for (const field of fields) {
        const value = copy[field];
        if (!isSealed(value)) continue;
        if (key?.state === 'live') {
          copy[field] = openValue(key.key, customerId, field, value);
        } else {
          copy[field] = null;
          erased.push(field);
        }
      }
      return { data: copy, erased };
    });
  }

  /**
   * Crypto-shreds a customer's personal data: drops their data key and leaves a tombstone, also for
   * a customer who never had a key, so none is made later. Idempotent; the first erase time is kept.
   */
  async erase(customerId: string): Promise<void> {
    await this.#pool.query(
      `INSERT INTO cx_data_keys (customer_id, wrapped_key, master_key_id, erased_at)
       VALUES ($1, NULL, $2, now())
       ON CONFLICT (customer_id) DO UPDATE
         SET wrapped_key = NULL, erased_at = COALESCE(cx_data_keys.erased_at, now())`,
      [customerId, this.#masterKey.id],
    );
    this.#cache.set(customerId, { state: 'erased' });
  }

  async #keys(customerIds: Iterable<string>, mode: 'create' | 'read'): Promise<Map<string, DataKeyState>> {
    const keys = new Map<string, DataKeyState>();
    const uncached: string[] = [];
    for (const id of customerIds) {
      const cached = this.#cache.get(id);
      if (cached) keys.set(id, cached);
      else uncached.push(id);
    }
    if (uncached.length === 0) return keys;
    await this.#load(uncached, keys);
    const absent = uncached.filter((id) => !keys.has(id));
    if (absent.length === 0) return keys;
    if (mode === 'read') {
      // Not cached: a key may still be created for a customer whose row was only missing.
      for (const id of absent) keys.set(id, { state: 'erased' });
      return keys;
    }
    // Rows go in sorted by customer id: two writers creating keys for overlapping customers then take
    // the rows in the same order, where in any order each could wait on a row the other holds (a deadlock).
    absent.sort();
    const material = randomBytes(DATA_KEY_BYTES * absent.length);
    const fresh = absent.map((id, i) => ({ id, key: material.subarray(i * DATA_KEY_BYTES, (i + 1) * DATA_KEY_BYTES) }));
    const { rows } = await this.#pool.query<{ customer_id: string }>(
      `INSERT INTO cx_data_keys (customer_id, wrapped_key, master_key_id)
       SELECT t.customer_id, t.wrapped_key, $3
         FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS t(customer_id, wrapped_key, n)
        ORDER BY t.n
       ON CONFLICT (customer_id) DO NOTHING
       RETURNING customer_id`,
      [absent, fresh.map(({ id, key }) => this.#masterKey.wrap(key, id)), this.#masterKey.id],
    );
    const inserted = new Set(rows.map((row) => row.customer_id));
    for (const { id, key } of fresh) {
      if (inserted.has(id)) keys.set(id, this.#cache.set(id, { state: 'live', key: createSecretKey(key) }));
    }
    material.fill(0);
    // Another writer made these keys between our SELECT and INSERT: use theirs.
    const raced = absent.filter((id) => !inserted.has(id));
    if (raced.length > 0) await this.#load(raced, keys);
    const lost = raced.filter((id) => !keys.has(id));
    if (lost.length > 0) throw new Error(`the data keys of ${lost.length} customers vanished while being created`);
    return keys;
  }

  /** Reads, unwraps and caches the keys of these customers; customers without a row are left out. */
  async #load(customerIds: string[], into: Map<string, DataKeyState>): Promise<void> {
    const { rows } = await this.#pool.query<KeyRow>(
      'SELECT customer_id, wrapped_key, master_key_id, erased_at FROM cx_data_keys WHERE customer_id = ANY($1::text[])',
      [customerIds],
    );
    const foreign = new Set<string>();
    for (const row of rows) {
      if (row.wrapped_key === null || row.erased_at !== null) {
        into.set(row.customer_id, this.#cache.set(row.customer_id, { state: 'erased' }));
      } else if (row.master_key_id !== this.#masterKey.id) {
        foreign.add(row.master_key_id);
      } else {
        const raw = this.#masterKey.unwrap(row.wrapped_key, row.customer_id);
        into.set(row.customer_id, this.#cache.set(row.customer_id, { state: 'live', key: createSecretKey(raw) }));
        raw.fill(0);
      }
    }
    if (foreign.size > 0) throw new MasterKeyMismatchError([...foreign], this.#masterKey.id);
  }
}

/**
 * `{ ...data }` by plain assignment: spreading the many object shapes JSON.parse hands out takes
 * V8's slow path (several times slower on ingest's events).
 */
function copyOf(data: Record<string, unknown>): Record<string, unknown> {
  if (Object.hasOwn(data, '__proto__')) return { ...data }; // assigning it would set the prototype
  const copy: Record<string, unknown> = {};
  for (const key in data) if (Object.hasOwn(data, key)) copy[key] = data[key];
  return copy;
}

/**
 * Startup check: refuses a master key other than the one the stored data keys were wrapped with,
 * before any request fails on it. Two index lookups (min and max), however many customers.
 */
export async function assertMasterKeyMatches(pool: Pool, masterKey: MasterKey): Promise<void> {
  const { rows } = await pool.query<{ lo: string | null; hi: string | null }>(
    'SELECT min(master_key_id) AS lo, max(master_key_id) AS hi FROM cx_data_keys WHERE wrapped_key IS NOT NULL',
  );
  const stored = new Set([rows[0]?.lo, rows[0]?.hi].filter((id): id is string => id !== null && id !== undefined && id !== masterKey.id));
  if (stored.size > 0) throw new MasterKeyMismatchError([...stored], masterKey.id);
}
