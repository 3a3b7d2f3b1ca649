import type { RecordedEvent } from '@cx/event-store';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { projectionMigrations } from '../../projections.migrations.js';
import type { Projection } from '../../projection.js';
import { createCustomer360Projection } from './customer-360.projection.js';

let position = 0;
const event = (type: string, data: Record<string, unknown>): RecordedEvent => {
  position += 1;
  return {
    id: `cache-spec-${position}`,
    type,
    data,
    metadata: { correlationId: 'cache-spec', causationId: 'cache-spec' },
    streamId: `cache-spec-${position}`,
    streamVersion: 0,
    position: BigInt(position),
    recordedAt: new Date(Date.UTC(2025, 0, 1) + position * 60_000),
  };
};
const at = () => new Date(Date.UTC(2025, 0, 1) + (position + 1) * 60_000).toISOString();
const registered = (customerId: string) => event('customer.registered.v1', { customerId, name: `Name of ${customerId}`, registeredAt: at() });
const moment = (customerId: string, channel: string, extra: Record<string, unknown> = {}) =>
  event('moment.recorded.v1', { customerId, momentId: `m-${position + 1}`, kind: 'information', channel, occurredAt: at(), ...extra });
const payment = (customerId: string, amount: number) => moment(customerId, 'branch', { kind: 'payment', amount, currency: 'EUR' });
const answer = (customerId: string, nps: number) => event('feedback.submitted.v1', { customerId, nps, submittedAt: at() });
const filed = (customerId: string, complaintId: string) =>
  event('complaint.filed.v1', { customerId, complaintId, severity: 'high', category: 'billing', channel: 'email', filedAt: at() });
const step = (name: string, customerId: string, complaintId: string) => event(`complaint.${name}.v1`, { customerId, complaintId, [`${name}At`]: at() });

/**
 * A batch of events for two customers: every kind of change the 360 fold makes (profile, channels,
 * answers, payments, complaints opened, moved on and closed).
 */
function batch(n: number): RecordedEvent[] {
  return [
    ...(n === 1 ? [registered('cust-a'), registered('cust-b')] : []),
    moment('cust-a', n % 2 ? 'phone' : 'email', { outcome: n % 3 ? 'negative' : 'positive' }),
    payment('cust-a', 10.25 * n),
    answer('cust-a', (n * 3) % 11),
    filed('cust-a', `c-${n}`),
    ...(n > 1 ? [step('acknowledged', 'cust-a', `c-${n - 1}`), step('closed', 'cust-a', `c-${n - 1}`)] : []),
    moment('cust-b', 'chat'),
    answer('cust-b', 10 - n),
  ];
}

