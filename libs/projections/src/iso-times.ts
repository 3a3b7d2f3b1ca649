/**
 * ISO 8601 texts (UTC, milliseconds) of epoch milliseconds, remembered. A projection that writes a
 * customer's whole row at each batch formats the same times again and again (registered, last
 * contact, latest answers...): most of them have not changed since the row was last written.
 * `Date#toISOString` costs about a microsecond; a lookup here a fifth of that.
 *
 * Two generations bound the memory: lookups go to the current one, then to the previous one
 * (what is found there moves up); when the current one is full, it becomes the previous one and
 * the oldest is let go. So a time in use stays, and one not asked for over two generations goes.
 */
export class IsoTimes {
  private current = new Map<number, string>();
  private previous = new Map<number, string>();

  constructor(private readonly capacity = 100_000) {}

  /** The time as `new Date(ms).toISOString()` gives it; null for null. */
  of(ms: number | null): string | null {
    if (ms === null) return null;
    let text = this.current.get(ms);
    if (text !== undefined) return text;
    text = this.previous.get(ms) ?? new Date(ms).toISOString();
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(ms, text);
    return text;
  }

  /** Times held, both generations (at most twice the capacity). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}
