import { type EventStore, PostgresEventStore, type Position, type RecordedEvent } from '@cx/event-store';

/** How a rebuild reads the log: `after` a position, at most `limit` events of `types`, in log order. */
export type LogReader = (after: Position, limit: number, types: readonly string[]) => Promise<RecordedEvent[]>;

/**
 * The rebuild's read of the log. On the PostgreSQL store, `readAllLazily`: `readAll` with the
 * metadata and the time parsed only when a fold asks (most never do); on any other store, `readAll`.
 */
export function logReader(store: EventStore): LogReader {
  if (store instanceof PostgresEventStore) return (after, limit, types) => store.readAllLazily(after, { limit, types: [...types] });
  return (after, limit, types) => store.readAll(after, { limit, types: [...types] });
}
