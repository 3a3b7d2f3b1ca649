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

  describe('live batches (the runner says which transaction it committed last)', () => {
    /**
     * As the runner applies a batch: with its last committed transaction as previousCommit, and
     * the checkpoint moved in the same transaction, whose xmin is what it commits as. Returns it.
     */
    const applyLive = (projection: Projection, events: readonly RecordedEvent[], previousCommit: string | undefined, commit = true) =>
      database.dataSource.transaction(async (m) => {
        await projection.apply(events, m, { previousCommit });
        const [row] = (await m.query(
          `INSERT INTO cx_projection_checkpoints (name, version, position) VALUES ('cache-spec', 1, $1)
           ON CONFLICT (name) DO UPDATE SET position = excluded.position RETURNING xmin::text AS xid`,
          [events[events.length - 1].position.toString()],
        )) as Array<{ xid: string }>;
        if (!commit) throw new Error('rolled back');
        return row.xid;
      });

    it('uses the states it kept unchecked while each batch follows the one it last wrote, and writes what reading the rows back gives', async () => {
      await reset();
      const live = createCustomer360Projection();
      let last: string | undefined;
      for (const events of batches) last = await applyLive(live, events, last);
      expect(live.cache.hits).toBe(2 * (batches.length - 1));
      expect(live.cache.unchecked).toBe(2 * (batches.length - 1));
      expect(live.cache.misses).toBe(0);
      expect(await snapshot()).toEqual(await expected(...batches));
    });

    it('checks them against the rows again after a batch that did not commit, and after a break in the chain', async () => {
      await reset();
      const [b1, b2, b3, b4] = batches;
      const live = createCustomer360Projection();
      const counted = () => {
        const counts = { hits: live.cache.hits, unchecked: live.cache.unchecked, misses: live.cache.misses };
        Object.assign(live.cache, { hits: 0, unchecked: 0, misses: 0 });
        return counts;
      };
      const x1 = await applyLive(live, b1, undefined);
      counted();
      // The next batch folds (unchecked), then does not commit (its checkpoint moved elsewhere, say): what it kept is ahead of the rows.
      await expect(applyLive(live, b2, x1, false)).rejects.toThrow('rolled back');
      expect(counted()).toEqual({ hits: 2, unchecked: 2, misses: 0 });
      // The runner's last commit is still x1, not what the cache last wrote: checked, and read again.
      const x2 = await applyLive(live, b2, x1);
      expect(counted()).toEqual({ hits: 0, unchecked: 0, misses: 2 });
      await applyLive(live, b3, x2);
      expect(counted()).toEqual({ hits: 2, unchecked: 2, misses: 0 });
      // A runner that took the projection up afresh (no previous commit) checks everything once: the rows are as kept.
      await applyLive(live, b4, undefined);
      expect(counted()).toEqual({ hits: 2, unchecked: 0, misses: 0 });
      expect(await snapshot()).toEqual(await expected(b1, b2, b3, b4));
    });

    it('never uses unchecked what a rebuild kept or folded into its own tables', async () => {
      await reset();
      const [b1, b2, b3] = batches;
      const live = createCustomer360Projection();
      const x1 = await applyLive(live, b1, undefined);
      // A rebuild's catch-up applies batches into tables of its own (its schema first on the search path), without a context.
      await database.pool.query('DROP SCHEMA IF EXISTS cache_spec_rebuild CASCADE; CREATE SCHEMA cache_spec_rebuild');
      for (const table of ['rm_customers', 'rm_customer_channels', 'rm_customer_complaints']) {
        await database.pool.query(`CREATE TABLE cache_spec_rebuild.${table} (LIKE public.${table} INCLUDING ALL)`);
      }
      await database.dataSource.transaction(async (m) => {
        await m.query(`SELECT set_config('search_path', 'cache_spec_rebuild, public', true)`);
        await live.apply([...b1, ...b2, ...b3], m);
      });
      // The live chain is unbroken (x1 is what the live batches last wrote), but the states the rebuild put are ahead of the live rows.
      await applyLive(live, b2, x1);
      expect(live.cache.unchecked).toBe(0);
      expect(await snapshot()).toEqual(await expected(b1, b2));
      await database.pool.query('DROP SCHEMA cache_spec_rebuild CASCADE');
    });
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
