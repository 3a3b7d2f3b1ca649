import { describe, expect, it } from '@jest/globals';
import { backoffMs, ConsumerStopped, retryInBatch, startRetrying } from './consumer-retry.js';

/** The three things retryInBatch asks of kafkajs's batch payload, recorded. */
function batch(state: { running?: boolean; stale?: boolean } = {}) {
  const calls = { heartbeats: 0 };
  return {
    calls,
    payload: {
      heartbeat: async () => {
        calls.heartbeats++;
      },
      isRunning: () => state.running ?? true,
      isStale: () => state.stale ?? false,
    },
  };
}

describe('backoffMs', () => {
  it('doubles from the minimum and stops at the maximum', () => {
    expect([0, 1, 2, 3].map((a) => backoffMs(a))).toEqual([200, 400, 800, 1600]);
    expect(backoffMs(6)).toBe(10_000);
    expect(backoffMs(1_000)).toBe(10_000);
    expect([0, 1, 5].map((a) => backoffMs(a, { retryMinMs: 5, retryMaxMs: 100 }))).toEqual([5, 10, 100]);
  });
});

describe('retryInBatch', () => {
  it('given a step that fails twice, when retried, then it returns the third result and heartbeats while waiting', async () => {
    const { payload, calls } = batch();
    const failures: number[] = [];
    let attempts = 0;
    const result = await retryInBatch(
      payload,
      { retryMinMs: 4, retryMaxMs: 8, heartbeatEveryMs: 2, stopping: () => false, failed: (_e, attempt) => failures.push(attempt) },
      async () => {
        attempts++;
        if (attempts < 3) throw new Error(`down ${attempts}`);
        return 'stored';
      },
    );
    expect(result).toBe('stored');
    expect(failures).toEqual([0, 1]);
    expect(calls.heartbeats).toBeGreaterThanOrEqual(2);
  });

  it('given the consumer stops while waiting, then it throws ConsumerStopped and does not try again', async () => {
    const { payload } = batch();
    let stopping = false;
    let attempts = 0;
    const run = retryInBatch(
      payload,
      {
        retryMinMs: 50,
        heartbeatEveryMs: 5,
        stopping: () => stopping,
        failed: () => {
          stopping = true;
        },
      },
      async () => {
        attempts++;
        throw new Error('database down');
      },
    );
    await expect(run).rejects.toBeInstanceOf(ConsumerStopped);
    expect(attempts).toBe(1);
  });

  it('given the batch went stale (a rebalance), then it gives up with ConsumerStopped', async () => {
    const { payload } = batch({ stale: true });
    await expect(
      retryInBatch(payload, { stopping: () => false, failed: () => undefined }, async () => {
        throw new Error('broker refused');
      }),
    ).rejects.toBeInstanceOf(ConsumerStopped);
  });
});

describe('startRetrying', () => {
  it('given connecting fails once, then it cleans up, waits and connects again', async () => {
    const events: string[] = [];
    let attempts = 0;
    await startRetrying(
      { retryMinMs: 1, stopping: () => false, failed: (error, attempt) => events.push(`failed ${attempt}: ${error.message}`) },
      async () => {
        attempts++;
        if (attempts === 1) throw new Error('no broker');
        events.push('running');
      },
      async () => {
        events.push('cleaned up');
      },
    );
    expect(events).toEqual(['failed 0: no broker', 'cleaned up', 'running']);
  });

  it('given the consumer is stopping, then it does not connect', async () => {
    let connected = false;
    await startRetrying(
      { stopping: () => true, failed: () => undefined },
      async () => {
        connected = true;
      },
      async () => undefined,
    );
    expect(connected).toBe(false);
  });
});
