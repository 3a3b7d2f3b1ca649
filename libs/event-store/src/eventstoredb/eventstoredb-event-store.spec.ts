import { randomUUID } from 'node:crypto';
import { eventStoreContract } from '../event-store.contract.js';
import type { AppendResult, EventToAppend } from '../event-store.js';
import { EventStoreUnavailableError } from './esdb-errors.js';
import { EventStoreDbEventStore } from './eventstoredb-event-store.js';
import { InMemoryEsdb } from './in-memory-esdb.testing.js';

// The adapter's own logic (duplicates, retries, read-back, positions, subscriptions) held to the
// port's contract, with the client replaced by an in-memory model of the server's rules. This is
// not EventStoreDB: eventstoredb-event-store.int-spec.ts runs the same contract against a server.
eventStoreContract('EventStoreDB adapter logic on an in-memory model of the client (no server)', async () => {
  const store = new EventStoreDbEventStore({ client: new InMemoryEsdb() });
  return { store, close: () => store.close() };
});

describe('EventStoreDB adapter specifics (in-memory model of the client)', () => {
  const event = (n = 0, type = 'moment.recorded.v1'): EventToAppend => ({ id: randomUUID(), type, data: { n } });
  const newStream = () => `customer-${randomUUID()}`;
  let esdb: InMemoryEsdb;
  let store: EventStoreDbEventStore;

  beforeEach(() => {
    esdb = new InMemoryEsdb();
    store = new EventStoreDbEventStore({ client: esdb, retryDelayMs: () => 0 });
  });
  afterEach(() => store.close());

  /** Another process's append to `stream` (not through this adapter). */
  const otherWriter = (stream: string) =>
    esdb.appendToStream(stream, [{ id: randomUUID(), contentType: 'application/json', type: 'moment.recorded.v1', data: {}, metadata: undefined }], { expectedRevision: 'any' });

  /** Lets a concurrent writer slip in, inside the adapter's next append(s) to `stream`, before the server decides. */
  const raceOn = (stream: string, write: () => Promise<unknown>, times = 1) => {
    let left = times;
    esdb.beforeAppend = async (name) => {
      if (name !== stream || left === 0) return;
      left--;
      const hook = esdb.beforeAppend;
      esdb.beforeAppend = undefined;
      try {
        await write();
      } finally {
        esdb.beforeAppend = hook;
      }
    };
  };

  describe('appends under races', () => {
    it("reports events a racing writer stored first with the same ids as duplicates, though ESDB accepts the repeat as idempotent", async () => {
      const stream = newStream();
      const batch = [event(1), event(2)];
      const racer = new EventStoreDbEventStore({ client: esdb });
      let theirs: AppendResult | undefined;
      raceOn(stream, async () => {
        theirs = await racer.append(stream, batch);
      });
      const ours = await store.append(stream, batch, 'no_stream');

      expect(theirs!.events.map((e) => e.status)).toEqual(['appended', 'appended']);
      expect(ours.events.map((e) => e.status)).toEqual(['duplicate', 'duplicate']);
      expect(ours.events.map((e) => e.position)).toEqual(theirs!.events.map((e) => e.position));
      expect(ours.nextExpectedVersion).toBe(1);
      expect((await store.readStream(stream)).map((e) => e.id)).toEqual(batch.map((e) => e.id));
    });

    it("re-reads and appends after a racing writer with 'any', and fails with the actual version with an exact expectation", async () => {
      const stream = newStream();
      await store.append(stream, [event()]);
      raceOn(stream, () => otherWriter(stream));
      const mine = await store.append(stream, [event()], 'any');
      expect(mine.events[0]).toMatchObject({ status: 'appended', streamVersion: 2 });

      raceOn(stream, () => otherWriter(stream));
      await expect(store.append(stream, [event()], 2)).rejects.toMatchObject({ name: 'WrongExpectedVersionError', streamId: stream, expected: 2, actual: 3 });
      expect(await store.streamVersion(stream)).toBe(3);
    });

    it('gives up after the configured attempts when writers keep racing in, with the actual version', async () => {
      const stream = newStream();
      const limited = new EventStoreDbEventStore({ client: esdb, maxAttempts: 3, retryDelayMs: () => 0 });
      raceOn(stream, () => otherWriter(stream), 100);
      await expect(limited.append(stream, [event()])).rejects.toMatchObject({ name: 'WrongExpectedVersionError', streamId: stream, expected: 'any', actual: 2 });
      expect(esdb.calls.append).toBe(6);
    });

    it('checks the latest `duplicateWindow` events of the stream for repeats, no further', async () => {
      const windowed = new EventStoreDbEventStore({ client: esdb, duplicateWindow: 2 });
      const stream = newStream();
      const [x, y, z] = [event(1), event(2), event(3)];
      await windowed.append(stream, [x, y, z]);
      expect((await windowed.append(stream, [z])).events[0].status).toBe('duplicate');
      // Three events back: outside the window, so ESDB stores it again (documented limitation).
      expect((await windowed.append(stream, [x])).events[0].status).toBe('appended');
      expect(await windowed.streamVersion(stream)).toBe(3);
    });

    it('appendMany is not atomic when a writer races in on a later stream: the error names it, the earlier stream stays written', async () => {
      const [a, b] = [newStream(), newStream()];
      await store.append(b, [event()]);
      raceOn(b, () => store.append(b, [event()]));
      const error = await store
        .appendMany([
          { streamId: a, events: [event()], expectedVersion: 'no_stream' },
          { streamId: b, events: [event()], expectedVersion: 0 },
        ])
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'WrongExpectedVersionError', streamId: b, expected: 0, actual: 1 });
      expect(await store.streamVersion(a)).toBe(0);
    });
  });

  describe('decideAndAppend (optimistic retries instead of locks)', () => {
    it('decides again on fresh histories when a writer changes a stream it read before its events are written', async () => {
      const stream = newStream();
      await store.append(stream, [event(1)]);
      raceOn(stream, () => store.append(stream, [event(2)]));
      const seen: number[] = [];
      const results = await store.decideAndAppend({ lock: [stream], read: [stream] }, (histories) => {
        const history = histories.get(stream)!;
        seen.push(history.length);
        return [{ streamId: stream, events: [event(10 + history.length)], expectedVersion: history.length - 1 }];
      });
      expect(seen).toEqual([1, 2]);
      expect(results[0]).toMatchObject({ streamId: stream, nextExpectedVersion: 2 });
      expect((await store.readStream(stream)).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 12 }]);
    });

    it('decides again when a locked stream it does not write changes in between', async () => {
      const [target, guard] = [newStream(), newStream()];
      await store.append(guard, [event()]);
      // The guard changes while the first decision is being made: checked again just before the write.
      let decisions = 0;
      const results = await store.decideAndAppend({ lock: [target, guard], read: [guard] }, async (histories) => {
        decisions++;
        if (decisions === 1) await store.append(guard, [event()]);
        return [{ streamId: target, events: [event(histories.get(guard)!.length)] }];
      });
      expect(decisions).toBe(2);
      expect(results[0].events[0].status).toBe('appended');
      expect((await store.readStream(target)).map((e) => e.data)).toEqual([{ n: 2 }]);
    });

    it('fails with a wrong expected version after the configured attempts when the stream keeps changing', async () => {
      const stream = newStream();
      const limited = new EventStoreDbEventStore({ client: esdb, maxAttempts: 3, retryDelayMs: () => 0 });
      raceOn(stream, () => store.append(stream, [event()]), 100);
      let decisions = 0;
      const error = await limited
        .decideAndAppend({ lock: [stream], read: [stream] }, () => {
          decisions++;
          return [{ streamId: stream, events: [event()] }];
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'WrongExpectedVersionError', streamId: stream, actual: 2 });
      expect(decisions).toBe(3);
    });
  });

  describe('reading and status', () => {
    it('reads past many events of other types to find the wanted ones (the client reads $all unfiltered)', async () => {
      const stream = newStream();
      await store.append(stream, Array.from({ length: 1200 }, (_, n) => event(n)));
      const wanted = event(0, 'complaint.filed.v1');
      await store.append(stream, [wanted]);
      esdb.writeSystemEvent();
      expect((await store.readAll(0n, { types: ['complaint.filed.v1'], limit: 5 })).map((e) => e.id)).toEqual([wanted.id]);
      expect((await store.readAll(0n, { limit: 2000 })).every((e) => !e.type.startsWith('$'))).toBe(true);
    });

    it('reports the last platform event as the head, past system events at the tail', async () => {
      expect(await store.headPosition()).toBe(0n);
      const last = await store.append(newStream(), [event()]);
      for (let i = 0; i < 150; i++) esdb.writeSystemEvent();
      expect(await store.headPosition()).toBe(last.position);
      expect(await store.status()).toEqual({ status: 'up', adapter: 'eventstoredb', headPosition: last.position.toString() });
    });

    it('reports the store down, with the reason, when EventStoreDB cannot be reached', async () => {
      esdb.unavailable = true;
      const status = await store.status();
      expect(status).toMatchObject({ status: 'down', adapter: 'eventstoredb' });
      expect(status.error).toContain('EventStoreDB is unavailable');
      await expect(store.append(newStream(), [event()])).rejects.toBeInstanceOf(EventStoreUnavailableError);
    });

    it('stops its subscriptions and releases the client on close', async () => {
      const subscription = store.subscribe(0n, () => undefined);
      await store.close();
      await expect(subscription.done).resolves.toBeUndefined();
      expect(() => store.subscribe(0n, () => undefined)).toThrow('closed');
    });
  });
});
