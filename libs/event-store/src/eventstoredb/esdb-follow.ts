import type { AllStreamResolvedEvent } from '@eventstore/db-client';
import type { BatchHandler, Position, RecordedEvent, Subscription } from '../event-store.js';
import type { EsdbSubscriptionSource } from './esdb-client.js';

export type FollowAllOptions = {
  /** The subscriber's checkpoint: the position of the last event it handled (0n: from the start). */
  after: Position;
  handleBatch: BatchHandler;
  /** Most events per batch handed to the handler. */
  batchSize: number;
  /** Reads up to `limit` wanted events after `after` (catching up a page at a time, as other adapters do). */
  read: (after: Position, limit: number) => Promise<RecordedEvent[]>;
  /** Opens a subscription to `$all` that delivers the events after `from` (it may repeat `from` itself). */
  subscribe: (from: Position) => EsdbSubscriptionSource;
  /** Keeps the events the subscriber wants (the server filters too; this also drops system events). */
  accept: (resolved: AllStreamResolvedEvent) => boolean;
  toRecorded: (resolved: AllStreamResolvedEvent) => RecordedEvent;
  positionOf: (resolved: AllStreamResolvedEvent) => Position;
  /** A dropped subscription is opened again, from the last handled position, when this says the error is transient. */
  isTransient: (error: unknown) => boolean;
  translateError?: (error: unknown) => unknown;
  /** Pause before the n-th consecutive reconnection. */
  reconnectDelayMs?: (attempt: number) => number;
  maxReconnects?: number;
};

/** Waits `ms`, or less if `cancelled` resolves first (the timer is cleared either way). */
async function pause(ms: number, cancelled: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), cancelled]);
  clearTimeout(timer);
}

class HandlerFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Reads a subscription into a buffer in the background, so that the consumer can take what has
 * arrived as one batch. The buffer holds at most `highWater` events; beyond that the source waits
 * (backpressure). Errors of the source come after the events delivered before them.
 */
export class SubscriptionBuffer<T> {
  private readonly items: T[] = [];
  private failure: { error: unknown } | undefined;
  private ended = false;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(
    source: AsyncIterable<T>,
    private readonly highWater: number,
  ) {
    void this.pump(source);
  }

  private async pump(source: AsyncIterable<T>): Promise<void> {
    try {
      for await (const item of source) {
        this.items.push(item);
        this.notify();
        while (this.items.length >= this.highWater && !this.ended) {
          await new Promise<void>((resolve) => (this.wakeProducer = resolve));
        }
        if (this.ended) return;
      }
    } catch (error) {
      this.failure = { error };
    } finally {
      this.ended = true;
      this.notify();
    }
  }

  private notify(): void {
    const wake = this.wakeConsumer;
    this.wakeConsumer = undefined;
    wake?.();
  }

  /**
   * Up to `max` events, waiting for the first. Undefined once the source ended and the buffer is
   * empty, or when `cancelled` resolves first. Throws the source's error once the events before it
   * have been taken.
   */
  async take(max: number, cancelled: Promise<void>): Promise<T[] | undefined> {
    while (this.items.length === 0) {
      if (this.failure) throw this.failure.error;
      if (this.ended) return undefined;
      let stop = false;
      await Promise.race([new Promise<void>((resolve) => (this.wakeConsumer = resolve)), cancelled.then(() => (stop = true))]);
      if (stop) return undefined;
    }
    // Events that arrived together (one network read) join the batch: let the pump move them in.
    if (this.items.length < max && !this.ended) await new Promise<void>((resolve) => setImmediate(resolve));
    const batch = this.items.splice(0, max);
    const wake = this.wakeProducer;
    this.wakeProducer = undefined;
    wake?.();
    return batch;
  }

  /** Stops reading (the source itself is ended by its owner). */
  close(): void {
    this.ended = true;
    const wake = this.wakeProducer;
    this.wakeProducer = undefined;
    wake?.();
  }
}

/**
 * Follows `$all` through an ESDB catch-up subscription: past events, then live ones, handed to the
 * handler a batch at a time, in log order, each once. The subscriber's checkpoint is the position
 * of the last event it handled: the subscription starts there and drops anything at or before it,
 * so it resumes without repeating or skipping. A subscription the server or the network drops is
 * opened again from that position (transient errors only); a handler error stops it there and
 * rejects `done`.
 */
export function followAll(options: FollowAllOptions): Subscription {
  let position = options.after;
  let stopped = false;
  let source: EsdbSubscriptionSource | undefined;
  let signalStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (signalStop = resolve));
  const delay = options.reconnectDelayMs ?? ((attempt: number) => Math.min(100 * 2 ** (attempt - 1), 5_000));
  const maxReconnects = options.maxReconnects ?? Number.POSITIVE_INFINITY;

  const endSource = async (current: EsdbSubscriptionSource | undefined) => {
    if (!current) return;
    await current.unsubscribe().catch(() => undefined);
    current.destroy?.();
  };

  const handle = async (batch: readonly RecordedEvent[]) => {
    try {
      await options.handleBatch(batch, (handled) => {
        position = handled;
      });
    } catch (error) {
      throw new HandlerFailure(error);
    }
    position = batch[batch.length - 1].position;
  };

  const done = (async () => {
    let reconnects = 0;
    while (!stopped) {
      let dropped: { error: unknown } | undefined;
      // Catch up a page at a time (each page one batch), then follow live from where that ended.
      try {
        for (;;) {
          const batch = await options.read(position, options.batchSize);
          if (stopped) return;
          if (batch.length > 0) await handle(batch);
          if (batch.length < options.batchSize) break;
        }
      } catch (error) {
        if (error instanceof HandlerFailure) throw error.error;
        dropped = { error };
      }
      if (!dropped && !stopped) {
        const current = options.subscribe(position);
        source = current;
        const buffer = new SubscriptionBuffer(current, Math.max(options.batchSize * 2, 64));
        try {
          for (;;) {
            const received = await buffer.take(options.batchSize, stopRequested);
            if (received === undefined || stopped) break;
            const batch = received.filter((resolved) => options.accept(resolved) && options.positionOf(resolved) > position).map(options.toRecorded);
            if (batch.length === 0) continue;
            reconnects = 0;
            await handle(batch);
          }
        } catch (error) {
          if (error instanceof HandlerFailure) throw error.error;
          dropped = { error };
        } finally {
          buffer.close();
          await endSource(current);
          if (source === current) source = undefined;
        }
      }
      if (stopped) return;
      // The subscription was dropped (or the server ended it): open it again from the last
      // handled position after a pause, unless the error says that would not help.
      if (dropped && !options.isTransient(dropped.error)) throw options.translateError?.(dropped.error) ?? dropped.error;
      if (reconnects >= maxReconnects) {
        throw dropped ? (options.translateError?.(dropped.error) ?? dropped.error) : new Error('the EventStoreDB subscription to $all kept ending');
      }
      reconnects++;
      await pause(delay(reconnects), stopRequested);
    }
  })();
  // Callers observe failures through `done`; an unobserved one must not crash the process.
  done.catch(() => undefined);

  return {
    get position() {
      return position;
    },
    done,
    async stop() {
      stopped = true;
      signalStop();
      await endSource(source);
      await done.catch(() => undefined);
    },
  };
}
