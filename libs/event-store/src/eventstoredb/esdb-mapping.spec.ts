import { ANY, type AllStreamResolvedEvent, NO_STREAM, type ResolvedEvent, START, STREAM_EXISTS } from '@eventstore/db-client';
import { EventStoreUsageError, type EventToAppend } from '../event-store.js';
import {
  acceptsEvent,
  APPEND_ID,
  appendIdOf,
  fromCurrentRevision,
  fromEsdbEvent,
  fromEsdbExpectedRevision,
  isSystemEvent,
  observedRevision,
  positionOf,
  readPositionAfter,
  subscriptionFilter,
  toEsdbEvent,
  toEsdbExpectedRevision,
  versionMatches,
} from './esdb-mapping.js';

const ID = '3F2504E0-4F89-11D3-9A0C-0305E82C3301';
const created = new Date('2026-03-01T10:00:00.000Z');

/** What the server sends back for an event written with `toEsdbEvent`: JSON through the wire, as the client parses it. */
function asStored(event: ReturnType<typeof toEsdbEvent>, streamId: string, revision: bigint, commit: bigint): AllStreamResolvedEvent {
  return {
    event: {
      streamId,
      id: event.id,
      revision,
      type: event.type,
      data: JSON.parse(JSON.stringify(event.data)),
      metadata: JSON.parse(JSON.stringify(event.metadata)),
      isJson: true,
      created,
      position: { commit, prepare: commit - 40n },
    },
    commitPosition: commit,
  } as AllStreamResolvedEvent;
}