describe(`customer 360 states kept between batches, on ${testBackend}`, () => {
  let database: TestDatabase;
  const batches = [1, 2, 3, 4, 5, 6].map(batch);

  const apply = (projection: Projection, events: readonly RecordedEvent[]) => database.dataSource.transaction((m) => projection.apply(events, m));
  const reset = () => database.pool.query('TRUNCATE rm_customers, rm_customer_channels, rm_customer_complaints');
  const snapshot = async () => {
    const tables = ['rm_customers ORDER BY customer_id', 'rm_customer_channels ORDER BY customer_id, channel', 'rm_customer_complaints ORDER BY complaint_id'];
    return Promise.all(tables.map(async (t) => (await database.pool.query(`SELECT * FROM ${t}`)).rows));
  };
  /** The rows of the batches applied one after the other without any state kept between them. */
  const expected = async (...applied: RecordedEvent[][]) => {
    await reset();
    const plain = createCustomer360Projection({ cacheSize: 0 });
    for (const events of applied) await apply(plain, events);
    return snapshot();
  };

  beforeAll(async () => {
    const projection = createCustomer360Projection();
    database = await openTestDatabase({ migrations: [...projectionMigrations, ...projection.migrations], entities: [...projection.entities] });
  });
  afterAll(async () => {
    await database.close();
  });

  it('uses the kept states while no one else wrote the rows, and writes what reading the rows back gives', async () => {
    await reset();
    const cached = createCustomer360Projection();
    for (const events of batches) await apply(cached, events);
    const got = await snapshot();
    expect(cached.cache.hits).toBe(2 * (batches.length - 1));
    expect(cached.cache.misses).toBe(0);
    expect(got[2]).toHaveLength(1);
    expect(got).toEqual(await expected(...batches));
  });

  it('reads the rows again when another process wrote them meanwhile, or a transaction did not commit', async () => {
    await reset();
    const [b1, b2, b3, b4] = batches;
    const mine = createCustomer360Projection();
    const other = createCustomer360Projection();
    await apply(mine, b1);
    // Another process (the lease moved) applies the next batch: what this one kept is behind.
    await apply(other, b2);
    // This one applies the next batch in a transaction that rolls back: what it kept is ahead.
    await expect(
      database.dataSource.transaction(async (m) => {
        await mine.apply(b3, m);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await apply(mine, b3);
    await apply(mine, b4);
    const got = await snapshot();
    expect(mine.cache.misses).toBe(4);
    expect(mine.cache.hits).toBe(2);
    expect(got).toEqual(await expected(b1, b2, b3, b4));
  });

  it('does not keep what a transaction that did not commit folded, even when the row is at the same position', async () => {
    await reset();
    const [b1, b2, b3] = batches;
    const mine = createCustomer360Projection();
    await apply(mine, b1);
    await apply(mine, b2);
    // The same batch again (a runner that lost the race for it): folded twice, then rolled back
    // when the checkpoint did not move; the rows stay at the same last position.
    await expect(
      database.dataSource.transaction(async (m) => {
        await mine.apply(b2, m);
        throw new Error('the checkpoint moved');
      }),
    ).rejects.toThrow('the checkpoint moved');
    await apply(mine, b3);
    expect(await snapshot()).toEqual(await expected(b1, b2, b3));
  });

  it('reads the rows again after its tables were replaced under it, as a rebuild switches them', async () => {
    await reset();
    const [b1, b2, b3, b4] = batches;
    const mine = createCustomer360Projection();
    await apply(mine, b1);
    await apply(mine, b2);
    await apply(mine, b3);
    // New tables holding another history (here: the first batch only), whatever this process kept.
    await reset();
    await apply(createCustomer360Projection({ cacheSize: 0 }), b1);
    await apply(mine, b4);
    const got = await snapshot();
    expect(got).toEqual(await expected(b1, b4));
    // And new tables without the customers at all: they are new again.
    await reset();
    await apply(mine, b2);
    expect(await snapshot()).toEqual(await expected(b2));
  });

  it('keeps states for one database at a time: applied to another database, it reads the rows again', async () => {
    await reset();
    const [b1, b2, b3] = batches;
    const mine = createCustomer360Projection();
    const other = await openTestDatabase({ migrations: [...projectionMigrations, ...mine.migrations], entities: [...mine.entities] });
    try {
      await apply(mine, b1);
      // Another database (two embedded ones in one process can give their rows the same versions).
      await other.dataSource.transaction((m) => mine.apply(b3, m));
      const misses = mine.cache.misses;
      await apply(mine, b2);
      expect(mine.cache.misses).toBe(misses + 2);
      expect(await snapshot()).toEqual(await expected(b1, b2));
    } finally {
      await other.close();
    }
  });

  /** A rebuild's bulk fold of `events` into the (empty) tables, each write in a transaction of its own, in order, as the rebuild runs them. */
  const bulkFold = async (projection: ReturnType<typeof createCustomer360Projection>, events: readonly RecordedEvent[]) => {
    // As the rebuild writes on this backend: COPY on a PostgreSQL server, JSON on embedded PGlite.
    const fold = projection.bulk!(testBackend === 'postgres' ? 'copy' : 'json');
    fold.add(events);
    for (const write of fold.finish()) await database.dataSource.transaction(write);
  };

  it('keeps the states a rebuild wrote, and the next batches write what reading the rows back gives', async () => {
    await reset();
    const [b1, b2, b3, b4, b5, b6] = batches;
    const b7 = batch(7);
    const rebuilt = createCustomer360Projection();
    await bulkFold(rebuilt, [...b1, ...b2, ...b3]);
    expect(rebuilt.cache.size).toBe(2);
    await apply(rebuilt, b4);
    await apply(rebuilt, b5);
    expect(rebuilt.cache.hits).toBe(4);
    expect(rebuilt.cache.misses).toBe(0);
    // Another process writes the rows meanwhile: what the rebuild kept is behind, and read again.
    await apply(createCustomer360Projection({ cacheSize: 0 }), b6);
    await apply(rebuilt, b7);
    expect(rebuilt.cache.misses).toBe(2);
    expect(await snapshot()).toEqual(await expected([...b1, ...b2, ...b3], b4, b5, b6, b7));
  });

  it('keeps no more states from a rebuild than its size: those of the customers with the latest events', async () => {
    await reset();
    const [b1, b2] = batches;
    const rebuilt = createCustomer360Projection({ cacheSize: 1 });
    await bulkFold(rebuilt, b1);
    expect(rebuilt.cache.size).toBe(1);
    // cust-b's events come last in each batch: its state was kept, cust-a's is read from its rows.
    await apply(rebuilt, b2);
    expect(rebuilt.cache.hits).toBe(1);
    expect(rebuilt.cache.misses).toBe(1);
    expect(await snapshot()).toEqual(await expected(b1, b2));
  });

  it('drops the least recently used states past its size, and still writes the same rows', async () => {
    await reset();
    const small = createCustomer360Projection({ cacheSize: 1 });
    for (const events of batches) await apply(small, events);
    expect(small.cache.size).toBe(1);
    expect(small.cache.misses).toBeGreaterThan(0);
    expect(await snapshot()).toEqual(await expected(...batches));
  });
});
