import { WriteActivity } from '@cx/platform';
import { FoldDeferral } from './fold-deferral.js';

/** A deferral on a hand-moved clock: its sleeps move the clock instead of waiting. */
function setup(options: { maxDeferMs?: number; maxLagEvents?: number } = {}) {
  let now = 1_000_000;
  const clock = () => now;
  const writes = new WriteActivity(clock);
  const slept: number[] = [];
  const deferral = new FoldDeferral(writes, {
    maxDeferMs: options.maxDeferMs ?? 1_000,
    maxLagEvents: options.maxLagEvents ?? 1_000_000,
    quietMs: 50,
    checkMs: 25,
    now: clock,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  });
  return { writes, deferral, slept, advance: (ms: number) => (now += ms), sleptMs: () => slept.reduce((a, b) => a + b, 0) };
}
const always = () => true;

describe('FoldDeferral (ingest first)', () => {
  it('folds at once when nothing is being written', async () => {
    const { deferral, slept } = setup();
    await deferral.beforeFold('p', 10n, false, always);
    expect(slept).toEqual([]);
  });

  it('holds a batch back while a write is in flight, and until the writes have been quiet for a while after it', async () => {
    const { writes, deferral, sleptMs } = setup({ maxDeferMs: 10_000 });
    const end = writes.begin();
    let folded = false;
    const waiting = deferral.beforeFold('p', 10n, false, always).then(() => (folded = true));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(deferral.deferring.has('p')).toBe(true);
    end(500n);
    await waiting;
    expect(folded).toBe(true);
    expect(deferral.deferring.size).toBe(0);
    // It waited while the write was in flight and then out the quiet time, not up to the bound.
    expect(sleptMs()).toBeGreaterThanOrEqual(50);
    expect(sleptMs()).toBeLessThan(10_000);
  });

  it('defers at most maxDeferMs in a stretch, then folds without deferring until it has caught up', async () => {
    const { writes, deferral, sleptMs } = setup({ maxDeferMs: 1_000 });
    writes.begin(); // a write that never ends
    await deferral.beforeFold('p', 10n, true, always);
    expect(sleptMs()).toBe(1_000);
    // Overdue: full batches, and the last one that catches up, are folded at once.
    await deferral.beforeFold('p', 20n, true, always);
    await deferral.beforeFold('p', 30n, false, always);
    expect(sleptMs()).toBe(1_000);
    // Caught up: the next stretch may defer again, again at most the bound.
    await deferral.beforeFold('p', 40n, false, always);
    expect(sleptMs()).toBe(2_000);
  });

  it('counts every deferral of a stretch against the same bound, across quiet moments between bursts', async () => {
    const { writes, deferral, sleptMs, advance } = setup({ maxDeferMs: 1_000 });
    let end = writes.begin();
    const first = deferral.beforeFold('p', 10n, true, always);
    for (let i = 0; i < 10; i++) await Promise.resolve();
    end();
    await first;
    advance(100); // quiet: the batch is folded, but the projection is still behind (the batch was full)
    end = writes.begin();
    await deferral.beforeFold('p', 20n, true, always);
    end();
    // Both deferrals together stayed within one bound (plus the quiet time of the first).
    expect(sleptMs()).toBeLessThanOrEqual(1_000 + 50);
  });

  it('never defers a projection maxLagEvents or more behind what this process wrote', async () => {
    const { writes, deferral, slept } = setup({ maxDeferMs: 60_000, maxLagEvents: 100 });
    writes.begin()(1_000n);
    writes.begin(); // still writing
    await deferral.beforeFold('p', 900n, true, always);
    expect(slept).toEqual([]);
  });

  it('folds at once while a reader hurries it, and when its projection is no longer wanted', async () => {
    const { writes, deferral, slept } = setup({ maxDeferMs: 60_000 });
    writes.begin();
    const release = deferral.hurry();
    await deferral.beforeFold('p', 10n, false, always);
    expect(slept).toEqual([]);
    release();
    let wanted = true;
    const waiting = deferral.beforeFold('q', 10n, false, () => wanted);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(deferral.deferring.has('q')).toBe(true);
    wanted = false;
    await waiting;
    expect(deferral.deferring.size).toBe(0);
  });

  it('refuses negative bounds', () => {
    expect(() => new FoldDeferral(new WriteActivity(), { maxDeferMs: -1, maxLagEvents: 0 })).toThrow(RangeError);
  });
});
