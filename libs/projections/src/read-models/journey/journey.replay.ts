import { type AsOf, type CustomerAsOf, customerAsOf, type DomainEventType, instantOf, newReplay, type OpenedProfile, replayEvent, type StateChange } from '@cx/domain';
import { customerInLog, inCustomerSnapshot, logReachedAt, readCustomerTimeline, type RecordedEvent } from '@cx/event-store';
import type { PiiVault } from '@cx/platform';
import type { Pool } from 'pg';
import { businessTime } from './journey.projection.js';
import { encodeCursor, type JourneyQuery } from './journey.query.js';
import { type JourneyEvent, personalFields, publicType } from './journey.reader.js';

/** Events read from the log per query while folding: memory stays bounded whatever the customer's history. */
const CHUNK = 5_000;

export type ReplayedEvent = JourneyEvent & {
  /** What this event changed in the customer's state: tier, complaint stages, at-risk reasons. */
  changes: StateChange[];
};

/** The replayed customer as the API answers it: personal fields opened. */
export type CustomerStateView = Omit<CustomerAsOf, 'profile'> & { profile: OpenedProfile };

/** `GET /v1/customers/{id}/journey?asOf=…`: a page of the events known then, and the state they fold into. */
export type JourneyReplayPage = {
  customerId: string;
  /** The point asked for: a log position, or an instant (events recorded at or before it). */
  asOf: { position: string } | { time: string };
  events: ReplayedEvent[];
  nextCursor: string | null;
  /** The customer as of that point, from all the events known then (not only this page's). */
  state: CustomerStateView;
};

/**
 * Replays a customer's journey from the event log itself (never from a read model): reads their
 * events up to the cut through the log's customer index, folds them with the customer 360 rules
 * (`@cx/domain`), keeps the requested page with what each of its events changed, and opens the
 * personal data of the page and of the profile. The reads share one snapshot (`inCustomerSnapshot`).
 */
export class JourneyReplayer {
  constructor(
    private readonly pool: Pool,
    private readonly vault: Pick<PiiVault, 'unsealFields'>,
  ) {}

  /** Undefined when no event in the log names the customer. */
  async replay(customerId: string, query: JourneyQuery & { asOf: AsOf }): Promise<JourneyReplayPage | undefined> {
    const { asOf } = query;
    const cut = 'position' in asOf ? { upTo: asOf.position } : { recordedUpTo: new Date(asOf.time) };
    const replay = newReplay(customerId);
    const page: Array<{ event: RecordedEvent; changes: StateChange[] }> = [];
    let more = false;
    let reachedAt: Date | undefined;
    let known = true;

    await inCustomerSnapshot(this.pool, async (client) => {
      for (let after = 0n; ; ) {
        const chunk = await readCustomerTimeline(client, customerId, { ...cut, after, limit: CHUNK, metadata: 'ids' });
        for (const event of chunk) {
          const changes = replayEvent(replay, event);
          if (event.position <= query.after || !inWindow(event, query)) continue;
          if (page.length < query.limit) page.push({ event, changes });
          else more = true;
        }
        if (chunk.length < CHUNK) break;
        after = chunk[chunk.length - 1].position;
      }
      if (replay.events === 0) known = await customerInLog(client, customerId);
      if ('position' in asOf && known) reachedAt = await logReachedAt(client, asOf.position);
    });
    if (!known) return undefined;

    const state = customerAsOf(replay, instantOf(asOf, replay, reachedAt?.getTime()));
    const opened = await this.vault.unsealFields([
      { customerId, data: { name: state.profile.name, email: state.profile.email, phone: state.profile.phone }, fields: ['name', 'email', 'phone'] },
      ...page.map(({ event }) => ({
        customerId,
        data: event.data as Record<string, unknown>,
        fields: personalFields[event.type as DomainEventType] ?? [],
      })),
    ]);
    const [profile, ...events] = opened;
    return {
      customerId,
      asOf: 'position' in asOf ? { position: asOf.position.toString() } : { time: new Date(asOf.time).toISOString() },
      events: page.map(({ event, changes }, i) => ({
        position: event.position.toString(),
        type: publicType(event.type),
        storedType: event.type,
        time: businessTime(event),
        recordedAt: event.recordedAt.toISOString(),
        streamId: event.streamId,
        streamVersion: event.streamVersion,
        data: events[i].data,
        erased: events[i].erased,
        correlationId: event.metadata?.correlationId ?? null,
        changes,
      })),
      nextCursor: more ? encodeCursor(page[page.length - 1].event.position) : null,
      state: {
        ...state,
        profile: {
          ...state.profile,
          name: (profile.data.name as string | null) ?? null,
          email: (profile.data.email as string | null) ?? null,
          phone: (profile.data.phone as string | null) ?? null,
          erased: profile.erased,
        },
      },
    };
  }
}

/** `from` (inclusive) and `to` (exclusive) filter the listed events on business time; the state always folds them all. */
function inWindow(event: RecordedEvent, query: Pick<JourneyQuery, 'from' | 'to'>): boolean {
  if (!query.from && !query.to) return true;
  const time = Date.parse(businessTime(event));
  return (!query.from || time >= query.from.getTime()) && (!query.to || time < query.to.getTime());
}