describe('EventStoreDB mapping', () => {
  describe('events, port → ESDB → port', () => {
    const event: EventToAppend = {
      id: ID,
      type: 'complaint.routed.v1',
      data: { complaintId: 'c-1', area: 'billing', tags: ['vip'], score: 9.5, none: null },
      metadata: { correlationId: 'req-42', causationId: 'cmd-7', source: 'urn:cx:callcenter', $weird: 1, '$cx.appendId': 'theirs' },
    };

    it('writes the port event as a JSON event with the id in lower case and correlation and causation under ESDB names', () => {
      const esdb = toEsdbEvent(event, 'attempt-1');
      expect(esdb).toEqual({
        id: ID.toLowerCase(),
        contentType: 'application/json',
        type: 'complaint.routed.v1',
        data: event.data,
        metadata: {
          $correlationId: 'req-42',
          $causationId: 'cmd-7',
          [APPEND_ID]: 'attempt-1',
          source: 'urn:cx:callcenter',
          $$weird: 1,
          '$$cx.appendId': 'theirs',
        },
      });
    });

    it('reads it back as the port event: stream, version, position, time, metadata without the append tag', () => {
      const stored = asStored(toEsdbEvent(event, 'attempt-1'), 'complaint-c-1', 4n, 123_456n);
      expect(fromEsdbEvent(stored)).toEqual({
        id: ID.toLowerCase(),
        type: 'complaint.routed.v1',
        data: event.data,
        metadata: { correlationId: 'req-42', causationId: 'cmd-7', source: 'urn:cx:callcenter', $weird: 1, '$cx.appendId': 'theirs' },
        streamId: 'complaint-c-1',
        streamVersion: 4,
        position: 123_456n,
        recordedAt: created,
      });
      expect(appendIdOf(stored)).toBe('attempt-1');
    });

    it('defaults correlation and causation to the event id, and keeps data that is not an object', () => {
      const plain: EventToAppend = { id: ID, type: 'moment.recorded.v1', data: null };
      const esdb = toEsdbEvent(plain, 'a');
      expect(esdb.metadata).toEqual({ $correlationId: ID, $causationId: ID, [APPEND_ID]: 'a' });
      expect(esdb.data).toBeNull();
      for (const data of [null, 42, 'text', [1, 2], false]) {
        const read = fromEsdbEvent(asStored(toEsdbEvent({ ...plain, data }, 'a'), 's-1', 0n, 10n));
        expect(read.data).toEqual(data);
      }
    });

    it('reads events another tool wrote: no metadata, binary data, upper-case ids', () => {
      const foreign = {
        event: {
          streamId: 'legacy-1',
          id: ID,
          revision: 0n,
          type: 'legacy.imported.v1',
          data: Uint8Array.from([1, 2, 255]),
          metadata: undefined,
          isJson: false,
          created,
          position: { commit: 99n, prepare: 99n },
        },
      } as unknown as ResolvedEvent;
      const read = fromEsdbEvent(foreign);
      expect(read.id).toBe(ID.toLowerCase());
      expect(read.data).toBe(Buffer.from([1, 2, 255]).toString('base64'));
      expect(read.metadata).toEqual({ correlationId: ID.toLowerCase(), causationId: ID.toLowerCase() });
      expect(appendIdOf(foreign)).toBeUndefined();
    });
  });

  describe('positions', () => {
    it("uses the commit position of a read event as the port's position", () => {
      const fromAll = { event: { position: { commit: 500n, prepare: 460n } }, commitPosition: 500n } as unknown as AllStreamResolvedEvent;
      const fromStream = { event: { position: { commit: 700n, prepare: 700n } } } as unknown as ResolvedEvent;
      expect(positionOf(fromAll)).toBe(500n);
      expect(positionOf(fromStream)).toBe(700n);
    });

    it('refuses an event without a position (a server older than 22.6) with a typed error that says why', () => {
      const old = { event: { position: undefined } } as unknown as ResolvedEvent;
      expect(() => positionOf(old)).toThrow(EventStoreUsageError);
      expect(() => positionOf(old)).toThrow('22.6');
    });

    it('resumes after a checkpoint from that position (commit and prepare), and from the start for 0', () => {
      expect(readPositionAfter(0n)).toBe(START);
      expect(readPositionAfter(123_456n)).toEqual({ commit: 123_456n, prepare: 123_456n });
    });
  });

  describe('expected versions', () => {
    it("maps the port's expectations to ESDB's: ANY, NO_STREAM, STREAM_EXISTS, revisions as bigints", () => {
      expect(toEsdbExpectedRevision('any')).toBe(ANY);
      expect(toEsdbExpectedRevision('no_stream')).toBe(NO_STREAM);
      expect(toEsdbExpectedRevision('stream_exists')).toBe(STREAM_EXISTS);
      expect(toEsdbExpectedRevision(0)).toBe(0n);
      expect(toEsdbExpectedRevision(41)).toBe(41n);
      for (const expected of ['any', 'no_stream', 'stream_exists', 0, 41] as const) {
        expect(fromEsdbExpectedRevision(toEsdbExpectedRevision(expected))).toBe(expected);
      }
    });

    it('sends the observed revision exactly: NO_STREAM for an empty stream', () => {
      expect(observedRevision(-1)).toBe(NO_STREAM);
      expect(observedRevision(0)).toBe(0n);
      expect(observedRevision(9)).toBe(9n);
    });

    it("reads ESDB's current revision as the port's version", () => {
      expect(fromCurrentRevision(NO_STREAM)).toBe(-1);
      expect(fromCurrentRevision(undefined)).toBe(-1);
      expect(fromCurrentRevision(7n)).toBe(7);
    });

    it('checks an expectation against a version as the port defines it', () => {
      const cases: Array<[Parameters<typeof versionMatches>[0], number, boolean]> = [
        ['any', -1, true],
        ['any', 5, true],
        ['no_stream', -1, true],
        ['no_stream', 0, false],
        ['stream_exists', -1, false],
        ['stream_exists', 0, true],
        [3, 3, true],
        [3, 4, false],
        [0, -1, false],
      ];
      for (const [expected, actual, matches] of cases) expect([expected, actual, versionMatches(expected, actual)]).toEqual([expected, actual, matches]);
    });
  });

  describe('filters', () => {
    const resolved = (type: string, streamId = 'customer-1') => ({ event: { type, streamId } }) as unknown as AllStreamResolvedEvent;
    const regexOf = (filter: ReturnType<typeof subscriptionFilter>) => new RegExp((filter as { regex: string }).regex);

    it('subscribes to every non-system event type when no types are given', () => {
      const filter = subscriptionFilter();
      expect(filter.filterOn).toBe('eventType');
      const regex = regexOf(filter);
      expect(regex.test('moment.recorded.v1')).toBe(true);
      expect(regex.test('$statistics-collected')).toBe(false);
      expect(regex.test('$>')).toBe(false);
    });

    it('subscribes to exactly the given types, dots and all', () => {
      const regex = regexOf(subscriptionFilter(['moment.recorded.v1', 'complaint.filed.v1']));
      expect(regex.test('moment.recorded.v1')).toBe(true);
      expect(regex.test('complaint.filed.v1')).toBe(true);
      expect(regex.test('moment.recorded.v10')).toBe(false);
      expect(regex.test('xmoment.recorded.v1')).toBe(false);
      expect(regex.test('momentXrecorded.v1')).toBe(false);
      expect(regexOf(subscriptionFilter([])).test('moment.recorded.v1')).toBe(false);
    });

    it('keeps platform events only: no system types, no system streams, no links to deleted events', () => {
      expect(isSystemEvent(resolved('$metadata', '$$customer-1'))).toBe(true);
      expect(isSystemEvent(resolved('moment.recorded.v1', '$projections-x'))).toBe(true);
      expect(isSystemEvent({ commitPosition: 1n } as AllStreamResolvedEvent)).toBe(true);
      expect(acceptsEvent(resolved('moment.recorded.v1'))).toBe(true);
      expect(acceptsEvent(resolved('moment.recorded.v1'), ['complaint.filed.v1'])).toBe(false);
      expect(acceptsEvent(resolved('complaint.filed.v1'), ['complaint.filed.v1'])).toBe(true);
    });
  });
});
