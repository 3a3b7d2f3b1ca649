import type { BatchHandler, Position, RecordedEvent, Subscription } from './event-store.js';

export type FollowLogOptions = {
  after: Position;
  /** Called with each batch read, in order; the position moves past the batch when it resolves. */
  handleBatch: BatchHandler;
  read: (after: Position, limit: number) => Promise<RecordedEvent[]>;
  batchSize: number;
  pollIntervalMs: number;
  /**
   * After a batch smaller than the limit (caught up, events trickling in), wait until the next
   * multiple of this many ms on the clock before reading again, even when woken sooner: fewer,
   * larger batches for at most this much more latency, and the subscribers of a process read at
   * the same moments (they can share the read). 0 (the default): read as soon as woken.
   */
  gatherMs?: number;
  /** Registers a wake-up callback for new appends; returns its removal. */
  onWake: (wake: () => void) => () => void;
};

/**
 * Catch-up then live following of a log, shared by the adapters: read a batch, hand it to the
 * handler, and when caught up wait for a wake-up signal or the poll
 * interval. A signal that finds nothing new (a transaction still in flight holds readers
 * back) is retried soon, with a short backoff, rather than after a full poll interval.
 */
export function followLog(options: FollowLogOptions): Subscription {
  let position = options.after;
  let stopped = false;
  let signalled = false;
  let wakeUp: (() => void) | undefined;

  const wake = () => {
    signalled = true;
    wakeUp?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (signalled || stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  /** A wait that only stopping cuts short: wake-ups do not. */
  let stopWait: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopWait = undefined;
        resolve();
      }
      stopWait = done;
    });
  const gatherMs = options.gatherMs ?? 0;

  const unregister = options.onWake(wake);
  const done = (async () => {
    let retryMs = 0;
    // While a full batch is being handled, the next one is already being read: catching up
    // overlaps reading the log with folding it.
    let prefetched: Promise<RecordedEvent[]> | undefined;
    try {
      while (!stopped) {
        const wasSignalled = signalled;
        signalled = false;
        const batch = await (prefetched ?? options.read(position, options.batchSize));
        prefetched = undefined;
        if (stopped) return;
        if (batch.length > 0) {
          const last = batch[batch.length - 1].position;
          if (batch.length === options.batchSize) {
            prefetched = options.read(last, options.batchSize);
            prefetched.catch(() => undefined); // observed when awaited; dropped if the handler fails
          }
          await options.handleBatch(batch, (handled) => {
            position = handled;
          });
          position = last;
        }
        if (batch.length === options.batchSize) continue;
        if (batch.length > 0 && gatherMs > 0) {
          retryMs = 0;
          await pause(gatherMs - (Date.now() % gatherMs));
          continue;
        }
        if (batch.length === 0 && wasSignalled) {
          retryMs = Math.min(Math.max(retryMs * 2, 5), options.pollIntervalMs);
          await sleep(retryMs);
        } else {
          retryMs = 0;
          await sleep(options.pollIntervalMs);
        }
      }
    } finally {
      unregister();
    }
  })();
  // Keep an unobserved failure from crashing the process; callers observe it through `done`.
  done.catch(() => undefined);

  return {
    get position() {
      return position;
    },
    done,
    async stop() {
      stopped = true;
      wakeUp?.();
      stopWait?.();
      await done.catch(() => undefined);
    },
  };
}
