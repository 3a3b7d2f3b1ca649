/**
 * How the port's events, versions and positions map onto EventStoreDB's, both ways. Pure
 * functions: no client, no server.
 *
 * Events: the port's id is the ESDB event id (a UUID; ESDB answers in lower case, as the port
 * compares ids), the type is the ESDB event type, data is the JSON body (`application/json`).
 * Metadata is a JSON object: correlation and causation ids go under ESDB's own `$correlationId`
 * and `$causationId` (which its system projections understand), the adapter's write tag under
 * `$cx.appendId` (see the adapter), and the caller's free keys as they are, except that a key
 * starting with `$` is stored with one more `$` so it can never be taken for one of those.
 *
 * Stream versions are ESDB stream revisions (bigint) as numbers; -1 is ESDB's "no stream".
 *
 * Positions: the port's Position is ESDB's commit position. An event appended through the
 * gRPC API (each append is an implicit transaction) has its own log position as its commit
 * position, the same whether it is read from its stream or from `$all`, unique and increasing
 * in `$all` order. Reading "after P" starts at `{ commit: P, prepare: P }` (ESDB reads are
 * inclusive there) and drops P itself. Events written inside explicit transactions of the old
 * TCP API share their commit position; such a log is not supported.
 */
import {
  ANY,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type CurrentRevision,
  eventTypeFilter,
  type Filter,
  type JSONEventData,
  NO_STREAM,
  type ReadPosition,
  type ResolvedEvent,
  START,
  STREAM_EXISTS,
} from '@eventstore/db-client';
import {
  type EventToAppend,
  EventStoreUsageError,
  type ExpectedVersion,
  type Position,
  type RecordedEvent,
  type RecordedMetadata,
} from '../event-store.js';
import { recordedMetadata } from '../append-validation.js';

export const CORRELATION_ID = '$correlationId';
export const CAUSATION_ID = '$causationId';
/** Tags the events of one append attempt, to tell them apart from a racing writer's copies of the same ids. */
export const APPEND_ID = '$cx.appendId';

/** The ESDB event of a port event, tagged with the append attempt that writes it. */
export function toEsdbEvent(event: EventToAppend, appendId: string): JSONEventData {
  return {
    id: event.id.toLowerCase(),
    contentType: 'application/json',
    type: event.type,
    data: (event.data ?? null) as JSONEventData['data'],
    metadata: toEsdbMetadata(recordedMetadata(event), appendId),
  };
}

export function toEsdbMetadata(metadata: RecordedMetadata, appendId?: string): Record<string, unknown> {
  const stored: Record<string, unknown> = { [CORRELATION_ID]: metadata.correlationId, [CAUSATION_ID]: metadata.causationId };
  if (appendId !== undefined) stored[APPEND_ID] = appendId;
  for (const [key, value] of Object.entries(metadata)) {
    if (key === 'correlationId' || key === 'causationId') continue;
    stored[key.startsWith('$') ? `$${key}` : key] = value;
  }
  return stored;
}

/** The port's metadata of a stored ESDB event; correlation and causation default to the event's id. */
export function fromEsdbMetadata(raw: unknown, eventId: string): RecordedMetadata {
  const free: Record<string, unknown> = {};
  let correlationId: string | undefined;
  let causationId: string | undefined;
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !(raw instanceof Uint8Array)) {
    for (const [key, value] of Object.entries(raw)) {
      if (key === CORRELATION_ID) correlationId = typeof value === 'string' ? value : undefined;
      else if (key === CAUSATION_ID) causationId = typeof value === 'string' ? value : undefined;
      else if (key === APPEND_ID) continue;
      else free[key.startsWith('$$') ? key.slice(1) : key] = value;
    }
  }
  return { ...free, correlationId: correlationId ?? eventId, causationId: causationId ?? eventId };
}

/** The append tag of a stored event, if the adapter wrote it. */
export function appendIdOf(resolved: ResolvedEvent | AllStreamResolvedEvent): string | undefined {
  const metadata = resolved.event?.metadata;
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata) || metadata instanceof Uint8Array) return undefined;
  const value = (metadata as Record<string, unknown>)[APPEND_ID];
  return typeof value === 'string' ? value : undefined;
}

