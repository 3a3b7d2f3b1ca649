import { randomUUID } from 'node:crypto';
import {
  type EventStore,
  type EventToAppend,
  InvalidAppendError,
  InvalidReadError,
  type Position,
  type RecordedEvent,
  WrongExpectedVersionError,
} from './event-store.js';

/**
 * The behaviour every adapter of the event store port must show. An adapter's spec calls this
 * with a factory that opens a store on an empty log.
 */
export type ContractSubject = { store: EventStore; close(): Promise<void> };

let streamCounter = 0;
const newStream = (prefix = 'customer') => `${prefix}-${process.pid}-${++streamCounter}-${randomUUID().slice(0, 8)}`;

const event = (type = 'moment.recorded.v1', data: unknown = { kind: 'billing', channel: 'phone' }, metadata?: EventToAppend['metadata']): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  ...(metadata ? { metadata } : {}),
});
const events = (n: number, type?: string) => Array.from({ length: n }, (_, i) => event(type, { n: i }));

async function collect(store: EventStore, after: Position, count: number, timeoutMs = 10_000): Promise<RecordedEvent[]> {
  const seen: RecordedEvent[] = [];
  let resolveDone!: () => void;
  const reached = new Promise<void>((resolve) => (resolveDone = resolve));
  const subscription = store.subscribe(after, (e) => {
    seen.push(e);
    if (seen.length >= count) resolveDone();
  });
  const timer = setTimeout(resolveDone, timeoutMs);
  await reached;
  clearTimeout(timer);
  await subscription.stop();
  return seen;
}

/**
 * A position to read from: a marker event appended now. Everything appended later has a higher
 * position, and earlier appends a lower one, even those readers cannot see yet.
 */
async function marker(store: EventStore): Promise<Position> {
  return (await store.append(`marker-${randomUUID()}`, [event('test.marker.v1', {})])).position;
}

