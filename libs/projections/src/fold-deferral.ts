import type { Position } from '@cx/event-store';
import type { WriteActivity } from '@cx/platform';

export type FoldDeferralOptions = {
  /**
   * Longest a projection defers in one stretch behind the log (from its first deferral until it has
   * caught up again); past it, it folds until caught up, busy or not.
   */
  maxDeferMs: number;
  /** A projection this many positions or more behind the highest position written here folds, busy or not. */
  maxLagEvents: number;
  /** Writes count as busy until none has been in flight for this long: clients send their next batch right after an answer. */
  quietMs?: number;
  /** How often a deferring projection looks again at the writes, its bound and whether it is still wanted. */
  checkMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
};

/** What the projection runner asks before folding a live batch. */
export type FoldPacer = {
  /**
   * Resolves when the projection should fold the batch ending at `last`: at once, or after deferring
   * within the bounds. `full`: the batch filled the read limit (more is waiting behind it).
   * `wanted`: false once the projection is being stopped, which ends a deferral at once.
   */
  beforeFold(projection: string, last: Position, full: boolean, wanted: () => boolean): Promise<void>;
};

type Stretch = { since?: number; overdue: boolean };

/**
 * Ingest first: while this process is ingesting, live projections in it hold their batches back
 * rather than fold alongside, and fold once the burst is over. This moves their cost, it does not
 * remove it (bench:ingest reports how far behind they end a burst and how long they take to catch
 * up): channel systems get the cores while they send, and the read models trail by seconds. The
 * read models are eventually consistent anyway; a reader that needs its own write passes
 * `minPosition`, and while one waits (`hurry`) nobody defers.
 *
 * Bounded, so no projection starves: a stretch of deferring lasts at most `maxDeferMs` in total
 * (counted from the first deferral until the projection has caught up), and a projection
 * `maxLagEvents` behind never defers. Past either bound it folds until it has caught up.
 */
export class FoldDeferral implements FoldPacer {
  readonly #stretches = new Map<string, Stretch>();
  readonly #deferring = new Set<string>();
  #hurries = 0;
  readonly #quietMs: number;
  readonly #checkMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly writes: Pick<WriteActivity, 'busy' | 'head'>,
    private readonly options: FoldDeferralOptions,
  ) {
    if (!(options.maxDeferMs >= 0) || !(options.maxLagEvents >= 0)) throw new RangeError('maxDeferMs and maxLagEvents must be at least 0');
    this.#quietMs = options.quietMs ?? 50;
    this.#checkMs = options.checkMs ?? 25;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The projections holding a batch back right now. */
  get deferring(): ReadonlySet<string> {
    return this.#deferring;
  }

  /** Nobody defers until the returned function is called (a reader waits for a position). */
  hurry(): () => void {
    this.#hurries++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#hurries--;
    };
  }

  async beforeFold(projection: string, last: Position, full: boolean, wanted: () => boolean): Promise<void> {
    let stretch = this.#stretches.get(projection);
    if (!stretch) this.#stretches.set(projection, (stretch = { overdue: false }));
    let waited = false;
    try {
      while (wanted() && this.#hurries === 0 && !stretch.overdue && this.writes.busy(this.#quietMs) && this.writes.head - last < BigInt(this.options.maxLagEvents)) {
        const now = this.#now();
        stretch.since ??= now;
        const left = stretch.since + this.options.maxDeferMs - now;
        if (left <= 0) {
          stretch.overdue = true;
          break;
        }
        this.#deferring.add(projection);
        waited = true;
        await this.#sleep(Math.min(this.#checkMs, left));
      }
    } finally {
      this.#deferring.delete(projection);
    }
    // Caught up without holding back: the stretch is over, and the next burst may be deferred afresh.
    if (!full && !waited) this.#stretches.set(projection, { overdue: false });
  }
}
