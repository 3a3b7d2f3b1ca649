import { InvalidAppendError, PostgresEventStore, WrongExpectedVersionError } from '@cx/event-store';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import { parseExposition, samplesOf } from './exposition.parser.js';
import { Metrics } from './metrics.service.js';
import { timedEventStore } from './timed-event-store.js';

const event = () => ({ id: randomUUID(), type: 'moment.recorded.v1', data: { customerId: 'spec' } });

describe(`timed event store on ${testBackend}`, () => {
  let database: TestDatabase;
  let inner: PostgresEventStore;

  beforeAll(async () => {
    database = await openTestDatabase();
    inner = new PostgresEventStore({ pool: database.pool });
  });
  afterAll(async () => {
    await inner.close();
    await database.close();
  });

  it('times each append once, by operation and outcome, and passes results and errors through', async () => {
    const metrics = new Metrics({ process: false });
    const store = timedEventStore(inner, metrics);
    const stream = `customer-timed-${randomUUID()}`;

    const first = await store.append(stream, [event(), event()]);
    expect(first.nextExpectedVersion).toBe(1);
    await store.appendMany([{ streamId: `customer-timed-${randomUUID()}`, events: [event()] }]);
    await expect(store.append(stream, [event()], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await expect(store.append(stream, [])).rejects.toBeInstanceOf(InvalidAppendError);
    const decided = await store.decideAndAppend({ lock: [stream], read: [stream] }, (histories) => [
      { streamId: stream, events: [event()], expectedVersion: histories.get(stream)!.length - 1 },
    ]);
    expect(decided[0].nextExpectedVersion).toBe(2);

    const parsed = parseExposition(await metrics.exposition());
    const counts = samplesOf(parsed, 'cx_append_duration_seconds_count').map((s) => [s.labels.operation, s.labels.outcome, s.value]);
    // append: ok, conflict, error (1 each); append_many: ok (1), not also counted under the appends that delegate to it.
    expect(counts.sort()).toEqual([
      ['append', 'conflict', 1],
      ['append', 'error', 1],
      ['append', 'ok', 1],
      ['append_many', 'ok', 1],
      ['decide_and_append', 'ok', 1],
    ]);
    const ok = samplesOf(parsed, 'cx_append_duration_seconds_sum', { operation: 'append', outcome: 'ok' })[0].value;
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThan(5);
  });

  it('leaves everything else untouched: reads, the adapter type and its own methods', async () => {
    const store = timedEventStore(inner, new Metrics({ process: false }));
    const stream = `customer-timed-${randomUUID()}`;
    await store.append(stream, [event()]);
    expect(store).toBeInstanceOf(PostgresEventStore);
    expect((await store.readStream(stream)).map((e) => e.streamId)).toEqual([stream]);
    expect(await store.headPosition()).toBe(await inner.headPosition());
    expect(typeof store.appendWithin).toBe('function');
  });
});
