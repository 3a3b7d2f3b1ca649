import type { KeyObject } from 'node:crypto';

/** What the vault knows of a customer's data key. */
export type DataKeyState = { state: 'live'; key: KeyObject } | { state: 'erased' };

type Entry = { value: DataKeyState; expiresAt: number };

/**
 * Unwrapped data keys by customer id: a bounded LRU (a Map keeps insertion order; a hit moves the
 * entry to the end). Live keys expire after `ttlMs`, which bounds how long an erase in another
 * process leaves a key usable here. Erasure is final, so tombstones never expire, only age out.
 */
export class DataKeyCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get(customerId: string): DataKeyState | undefined {
    const entry = this.#entries.get(customerId);
    if (!entry) return undefined;
    this.#entries.delete(customerId);
    if (entry.expiresAt <= this.now()) return undefined;
    this.#entries.set(customerId, entry);
    return entry.value;
  }

  /**
   * Remembers a key's state and returns the state to use. A live key never replaces a tombstone: a
   * read that started before an erase in this process and finished after it must not bring the key back.
   */
  set(customerId: string, value: DataKeyState): DataKeyState {
    const existing = this.#entries.get(customerId);
    if (existing?.value.state === 'erased') return existing.value;
    this.#entries.delete(customerId);
    if (this.maxEntries <= 0) return value;
    if (value.state === 'live' && this.ttlMs <= 0) return value;
    this.#entries.set(customerId, { value, expiresAt: value.state === 'erased' ? Infinity : this.now() + this.ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return value;
  }
}