/** Waits until readers of the global log can see `position` (another transaction may hold them back a moment). */
async function waitForHead(store: EventStore, position: Position, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await store.headPosition()) < position) {
    if (Date.now() > deadline) throw new Error(`position ${position} not visible after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function eventStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`event store contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: EventStore;

    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.close();
    });

    describe('append', () => {
      it('appends a batch to a new stream with consecutive versions and increasing positions', async () => {
        const stream = newStream();
        const batch = events(3);
        const result = await store.append(stream, batch, 'no_stream');

        expect(result.streamId).toBe(stream);
        expect(result.nextExpectedVersion).toBe(2);
        expect(result.events.map((e) => [e.id, e.status, e.streamVersion])).toEqual(
          batch.map((e, i) => [e.id, 'appended', i]),
        );
        const positions = result.events.map((e) => e.position);
        expect(positions[0] < positions[1] && positions[1] < positions[2]).toBe(true);
        expect(result.position).toBe(positions[2]);

        const read = await store.readStream(stream);
        expect(read.map((e) => e.id)).toEqual(batch.map((e) => e.id));
        expect(read.map((e) => e.data)).toEqual(batch.map((e) => e.data));
        expect(read.map((e) => e.position)).toEqual(positions);
      });

      it('accepts an exact expected version that matches and rejects one that does not, naming stream, expected and actual', async () => {
        const stream = newStream();
        await store.append(stream, events(2), 'no_stream');
        const ok = await store.append(stream, events(1), 1);
        expect(ok.nextExpectedVersion).toBe(2);

        const error = await store.append(stream, events(2), 1).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect(error).toMatchObject({ streamId: stream, expected: 1, actual: 2 });
        expect((error as Error).message).toContain(stream);
        expect(await store.streamVersion(stream)).toBe(2);
      });

      it("rejects 'no_stream' on an existing stream and 'stream_exists' on a missing one", async () => {
        const existing = newStream();
        await store.append(existing, events(1));
        await expect(store.append(existing, events(1), 'no_stream')).rejects.toMatchObject({
          name: 'WrongExpectedVersionError',
          streamId: existing,
          expected: 'no_stream',
          actual: 0,
        });

        const missing = newStream();
        await expect(store.append(missing, events(1), 'stream_exists')).rejects.toMatchObject({
          streamId: missing,
          expected: 'stream_exists',
          actual: -1,
        });
        expect(await store.streamVersion(missing)).toBe(-1);
        expect(await store.append(existing, events(1), 'stream_exists')).toMatchObject({ nextExpectedVersion: 1 });
      });

      it("appends whatever the stream's version with 'any' (the default)", async () => {
        const stream = newStream();
        await store.append(stream, events(2));
        const result = await store.append(stream, events(2), 'any');
        expect(result.events.map((e) => e.streamVersion)).toEqual([2, 3]);
      });

      it('stores a batch atomically: a rejected batch leaves nothing behind', async () => {
        const stream = newStream();
        await store.append(stream, events(1));
        const head = await store.headPosition();
        const batch = events(5);
        await expect(store.append(stream, batch, 5)).rejects.toBeInstanceOf(WrongExpectedVersionError);
        expect(await store.streamVersion(stream)).toBe(0);
        const after = await store.readAll(head);
        expect(after.filter((e) => batch.some((b) => b.id === e.id))).toEqual([]);
      });

      it('keeps each batch contiguous when writers race on one stream', async () => {
        const stream = newStream();
        const batches = Array.from({ length: 8 }, () => events(5));
        await Promise.all(batches.map((batch) => store.append(stream, batch, 'any')));
        const read = await store.readStream(stream);
        expect(read).toHaveLength(40);
        expect(read.map((e) => e.streamVersion)).toEqual(Array.from({ length: 40 }, (_, i) => i));
        for (const batch of batches) {
          const versions = batch.map((b) => read.find((e) => e.id === b.id)!.streamVersion);
          expect(versions).toEqual(Array.from({ length: 5 }, (_, i) => versions[0] + i));
        }
      });

      it('lets exactly one of two racing writers with the same expected version win', async () => {
        const stream = newStream();
        await store.append(stream, events(1));
        const outcomes = await Promise.allSettled([store.append(stream, events(2), 0), store.append(stream, events(2), 0)]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(rejected.reason).toBeInstanceOf(WrongExpectedVersionError);
        expect(rejected.reason).toMatchObject({ expected: 0, actual: 2 });
        expect(await store.streamVersion(stream)).toBe(2);
      });
    });

    describe('appendMany', () => {
      it('appends to several streams in one call, results in input order', async () => {
        const [a, b, c] = [newStream(), newStream('complaint'), newStream()];
        await store.append(b, events(2));
        const results = await store.appendMany([
          { streamId: a, events: events(2), expectedVersion: 'no_stream' },
          { streamId: b, events: events(1), expectedVersion: 1 },
          { streamId: c, events: events(3) },
        ]);
        expect(results.map((r) => [r.streamId, r.nextExpectedVersion, r.events.map((e) => e.streamVersion)])).toEqual([
          [a, 1, [0, 1]],
          [b, 2, [2]],
          [c, 2, [0, 1, 2]],
        ]);
        const positions = results.flatMap((r) => r.events.map((e) => e.position));
        expect([...positions].sort((x, y) => (x < y ? -1 : 1))).toEqual(positions);
        expect(await store.streamVersion(c)).toBe(2);
      });

      it("stores nothing when one stream's expected version is wrong, and names that stream", async () => {
        const [a, b] = [newStream(), newStream()];
        await store.append(b, events(1));
        const error = await store
          .appendMany([
            { streamId: a, events: events(2), expectedVersion: 'no_stream' },
            { streamId: b, events: events(1), expectedVersion: 'no_stream' },
          ])
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect(error).toMatchObject({ streamId: b, expected: 'no_stream', actual: 0 });
        expect(await store.streamVersion(a)).toBe(-1);
        expect(await store.streamVersion(b)).toBe(0);
      });

      it('reports duplicates across streams and within the call', async () => {
        const [a, b] = [newStream(), newStream()];
        const [x, y] = events(2);
        await store.append(a, [x]);
        const results = await store.appendMany([
          { streamId: a, events: [x, y] },
          { streamId: b, events: [y, event()] },
        ]);
        expect(results[0].events.map((e) => e.status)).toEqual(['duplicate', 'appended']);
        expect(results[1].events.map((e) => e.status)).toEqual(['duplicate', 'appended']);
        expect(results[1].events[0]).toMatchObject({ streamId: a, position: results[0].events[1].position });
        expect(await store.streamVersion(b)).toBe(0);
      });

      it('refuses a stream named twice in one call, and an empty call', async () => {
        const a = newStream();
        await expect(store.appendMany([{ streamId: a, events: events(1) }, { streamId: a, events: events(1) }])).rejects.toMatchObject({
          reason: 'invalid_stream_id',
        });
        await expect(store.appendMany([])).rejects.toMatchObject({ reason: 'empty_batch' });
        expect(await store.streamVersion(a)).toBe(-1);
      });

      it('does not deadlock when calls lock overlapping streams in different orders', async () => {
        const streams = Array.from({ length: 6 }, () => newStream());
        const calls = Array.from({ length: 12 }, (_, i) => {
          const order = i % 2 === 0 ? streams : [...streams].reverse();
          return store.appendMany(order.map((streamId) => ({ streamId, events: events(1) })));
        });
        await Promise.all(calls);
        for (const stream of streams) expect(await store.streamVersion(stream)).toBe(11);
      });
    });

    describe('decideAndAppend', () => {
      it('decides on the histories of the streams it reads and appends what the decision returns', async () => {
        const [a, b] = [newStream(), newStream()];
        await store.append(a, events(2));
        const results = await store.decideAndAppend({ lock: [a, b], read: [a] }, (histories) => [
          { streamId: a, events: [event('moment.recorded.v1', { seen: histories.get(a)!.length })], expectedVersion: 1 },
          { streamId: b, events: events(1) },
        ]);
        expect(results.map((r) => [r.streamId, r.nextExpectedVersion])).toEqual([
          [a, 2],
          [b, 0],
        ]);
        const [, , decided] = await store.readStream(a);
        expect(decided.data).toEqual({ seen: 2 });
      });

      it('never lets two deciders act on the same state: a capacity rule holds under concurrency', async () => {
        const stream = newStream();
        const capacity = 5;
        const attempts = Array.from({ length: 12 }, () =>
          store.decideAndAppend({ lock: [stream], read: [stream] }, (histories) =>
            histories.get(stream)!.length < capacity ? [{ streamId: stream, events: events(1) }] : [],
          ),
        );
        const outcomes = await Promise.all(attempts);
        expect(outcomes.filter((r) => r.length > 0)).toHaveLength(capacity);
        expect(await store.readStream(stream)).toHaveLength(capacity);
      });

      it('stores nothing when the decision is empty, and refuses to append to an existing stream the plan did not lock', async () => {
        const [a, b] = [newStream(), newStream()];
        expect(await store.decideAndAppend({ lock: [a], read: [a] }, () => [])).toEqual([]);
        await expect(store.decideAndAppend({ lock: [a], read: [] }, () => [{ streamId: b, events: events(1) }])).rejects.toThrow(
          `decide appended to ${b}`,
        );
        expect(await store.streamVersion(a)).toBe(-1);
        expect(await store.streamVersion(b)).toBe(-1);
      });

      it('creates new streams outside the plan without a lock, and refuses to create one twice', async () => {
        const [fact, other] = [newStream('moment'), newStream('moment')];
        const created = await store.decideAndAppend({ lock: [], read: [] }, () => [{ streamId: fact, events: events(1), expectedVersion: 'no_stream' }]);
        expect(created.map((r) => r.nextExpectedVersion)).toEqual([0]);
        const twice = await Promise.allSettled([
          store.decideAndAppend({ lock: [], read: [] }, () => [{ streamId: other, events: events(1), expectedVersion: 'no_stream' }]),
          store.decideAndAppend({ lock: [], read: [] }, () => [{ streamId: other, events: events(1), expectedVersion: 'no_stream' }]),
        ]);
        expect(twice.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const refused = twice.find((o) => o.status === 'rejected') as PromiseRejectedResult | undefined;
        expect(refused?.reason).toBeInstanceOf(WrongExpectedVersionError);
        expect(refused?.reason).toMatchObject({ streamId: other, expected: 'no_stream' });
        expect(await store.readStream(other)).toHaveLength(1);
      });
    });

    describe('idempotency', () => {
      it('reports a re-sent batch as duplicates, with the stored positions, and stores nothing twice', async () => {
        const stream = newStream();
        const batch = events(3);
        const first = await store.append(stream, batch, 'no_stream');
        const again = await store.append(stream, batch, 'no_stream');

        expect(again.events.map((e) => e.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
        expect(again.events.map((e) => e.position)).toEqual(first.events.map((e) => e.position));
        expect(again.nextExpectedVersion).toBe(2);
        expect(await store.readStream(stream)).toHaveLength(3);
      });

      it('appends the new events of a partly re-sent batch and reports the rest as duplicates', async () => {
        const stream = newStream();
        const [a, b, c] = events(3);
        await store.append(stream, [a, b]);
        const result = await store.append(stream, [a, b, c]);
        expect(result.events.map((e) => [e.id, e.status])).toEqual([
          [a.id, 'duplicate'],
          [b.id, 'duplicate'],
          [c.id, 'appended'],
        ]);
        expect((await store.readStream(stream)).map((e) => e.id)).toEqual([a.id, b.id, c.id]);
      });

      it('treats an id repeated inside one batch as a duplicate of its first occurrence', async () => {
        const stream = newStream();
        const a = event();
        const b = event();
        const result = await store.append(stream, [a, b, { ...a, data: { other: true } }]);
        expect(result.events.map((e) => e.status)).toEqual(['appended', 'appended', 'duplicate']);
        expect(result.events[2].position).toBe(result.events[0].position);
        const read = await store.readStream(stream);
        expect(read.map((e) => e.id)).toEqual([a.id, b.id]);
        expect(read[0].data).toEqual(a.data);
      });

      it('matches ids case-insensitively, as UUIDs', async () => {
        const stream = newStream();
        const a = event();
        await store.append(stream, [a]);
        const result = await store.append(stream, [{ ...a, id: a.id.toUpperCase() }]);
        expect(result.events[0].status).toBe('duplicate');
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('dedupes two writers racing with the same event', async () => {
        const stream = newStream();
        const a = event();
        const results = await Promise.all([store.append(stream, [a]), store.append(stream, [a]), store.append(stream, [a])]);
        expect(results.map((r) => r.events[0].status).sort()).toEqual(['appended', 'duplicate', 'duplicate']);
        expect(await store.readStream(stream)).toHaveLength(1);
      });
    });

    describe('metadata', () => {
      it('defaults correlation and causation ids to the event id and records the time', async () => {
        const stream = newStream();
        const before = Date.now();
        const e = event();
        await store.append(stream, [e]);
        const [read] = await store.readStream(stream);
        expect(read.metadata).toEqual({ correlationId: e.id, causationId: e.id });
        expect(read.recordedAt).toBeInstanceOf(Date);
        expect(read.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 5_000);
        expect(read.recordedAt.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
      });

      it('keeps given correlation and causation ids and free metadata', async () => {
        const stream = newStream();
        const e = event('feedback.submitted.v1', { nps: 9 }, {
          correlationId: 'req-42',
          causationId: 'cmd-7',
          source: 'urn:cx:callcenter',
          tags: ['vip'],
        });
        await store.append(stream, [e]);
        const [read] = await store.readStream(stream);
        expect(read.metadata).toEqual({ correlationId: 'req-42', causationId: 'cmd-7', source: 'urn:cx:callcenter', tags: ['vip'] });
        expect(read.type).toBe('feedback.submitted.v1');
      });
    });

    describe('reading', () => {
      let stream: string;
      let appended: EventToAppend[];
      beforeAll(async () => {
        stream = newStream();
        appended = events(10);
        await store.append(stream, appended);
      });

      it('reads a stream forwards from a version with a limit', async () => {
        const read = await store.readStream(stream, { from: 3, limit: 4 });
        expect(read.map((e) => e.streamVersion)).toEqual([3, 4, 5, 6]);
        expect(read.map((e) => e.id)).toEqual(appended.slice(3, 7).map((e) => e.id));
      });

      it('reads a stream backwards from the end or from a version', async () => {
        expect((await store.readStream(stream, { direction: 'backwards', limit: 3 })).map((e) => e.streamVersion)).toEqual([9, 8, 7]);
        expect((await store.readStream(stream, { direction: 'backwards', from: 2 })).map((e) => e.streamVersion)).toEqual([2, 1, 0]);
      });

      it('reads an unknown stream as empty', async () => {
        expect(await store.readStream(newStream())).toEqual([]);
        expect(await store.streamVersion(newStream())).toBe(-1);
      });

      it('reads the global log after a position, in order, across streams, with a limit and a type filter', async () => {
        const start = await marker(store);
        const one = newStream();
        const two = newStream('complaint');
        await store.append(one, [event('moment.recorded.v1')]);
        await store.append(two, [event('complaint.filed.v1', { complaintId: 'c1' })]);
        const last = await store.append(one, [event('feedback.submitted.v1', { nps: 3 })]);
        // Readers stop short of transactions still in flight anywhere on the server: wait, as any reader of its own writes does.
        await waitForHead(store, last.position);

        const all = await store.readAll(start);
        expect(all.map((e) => [e.streamId, e.type])).toEqual([
          [one, 'moment.recorded.v1'],
          [two, 'complaint.filed.v1'],
          [one, 'feedback.submitted.v1'],
        ]);
        expect((await store.readAll(start, { limit: 2 })).map((e) => e.type)).toEqual(['moment.recorded.v1', 'complaint.filed.v1']);
        expect((await store.readAll(all[0].position)).map((e) => e.position)).toEqual([all[1].position, all[2].position]);
        expect((await store.readAll(start, { types: ['feedback.submitted.v1'] })).map((e) => e.streamId)).toEqual([one]);
        expect(await store.headPosition()).toBe(all[2].position);
      });
    });

    describe('subscribe', () => {
      it('catches up on past events, then follows new appends live, in order, each once', async () => {
        const start = await marker(store);
        const stream = newStream();
        const past = events(3);
        await store.append(stream, past);
        const seen: RecordedEvent[] = [];
        const subscription = store.subscribe(start, (e) => {
          seen.push(e);
        }, { pollIntervalMs: 5_000 });

        const live = events(4);
        for (const e of live) await store.append(stream, [e]);
        const deadline = Date.now() + 10_000;
        while (seen.length < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        await subscription.stop();

        expect(seen.map((e) => e.id)).toEqual([...past, ...live].map((e) => e.id));
        expect(subscription.position).toBe(seen[6].position);
      });

      it('resumes from a checkpoint without repeating or skipping', async () => {
        const start = await marker(store);
        const stream = newStream();
        const batch = events(6);
        await store.append(stream, batch);
        const firstThree = await collect(store, start, 3);
        const rest = await collect(store, firstThree[2].position, 3);
        expect([...firstThree.slice(0, 3), ...rest].map((e) => e.id)).toEqual(batch.map((e) => e.id));
      });

      it('stops at the event whose handler failed and reports the error', async () => {
        const start = await marker(store);
        const stream = newStream();
        const batch = events(3);
        await store.append(stream, batch);
        const handled: string[] = [];
        const subscription = store.subscribe(start, (e) => {
          if (e.id === batch[1].id) throw new Error('projection bug');
          handled.push(e.id);
        });
        await expect(subscription.done).rejects.toThrow('projection bug');
        expect(handled).toEqual([batch[0].id]);
        const [firstRead] = await store.readStream(stream);
        expect(subscription.position).toBe(firstRead.position);
      });
    });

    describe('subscribeBatches', () => {
      it('hands over batches of at most `limit` events, in order, and moves past each batch', async () => {
        const start = await marker(store);
        const stream = newStream();
        const batch = events(7);
        await store.append(stream, batch);
        const batches: string[][] = [];
        const subscription = store.subscribeBatches(start, (list) => {
          batches.push(list.map((e) => e.id));
        }, { limit: 3 });
        const deadline = Date.now() + 10_000;
        while (batches.flat().length < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        await subscription.stop();
        expect(batches.flat()).toEqual(batch.map((e) => e.id));
        expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(3);
        const [last] = await store.readStream(stream, { direction: 'backwards', limit: 1 });
        expect(subscription.position).toBe(last.position);
      });

      it('stops at the last event the handler reported handled when it fails mid-batch', async () => {
        const start = await marker(store);
        const stream = newStream();
        await store.append(stream, events(4));
        const read = await store.readStream(stream);
        const subscription = store.subscribeBatches(start, (list, handled) => {
          handled(list[0].position);
          handled(list[1].position);
          throw new Error('third event failed');
        });
        await expect(subscription.done).rejects.toThrow('third event failed');
        expect(subscription.position).toBe(read[1].position);
      });
    });

    describe('bad input', () => {
      /** The call gets a fresh stream; after the typed error, that stream must still be empty. */
      const rejects = async (call: (stream: string) => Promise<unknown>, reason: string) => {
        const stream = newStream();
        const error = await call(stream).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidAppendError);
        expect((error as InvalidAppendError).reason).toBe(reason);
        expect(await store.streamVersion(stream)).toBe(-1);
      };

      it('rejects an invalid stream id', async () => {
        for (const id of ['', ' customer-1', 'customer 1', '$all', 'x'.repeat(201), 42]) {
          await rejects(() => store.append(id as string, events(1)), 'invalid_stream_id');
        }
      });

      it('rejects an empty batch', async () => {
        await rejects((stream) => store.append(stream, []), 'empty_batch');
      });

      it('rejects an event with no type or a type that is not a stable versioned name', async () => {
        await rejects((stream) => store.append(stream, [{ ...event(), type: '' }]), 'invalid_type');
        await rejects((stream) => store.append(stream, [{ id: randomUUID(), data: {} } as EventToAppend]), 'invalid_type');
        for (const type of ['ComplaintRouted', 'complaint.routed', 'complaint.routed.v0', 'Complaint.routed.v1']) {
          await rejects((stream) => store.append(stream, [event(), { ...event(), type }]), 'invalid_type');
        }
      });

      it('rejects data that is not JSON-serialisable, naming where', async () => {
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        const cases: unknown[] = [
          { amount: 10n },
          { when: new Date() },
          { score: Number.NaN },
          { nested: { fn: () => 1 } },
          circular,
          { text: 'nul\u0000byte' },
          undefined,
        ];
        for (const data of cases) {
          await rejects((stream) => store.append(stream, [{ ...event(), data }]), 'invalid_data');
        }
        const error = (await store.append(newStream(), [{ ...event(), data: { a: [1, { b: 2n }] } }]).catch((e) => e)) as Error;
        expect(error.message).toContain('data.a[1].b');
      });

      it('rejects an expected version below zero or not an integer', async () => {
        for (const expected of [-1, 1.5, 'latest']) {
          await rejects((stream) => store.append(stream, events(1), expected as number), 'invalid_expected_version');
        }
      });

      it('rejects an event id that is not a UUID and bad metadata', async () => {
        await rejects((stream) => store.append(stream, [{ ...event(), id: 'order-42' }]), 'invalid_event_id');
        await rejects((stream) => store.append(stream, [event(undefined, {}, { correlationId: 42 as unknown as string })]), 'invalid_metadata');
      });

      it('rejects bad read arguments with a typed error', async () => {
        await expect(store.readAll(-1n)).rejects.toBeInstanceOf(InvalidReadError);
        await expect(store.readAll(0n, { limit: 0 })).rejects.toBeInstanceOf(InvalidReadError);
        await expect(store.readStream(newStream(), { from: -1 })).rejects.toBeInstanceOf(InvalidReadError);
        expect(() => store.subscribe(-5n, () => undefined)).toThrow(InvalidReadError);
      });
    });

    it('reports its status', async () => {
      const status = await store.status();
      expect(status.status).toBe('up');
      expect(BigInt(status.headPosition ?? '-1')).toBeGreaterThanOrEqual(0n);
    });
  });
}