/** The port's position of a read event: its commit position. */
export function positionOf(resolved: ResolvedEvent | AllStreamResolvedEvent): Position {
  const position = resolved.event?.position?.commit ?? resolved.commitPosition;
  if (position === undefined) {
    throw new EventStoreUsageError(
      'EventStoreDB returned an event without its log position: the adapter needs EventStoreDB 22.6 or later (stream reads carry positions from that version)',
    );
  }
  return position;
}

/** Where an ESDB read or subscription starts to give the events after `after` (P itself is dropped by the reader). */
export function readPositionAfter(after: Position): ReadPosition {
  return after === 0n ? START : { commit: after, prepare: after };
}

/** The port's event of an ESDB event. Data that is not JSON (written by another tool) comes as a base64 string. */
export function fromEsdbEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent {
  const event = resolved.event;
  if (!event) throw new EventStoreUsageError('EventStoreDB returned a link to a deleted event');
  const id = event.id.toLowerCase();
  return {
    id,
    type: event.type,
    data: event.isJson ? event.data : Buffer.from(event.data as Uint8Array).toString('base64'),
    metadata: fromEsdbMetadata(event.metadata, id),
    streamId: event.streamId,
    streamVersion: Number(event.revision),
    position: positionOf(resolved),
    recordedAt: event.created,
  };
}

/** An ESDB system event or an event of a system stream (`$…`): never one of the platform's. */
export function isSystemEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): boolean {
  const event = resolved.event;
  return !event || event.type.startsWith('$') || event.streamId.startsWith('$');
}

/** What readers of `$all` keep: the platform's events, of the given types if any. */
export function acceptsEvent(resolved: ResolvedEvent | AllStreamResolvedEvent, types?: readonly string[]): boolean {
  if (isSystemEvent(resolved)) return false;
  return types === undefined || types.includes(resolved.event!.type);
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The server-side filter of a subscription to `$all`: the given event types exactly, or every
 * event that is not a system event (types starting with `$`). An empty list matches nothing.
 */
export function subscriptionFilter(types?: readonly string[]): Filter {
  if (types === undefined) return eventTypeFilter({ regex: '^[^$]' });
  if (types.length === 0) return eventTypeFilter({ regex: '^(?!)' });
  return eventTypeFilter({ regex: `^(?:${types.map(escapeRegex).join('|')})$` });
}

/** ESDB's expectation for the port's, taken literally: 'any' → ANY, 'no_stream' → NO_STREAM, 'stream_exists' → STREAM_EXISTS, n → BigInt(n). */
export function toEsdbExpectedRevision(expected: ExpectedVersion): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
}

/**
 * The expectation the adapter sends: the exact revision it observed (NO_STREAM for -1), once it has
 * checked the caller's expectation against that revision itself. 'any' and 'stream_exists' become
 * exact too, so that any write racing in between is a conflict the adapter sees and resolves (a
 * re-read finds the duplicates or the new version) instead of ESDB appending blindly.
 */
export function observedRevision(version: number): AppendExpectedRevision {
  return version < 0 ? NO_STREAM : BigInt(version);
}

/** The port's version of ESDB's current revision ('no_stream' → -1). */
export function fromCurrentRevision(revision: CurrentRevision | undefined): number {
  return revision === undefined || revision === NO_STREAM ? -1 : Number(revision);
}

/** The port's expectation of ESDB's (revisions as numbers). */
export function fromEsdbExpectedRevision(expected: AppendExpectedRevision): ExpectedVersion {
  if (expected === ANY || expected === NO_STREAM || expected === STREAM_EXISTS) return expected;
  return Number(expected);
}

/** Whether the stream's version satisfies the port's expectation. */
export function versionMatches(expected: ExpectedVersion, actual: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === -1;
    case 'stream_exists':
      return actual >= 0;
    default:
      return actual === expected;
  }
}
