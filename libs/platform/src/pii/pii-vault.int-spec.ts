import { migrate } from '@cx/event-store';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { jest } from '@jest/globals';
import { createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { MasterKey } from './master-key.js';
import { isSealed, openValue } from './pii-format.js';
import { assertMasterKeyMatches, PiiVault } from './pii-vault.js';
import { CustomerErasedError, MasterKeyMismatchError, PiiDecryptionError } from './pii.errors.js';
import { piiMigrations } from './pii.migrations.js';

type KeyRow = { customer_id: string; wrapped_key: Buffer | null; master_key_id: string; created_at: Date; erased_at: Date | null };

const newCustomer = () => `cust-${randomUUID()}`;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe(`PII vault on ${testBackend}`, () => {
  let database: TestDatabase;
  let masterKey: MasterKey;
  let vault: PiiVault;

  const keyRows = async (customerIds: string[]) =>
    (await database.pool.query<KeyRow>('SELECT * FROM cx_data_keys WHERE customer_id = ANY($1::text[])', [customerIds])).rows;

  beforeAll(async () => {
    database = await openTestDatabase();
    await migrate(database.pool, piiMigrations);
    masterKey = new MasterKey(randomBytes(32), 'ephemeral');
    vault = new PiiVault({ pool: database.pool, masterKey });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('creates cx_data_keys with a versioned migration, and accepts any master key while it is empty', async () => {
    const { rows } = await database.pool.query<{ column_name: string; is_nullable: string }>(
      "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'cx_data_keys' ORDER BY ordinal_position",
    );
    expect(rows).toEqual([
      { column_name: 'customer_id', is_nullable: 'NO' },
      { column_name: 'wrapped_key', is_nullable: 'YES' },
      { column_name: 'master_key_id', is_nullable: 'NO' },
      { column_name: 'created_at', is_nullable: 'NO' },
      { column_name: 'erased_at', is_nullable: 'YES' },
    ]);
    const { rows: applied } = await database.pool.query<{ id: string }>('SELECT id FROM cx_schema_migrations ORDER BY id');
    expect(applied.map((r) => r.id)).toContain('0100_pii_data_keys');
    await expect(assertMasterKeyMatches(database.pool, new MasterKey(randomBytes(32), 'ephemeral'))).resolves.toBeUndefined();
  });

  it('seals and unseals a value; the same plaintext seals differently every time', async () => {
    const customer = newCustomer();
    const first = await vault.seal(customer, 'ana@example.com', 'email');
    const second = await vault.seal(customer, 'ana@example.com', 'email');
    expect(isSealed(first)).toBe(true);
    expect(first).not.toContain('ana@example.com');
    expect(second).not.toBe(first);
    expect(await vault.unseal(customer, first, 'email')).toBe('ana@example.com');
    expect(await new PiiVault({ pool: database.pool, masterKey }).unseal(customer, second, 'email')).toBe('ana@example.com');
  });

  it('stores only the wrapped data key: no plaintext, and not the raw key', async () => {
    const customer = newCustomer();
    const sealed = await vault.seal(customer, 'Ana María Núñez', 'name');
    const [row] = await keyRows([customer]);
    expect(row.master_key_id).toBe(masterKey.id);
    expect(row.erased_at).toBeNull();
    expect(row.wrapped_key).toHaveLength(60);
    const rawKey = masterKey.unwrap(row.wrapped_key!, customer);
    // The unwrapped bytes really are the data key: they open the sealed value.
    expect(openValue(createSecretKey(rawKey), customer, 'name', sealed)).toBe('Ana María Núñez');
    expect(row.wrapped_key!.includes(rawKey)).toBe(false);
    const { rows } = await database.pool.query<{ text: string }>('SELECT t::text AS text FROM cx_data_keys t WHERE customer_id = $1', [customer]);
    expect(rows[0].text).not.toContain('Ana');
    expect(rows[0].text).not.toContain(rawKey.toString('hex'));
  });

  it('seals the listed string fields of copies, leaving absent, null and other fields alone', async () => {
    const customer = newCustomer();
    const data = { customerId: customer, name: 'Ana', email: null, locale: 'es-ES', tier: 'A' };
    const [sealed] = await vault.sealFields([{ customerId: customer, data, fields: ['name', 'email', 'phone'] }]);
    expect(data.name).toBe('Ana');
    expect(isSealed(sealed.name)).toBe(true);
    expect(sealed.email).toBeNull();
    expect('phone' in sealed).toBe(false);
    expect(sealed).toMatchObject({ customerId: customer, locale: 'es-ES', tier: 'A' });
    const [opened] = await vault.unsealFields([{ customerId: customer, data: sealed, fields: ['name', 'email', 'phone'] }]);
    expect(opened).toEqual({ data, erased: [] });
  });

  it('refuses a PII field that is not a string instead of storing it in the clear', async () => {
    const customer = newCustomer();
    await expect(vault.sealFields([{ customerId: customer, data: { phone: 600123123 }, fields: ['phone'] }])).rejects.toThrow(
      /"phone" must be a string, got number/,
    );
    expect(await keyRows([customer])).toEqual([]);
  });

  it('does not create a key for a customer with nothing to seal', async () => {
    const customer = newCustomer();
    const [copy] = await vault.sealFields([{ customerId: customer, data: { nps: 9 }, fields: ['comment'] }]);
    expect(copy).toEqual({ nps: 9 });
    expect(await keyRows([customer])).toEqual([]);
  });

  it('passes plain values through: fields that were never sealed', async () => {
    const customer = newCustomer();
    expect(await vault.unseal(customer, 'Ana', 'name')).toBe('Ana');
    const [opened] = await vault.unsealFields([{ customerId: customer, data: { name: 'Ana', comment: 'great' }, fields: ['name', 'comment'] }]);
    expect(opened).toEqual({ data: { name: 'Ana', comment: 'great' }, erased: [] });
  });

  it('binds a sealed value to its customer and field', async () => {
    const [a, b] = [newCustomer(), newCustomer()];
    const sealed = await vault.seal(a, 'ana@example.com', 'email');
    await vault.seal(b, 'bob@example.com', 'email');
    const moved = await rejection(vault.unseal(b, sealed, 'email'));
    expect(moved).toBeInstanceOf(PiiDecryptionError);
    expect((moved as PiiDecryptionError).customerId).toBe(b);
    const otherField = await rejection(vault.unseal(a, sealed, 'phone'));
    expect(otherField).toBeInstanceOf(PiiDecryptionError);
    expect((otherField as Error).message).not.toContain('ana@');
  });

  it('raises PiiDecryptionError for a tampered value', async () => {
    const customer = newCustomer();
    const sealed = await vault.seal(customer, 'a complaint about Ana', 'comment');
    const at = sealed.length - 10;
    const tampered = sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
    const error = await rejection(vault.unsealFields([{ customerId: customer, data: { comment: tampered }, fields: ['comment'] }]));
    expect(error).toBeInstanceOf(PiiDecryptionError);
    expect((error as PiiDecryptionError).field).toBe('comment');
    expect((error as Error).message).not.toContain('Ana');
  });

  it('erases a customer: their values read as null, flagged, here and in any fresh reader', async () => {
    const [gone, kept] = [newCustomer(), newCustomer()];
    const fields = ['name', 'email', 'phone'] as const;
    const [goneData, keptData] = await vault.sealFields([
      { customerId: gone, data: { name: 'Ana', email: 'ana@example.com', locale: 'es-ES' }, fields },
      { customerId: kept, data: { name: 'Bob' }, fields },
    ]);
    expect(await vault.unseal(gone, goneData.name as string, 'name')).toBe('Ana'); // cached
    await vault.erase(gone);

    const [row] = await keyRows([gone]);
    expect(row.wrapped_key).toBeNull();
    expect(row.erased_at).toBeInstanceOf(Date);

    for (const reader of [vault, new PiiVault({ pool: database.pool, masterKey })]) {
      expect(await reader.unseal(gone, goneData.email as string, 'email')).toBeNull();
      const opened = await reader.unsealFields([
        { customerId: gone, data: goneData, fields },
        { customerId: kept, data: keptData, fields },
      ]);
      expect(opened).toEqual([
        { data: { name: null, email: null, locale: 'es-ES' }, erased: ['name', 'email'] },
        { data: { name: 'Bob' }, erased: [] },
      ]);
    }
  });

  it('refuses to seal for an erased customer, naming every erased customer of the batch', async () => {
    const [erasedWithKey, erasedNeverSeen, alive] = [newCustomer(), newCustomer(), newCustomer()];
    await vault.seal(erasedWithKey, 'Ana', 'name');
    await vault.erase(erasedWithKey);
    await vault.erase(erasedNeverSeen);

    for (const writer of [vault, new PiiVault({ pool: database.pool, masterKey })]) {
      const single = await rejection(writer.seal(erasedWithKey, 'Ana again', 'name'));
      expect(single).toBeInstanceOf(CustomerErasedError);
      const batch = await rejection(
        writer.sealFields([
          { customerId: alive, data: { name: 'Carla' }, fields: ['name'] },
          { customerId: erasedWithKey, data: { name: 'Ana' }, fields: ['name'] },
          { customerId: erasedNeverSeen, data: { name: 'Dora' }, fields: ['name'] },
        ]),
      );
      expect(batch).toBeInstanceOf(CustomerErasedError);
      expect([...(batch as CustomerErasedError).customerIds].sort()).toEqual([erasedWithKey, erasedNeverSeen].sort());
    }
    const rows = await keyRows([erasedWithKey, erasedNeverSeen]);
    expect(rows.map((r) => r.wrapped_key)).toEqual([null, null]);
  });

  it('keeps the first erase time when erased again', async () => {
    const customer = newCustomer();
    await vault.seal(customer, 'Ana', 'name');
    await vault.erase(customer);
    const [first] = await keyRows([customer]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await vault.erase(customer);
    const [second] = await keyRows([customer]);
    expect(second.erased_at?.getTime()).toBe(first.erased_at?.getTime());
  });

  it('makes one key when 20 writers seal for a new customer at once, and every value opens', async () => {
    const customer = newCustomer();
    const writers = Array.from({ length: 20 }, () => new PiiVault({ pool: database.pool, masterKey }));
    const sealed = await Promise.all(writers.map((writer, i) => writer.seal(customer, `value ${i}`, 'comment')));
    expect(await keyRows([customer])).toHaveLength(1);
    const reader = new PiiVault({ pool: database.pool, masterKey });
    const opened = await reader.unsealFields(sealed.map((comment) => ({ customerId: customer, data: { comment }, fields: ['comment'] })));
    expect(opened.map((o) => o.data.comment)).toEqual(sealed.map((_, i) => `value ${i}`));
  });

  it('also makes one key per customer when one writer seals for the same new customer concurrently', async () => {
    const customer = newCustomer();
    const sealed = await Promise.all(Array.from({ length: 20 }, (_, i) => vault.seal(customer, `v${i}`, 'name')));
    expect(await keyRows([customer])).toHaveLength(1);
    const fresh = new PiiVault({ pool: database.pool, masterKey });
    expect(await Promise.all(sealed.map((s) => fresh.unseal(customer, s, 'name')))).toEqual(sealed.map((_, i) => `v${i}`));
  });

  it('creates the keys of overlapping batches from concurrent writers without deadlocking, whatever order they list customers in', async () => {
    // Each batch inserts its new keys in one statement; in different orders, two such inserts waited on
    // each other's rows and PostgreSQL aborted one (deadlock detected), failing that request.
    for (let round = 0; round < 10; round++) {
      const customers = Array.from({ length: 2000 }, newCustomer);
      const orders = [customers, [...customers].reverse(), customers.filter((_, i) => i % 2 === 0).concat(customers.filter((_, i) => i % 2 === 1).reverse())];
      const writers = orders.map(() => new PiiVault({ pool: database.pool, masterKey }));
      const sealed = await Promise.all(
        orders.map((order, w) => writers[w].sealFields(order.map((customerId) => ({ customerId, data: { name: `n-${customerId}` }, fields: ['name'] })))),
      );
      expect(sealed.map((batch) => batch.length)).toEqual([2000, 2000, 2000]);
      expect(await keyRows(customers)).toHaveLength(2000);
    }
  });

  it('seals a batch over many customers in a bounded number of queries, and none once the keys are cached', async () => {
    const existing = Array.from({ length: 100 }, newCustomer);
    await new PiiVault({ pool: database.pool, masterKey }).sealFields(existing.map((customerId) => ({ customerId, data: { name: 'x' }, fields: ['name'] })));
    const customers = [...existing, ...Array.from({ length: 400 }, newCustomer)];
    const items = customers.flatMap((customerId, i) => [
      { customerId, data: { name: `Name ${i}`, email: `c${i}@example.com` }, fields: ['name', 'email'] },
      { customerId, data: { nps: 3, comment: `comment ${i}` }, fields: ['comment'] },
    ]);
    const writer = new PiiVault({ pool: database.pool, masterKey });
    const spy = jest.spyOn(database.pool, 'query');
    try {
      const sealed = await writer.sealFields(items);
      expect(spy).toHaveBeenCalledTimes(2); // one SELECT of the keys, one INSERT of the 400 new ones
      spy.mockClear();
      const again = await writer.sealFields(items);
      expect(spy).toHaveBeenCalledTimes(0);
      expect(again).toHaveLength(items.length);

      const reader = new PiiVault({ pool: database.pool, masterKey });
      spy.mockClear();
      const opened = await reader.unsealFields(sealed.map((data, i) => ({ customerId: items[i].customerId, data, fields: items[i].fields })));
      expect(spy).toHaveBeenCalledTimes(1);
      expect(opened.map((o) => o.data)).toEqual(items.map((item) => item.data));
    } finally {
      spy.mockRestore();
    }
    expect(await keyRows(customers)).toHaveLength(500);
  });

  it('evicts an erased key at once in the erasing process; another process sees the erase within its TTL', async () => {
    const customer = newCustomer();
    let now = 0;
    const other = new PiiVault({ pool: database.pool, masterKey, cacheTtlMs: 60_000, now: () => now });
    const uncached = new PiiVault({ pool: database.pool, masterKey, cacheTtlMs: 0 });
    const sealed = await vault.seal(customer, 'Ana', 'name');
    expect(await other.unseal(customer, sealed, 'name')).toBe('Ana');
    expect(await uncached.unseal(customer, sealed, 'name')).toBe('Ana');

    await vault.erase(customer);
    expect(await vault.unseal(customer, sealed, 'name')).toBeNull();
    expect(await uncached.unseal(customer, sealed, 'name')).toBeNull();
    // The documented window: a key cached elsewhere stays usable until its TTL runs out.
    expect(await other.unseal(customer, sealed, 'name')).toBe('Ana');
    now += 60_000;
    expect(await other.unseal(customer, sealed, 'name')).toBeNull();
    await expect(other.seal(customer, 'Ana', 'name')).rejects.toBeInstanceOf(CustomerErasedError);
  });

  it('names both fingerprints when the data keys were wrapped by another master key', async () => {
    const customer = newCustomer();
    const sealed = await vault.seal(customer, 'Ana', 'name');
    const otherKey = new MasterKey(randomBytes(32), 'env');
    const stranger = new PiiVault({ pool: database.pool, masterKey: otherKey });
    // One call at a time: a second call started early could reject before anything awaits it.
    for (const attempt of [() => stranger.unseal(customer, sealed, 'name'), () => stranger.seal(customer, 'Ana', 'name')]) {
      const error = await rejection(attempt());
      expect(error).toBeInstanceOf(MasterKeyMismatchError);
      expect((error as MasterKeyMismatchError).storedKeyIds).toEqual([masterKey.id]);
      expect((error as MasterKeyMismatchError).currentKeyId).toBe(otherKey.id);
      expect((error as Error).message).toContain(masterKey.id);
      expect((error as Error).message).toContain(otherKey.id);
    }
  });

  it('checks at startup that the stored keys were wrapped by this master key; tombstones do not count', async () => {
    const otherKey = new MasterKey(randomBytes(32), 'env');
    await vault.seal(newCustomer(), 'Ana', 'name');
    await new PiiVault({ pool: database.pool, masterKey: otherKey }).erase(newCustomer());
    await expect(assertMasterKeyMatches(database.pool, masterKey)).resolves.toBeUndefined();
    const error = await rejection(assertMasterKeyMatches(database.pool, otherKey));
    expect(error).toBeInstanceOf(MasterKeyMismatchError);
    expect((error as MasterKeyMismatchError).storedKeyIds).toEqual([masterKey.id]);
  });
});
