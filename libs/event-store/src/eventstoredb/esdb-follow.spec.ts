import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { AccessDeniedError, type AllStreamResolvedEvent } from '@eventstore/db-client';
import { EventStoreError, type EventToAppend, type Position, type RecordedEvent } from '../event-store.js';
import { isTransient, translateEsdbError } from './esdb-errors.js';
import { followAll, SubscriptionBuffer } from './esdb-follow.js';
import { acceptsEvent, fromEsdbEvent, positionOf } from './esdb-mapping.js';
import { EventStoreDbEventStore } from './eventstoredb-event-store.js';
import { InMemoryEsdb, unavailableError } from './in-memory-esdb.testing.js';

const event = (n = 0): EventToAppend => ({ id: randomUUID(), type: 'moment.recorded.v1', data: { n } });
const until = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

/** A `$all` event as the client delivers it, at log position `position`. */
const resolvedAt = (position: bigint, type = 'moment.recorded.v1'): AllStreamResolvedEvent =>
  ({
    event: {
      streamId: 'customer-1',
      id: randomUUID(),
      revision: 0n,
      type,
      data: {},
      metadata: {},
      isJson: true,
      created: new Date(),
      position: { commit: position, prepare: position },
    },
    commitPosition: position,
  }) as AllStreamResolvedEvent;

describe('SubscriptionBuffer', () => {
  it('stops pulling from the source at its high-water mark and resumes as batches are taken', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    const buffer = new SubscriptionBuffer(source(), 4);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(pulled).toBe(4);
    const never = new Promise<void>(() => undefined);
    expect(await buffer.take(3, never)).toEqual([0, 1, 2]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(pulled).toBe(7);
    buffer.close();
  });

  it("hands over the events received before the source's error, then the error", async () => {
    async function* source() {
      yield 'a';
      yield 'b';
      throw new Error('connection reset');
    }
    const buffer = new SubscriptionBuffer(source(), 10);
    const never = new Promise<void>(() => undefined);
    expect(await buffer.take(10, never)).toEqual(['a', 'b']);
    await expect(buffer.take(10, never)).rejects.toThrow('connection reset');
  });
});

describe('followAll (checkpoints)', () => {
  const base = {
    accept: (resolved: AllStreamResolvedEvent) => acceptsEvent(resolved),
    toRecorded: fromEsdbEvent,
    positionOf,
    isTransient,
    translateError: (error: unknown) => translateEsdbError(error),
    reconnectDelayMs: () => 1,
  };

  it('resumes from the checkpoint: subscribes from it and drops the checkpoint event the server sends again', async () => {
    const subscribedFrom: Position[] = [];
    const seen: Position[] = [];
    const subscription = followAll({
      ...base,
      after: 200n,
      batchSize: 10,
      read: async () => [],
      subscribe: (from) => {
        subscribedFrom.push(from);
        // Inclusive, as an ESDB read from a position is: the checkpoint's own event comes first.
        return Object.assign(Readable.from([resolvedAt(200n), resolvedAt(300n), resolvedAt(400n, '$statistics-collected'), resolvedAt(500n)]), {
          unsubscribe: async () => undefined,
        });
      },
      handleBatch: (events: readonly RecordedEvent[]) => {
        seen.push(...events.map((e) => e.position));
      },
    });
    await until(() => seen.length >= 2, 'two events');
    await subscription.stop();
    expect(subscribedFrom[0]).toBe(200n);
    expect(seen).toEqual([300n, 500n]);
    expect(subscription.position).toBe(500n);
  });

  it('opens the subscription again after a dropped connection, from the last handled event, without repeats', async () => {
    const esdb = new InMemoryEsdb();
    const store = new EventStoreDbEventStore({ client: esdb });
    const stream = `customer-${randomUUID()}`;
    const first = [event(1), event(2), event(3)];
    await store.append(stream, first);
    const seen: string[] = [];
    const subscription = store.subscribe(0n, (e) => {
      seen.push(e.id);
    });
    await until(() => seen.length === 3, 'the first three events');
    expect(esdb.calls.subscribe).toBe(1);

    esdb.dropSubscriptions(unavailableError());
    const later = [event(4), event(5)];
    await store.append(stream, later);
    await until(() => seen.length >= 5, 'the events after the drop');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await subscription.stop();

    expect(seen).toEqual([...first, ...later].map((e) => e.id));
    expect(esdb.calls.subscribe).toBeGreaterThanOrEqual(2);
    const [last] = await store.readStream(stream, { direction: 'backwards', limit: 1 });
    expect(subscription.position).toBe(last.position);
    await store.close();
  });

  it('stops with a typed error when the subscription fails for a reason a retry cannot fix', async () => {
    const esdb = new InMemoryEsdb();
    const store = new EventStoreDbEventStore({ client: esdb });
    await store.append(`customer-${randomUUID()}`, [event()]);
    const subscription = store.subscribe(0n, () => undefined);
    await until(() => esdb.calls.subscribe === 1, 'the live subscription');
    esdb.dropSubscriptions(new AccessDeniedError());
    await expect(subscription.done).rejects.toBeInstanceOf(EventStoreError);
    await expect(subscription.done).rejects.toThrow('refused access');
    await store.close();
  });

  it('catches up when the server is down at first, once it answers again', async () => {
    const esdb = new InMemoryEsdb();
    const store = new EventStoreDbEventStore({ client: esdb });
    const stream = `customer-${randomUUID()}`;
    await store.append(stream, [event()]);
    esdb.unavailable = true;
    const seen: string[] = [];
    const subscription = store.subscribe(0n, (e) => {
      seen.push(e.id);
    });
    await until(() => esdb.calls.readAll >= 1, 'a first attempt');
    expect(seen).toEqual([]);
    esdb.unavailable = false;
    await until(() => seen.length === 1, 'the event');
    await subscription.stop();
    await store.close();
  });

  it('ends on stop: done resolves and later appends are not delivered', async () => {
    const esdb = new InMemoryEsdb();
    const store = new EventStoreDbEventStore({ client: esdb });
    const stream = `customer-${randomUUID()}`;
    const seen: string[] = [];
    const subscription = store.subscribe(0n, (e) => {
      seen.push(e.id);
    });
    await store.append(stream, [event()]);
    await until(() => seen.length === 1, 'the first event');
    await subscription.stop();
    await expect(subscription.done).resolves.toBeUndefined();
    await store.append(stream, [event()]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toHaveLength(1);
    await store.close();
  });
});
