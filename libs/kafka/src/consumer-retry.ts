import type { EachBatchPayload } from 'kafkajs';

/**
 * How the platform's Kafka consumers (the ingest topic and the projector group) ride out failures:
 * a failed step is tried again, waiting longer each time, without committing anything, and the
 * consumer keeps heartbeating while it waits so the group does not take its partitions away.
 */
export type RetryTiming = { retryMinMs?: number; retryMaxMs?: number };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before attempt `attempt + 1`: doubling from `retryMinMs` (200 ms) up to `retryMaxMs` (10 s). */
export function backoffMs(attempt: number, timing: RetryTiming = {}): number {
  return Math.min(timing.retryMaxMs ?? 10_000, (timing.retryMinMs ?? 200) * 2 ** Math.min(attempt, 16));
}

/** Thrown out of a batch handler when the consumer stops or loses the batch while retrying: nothing is committed. */
export class ConsumerStopped extends Error {
  constructor() {
    super('the consumer stopped or lost the batch while retrying');
    this.name = 'ConsumerStopped';
  }
}

export type BatchRetry = RetryTiming & {
  /** True once the consumer is asked to stop. */
  stopping: () => boolean;
  /** Called after each failed attempt (record it, log every tenth). */
  failed: (error: unknown, attempt: number) => void;
  /** Waits at most this long between heartbeats (250 ms). */
  heartbeatEveryMs?: number;
};

/**
 * Runs `step` until it succeeds. Between attempts it waits `backoffMs`, heartbeating, and gives up
 * with ConsumerStopped when the consumer stops, kafkajs stops running, or the batch went stale
 * (a rebalance gave the partition to another member).
 */
export async function retryInBatch<T>(
  payload: Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale'>,
  retry: BatchRetry,
  step: () => Promise<T>,
): Promise<T> {
  const every = retry.heartbeatEveryMs ?? 250;
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      retry.failed(error, attempt);
      const until = Date.now() + backoffMs(attempt, retry);
      while (Date.now() < until) {
        if (retry.stopping() || !payload.isRunning() || payload.isStale()) throw new ConsumerStopped();
        await sleep(Math.min(every, until - Date.now()));
        await payload.heartbeat();
      }
    }
  }
}

/**
 * Starts a consumer: `connectAndRun` until it succeeds or `stopping()`; after a failure `cleanUp`
 * (disconnect what was half connected) and wait `backoffMs`.
 */
export async function startRetrying(
  retry: RetryTiming & { stopping: () => boolean; failed: (error: Error, attempt: number) => void },
  connectAndRun: () => Promise<void>,
  cleanUp: () => Promise<void>,
): Promise<void> {
  for (let attempt = 0; !retry.stopping(); attempt++) {
    try {
      await connectAndRun();
      return;
    } catch (error) {
      retry.failed(error instanceof Error ? error : new Error(String(error)), attempt);
      await cleanUp();
      await sleep(backoffMs(attempt, retry));
    }
  }
}
