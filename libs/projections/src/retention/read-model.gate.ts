import type { EventStore } from '@cx/event-store';
import type { Pool } from 'pg';

const POLL_MS = 50;

/** The read models the retention processes act on are behind the log: acting now would act on an old picture. */
export class ReadModelBehindError extends Error {
  constructor(
    readonly projections: readonly string[],
    readonly position: bigint,
    readonly head: bigint,
  ) {
    super(`the read models (${projections.join(', ')}) are at position ${position}, behind the log head ${head}; retry shortly`);
    this.name = 'ReadModelBehindError';
  }
}

/**
 * Waits (up to `waitMs`) until the named projections have folded the log up to the head as it is
 * now. The tier job and the alert dispatcher decide from read models: during a rebuild or a long
 * catch-up those show the past, and a decision taken from them would be wrong (a tier from half
 * the payments, an alert for a complaint resolved later in the log). Under steady load the head
 * moves on, but the projections reach the head seen at the start within a batch or two.
 */
export async function waitUntilCaughtUp(store: EventStore, pool: Pool, projections: readonly string[], waitMs: number): Promise<void> {
  const head = await store.headPosition();
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { rows } = await pool.query<{ position: string | null; n: string }>(
      'SELECT min(position)::text AS position, count(*)::text AS n FROM cx_projection_checkpoints WHERE name = ANY($1::text[])',
      [projections],
    );
    const position = Number(rows[0].n) === projections.length ? BigInt(rows[0].position ?? 0) : 0n;
    if (position >= head) return;
    if (Date.now() >= deadline) throw new ReadModelBehindError(projections, position, head);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
