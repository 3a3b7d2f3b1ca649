import type { Event } from '@cx/domain';

/**
 * An operator recorded a dated change to a process or tool (`POST /v1/changes`). It is operator
 * input, not something a channel system reports, so it is not ingestible; it is still an event in
 * the log, so `rm_changes` is rebuilt from the log like every other view.
 */
export type ChangeRecorded = Event<
  'change.recorded.v1',
  {
    changeId: string;
    name: string;
    /** RFC 3339, UTC: the instant the change took effect. */
    effectiveAt: string;
    /** Moment kinds the change touches; absent: every kind. */
    kinds?: string[];
    /** Channels the change touches; absent: every channel. */
    channels?: string[];
    description?: string;
  }
>;

export const CHANGE_RECORDED: ChangeRecorded['type'] = 'change.recorded.v1';

export const changeStreamId = (changeId: string): string => `change-${changeId}`;
