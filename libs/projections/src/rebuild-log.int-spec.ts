import { PostgresEventStore, type RecordedEvent } from '@cx/event-store';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import { logReader } from './rebuild-log.js';

describe(`the rebuild's read of the log on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await openTestDatabase();
    store = new PostgresEventStore({ pool: database.pool });
    for (let n = 0; n < 7; n++) {
      await store.append(`spec-${n % 3}`, [
        { id: randomUUID(), type: n % 2 ? 'spec.odd.v1' : 'spec.even.v1', data: { n, nested: { list: [n, 'x\ty\n"z"', null] } }, metadata: { correlationId: `corr-${n}`, causationId: `cause-${n}` } },
      ]);
    }
    // A transaction of another database on the same server can hold back what a reader of the log sees.
    const deadline = Date.now() + 30_000;
    while ((await store.readAll(0n)).length < 7) {
      if (Date.now() > deadline) throw new Error('the appended events did not become visible');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  afterAll(async () => {
    await store.close();
    await database.close();
  });

  const plain = (e: RecordedEvent) => ({ ...e, metadata: e.metadata, recordedAt: e.recordedAt });

  it("gives the events readAll gives, field for field, metadata and time parsed when read", async () => {
    const read = logReader(store);
    const types = ['spec.odd.v1', 'spec.even.v1'];
    for (const [after, limit] of [[0n, 100], [2n, 3], [6n, 100]] as const) {
      const mine = await read(after, limit, types);
      const theirs = await store.readAll(after, { limit, types });
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.map(plain)).toEqual(theirs.map(plain));
      expect(mine[0].recordedAt).toBeInstanceOf(Date);
      const json = (events: RecordedEvent[]) => JSON.stringify(events, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
      expect(json(mine)).toEqual(json(theirs));
    }
    expect((await read(0n, 100, ['spec.odd.v1'])).map((e) => e.type)).toEqual(['spec.odd.v1', 'spec.odd.v1', 'spec.odd.v1']);
  });
});
