/**
 * What the write path of this process is doing: how many ingest calls are in flight, when the last
 * one ended, and the highest log position they stored. Background work in the same process (live
 * projections) reads it to step aside while channel systems are sending, within its own bounds.
 */
export class WriteActivity {
  #inFlight = 0;
  #lastEndedAt = -Infinity;
  #head = 0n;

  constructor(private readonly now: () => number = Date.now) {}

  /** Marks a write as started; call the function it returns when the write ends, with the highest position it stored. */
  begin(): (position?: bigint) => void {
    this.#inFlight++;
    let ended = false;
    return (position) => {
      if (ended) return;
      ended = true;
      this.#inFlight--;
      this.#lastEndedAt = this.now();
      if (position !== undefined && position > this.#head) this.#head = position;
    };
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** The highest position a write of this process stored (0n before the first). */
  get head(): bigint {
    return this.#head;
  }

  /** A write is in flight, or one ended less than `quietMs` ago (clients send their next batch right after an answer). */
  busy(quietMs: number): boolean {
    return this.#inFlight > 0 || this.now() - this.#lastEndedAt < quietMs;
  }
}
