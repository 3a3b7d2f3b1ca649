import type { FoldChanges, Tier } from '@cx/domain';
import type { RecordedEvent } from '@cx/event-store';
import type { EntityManager } from 'typeorm';
import { KeptStates } from '../kept-states.js';
import type { Projection } from '../projection.js';
import {
  type ComplaintStage,
  newChanges,
  newCustomer,
  nextSlaDueAt,
  type OpenComplaint,
  signalReasons,
} from '../read-models/customer-360/customer-360.fold.js';
import { type EpisodeChange, foldRiskEvent, type RetentionCustomer, RISK_EVENT_TYPES } from './episode.policy.js';
import { alertEventId, episodeIdOf } from './retention.ids.js';
import { discardedChanges, flatMapped, insertRows, mapped, rowParams, rowStatements, rowsInsert, rowWriter, type RowTable } from '../rebuild-rows.js';
import { IsoTimes } from '../iso-times.js';
import { retentionEpisodesEntities } from './retention.entities.js';
import { retentionEpisodesMigrations } from './retention.migrations.js';

export const RETENTION_EPISODES = 'retentionEpisodes';

/** Stored rows as `load` reads them (JSON): times and positions as text. */
type CustomerRecord = {
  customerId: string;
  tier: string;
  clockAt: string | null;
  lastContactAt: string | null;
  npsLatest: number | null;
  npsLatestAt: string | null;
  npsLatestPosition: string | null;
  lastPhoneMomentId: string | null;
  lastPhoneOutcome: string | null;
  lastPhoneAt: string | null;
  lastPhonePosition: string | null;
  episodes: number;
  episodeOpen: boolean;
  lastPosition: string;
};

type ComplaintRecord = { complaintId: string; customerId: string; stage: string; severity: string; filedAt: string; dueAt: string | null; lastPosition: string };

/** An episode row in memory: times in ms, positions as bigint. */
type Episode = {
  customerId: string;
  episode: number;
  openedBy: 'event' | 'sla-check';
  tier: Tier;
  reasons: string[];
  raisedAt: number;
  triggerEventId: string;
  triggerPosition: bigint;
  triggerCorrelationId: string | null;
  alertPosition: bigint | null;
  endedAt: number | null;
  endPosition: bigint | null;
};

const ms = (date: Date | string | null): number | null => (date === null ? null : new Date(date).getTime());
// A customer's row is written whole at each batch that names them: its times are mostly as they were.
const isoTimes = new IsoTimes();
const iso = (time: number | null): string | null => isoTimes.of(time);
const big = (value: string | null): bigint | null => (value === null ? null : BigInt(value));
const key = (customerId: string, episode: number) => `${customerId}\u0000${episode}`;

const customerColumns = `customer_id AS "customerId", tier, clock_at AS "clockAt", last_contact_at AS "lastContactAt",
  nps_latest AS "npsLatest", nps_latest_at AS "npsLatestAt", nps_latest_position::text AS "npsLatestPosition",
  last_phone_moment_id AS "lastPhoneMomentId", last_phone_outcome AS "lastPhoneOutcome", last_phone_at AS "lastPhoneAt",
  last_phone_position::text AS "lastPhonePosition", episodes, episode_open AS "episodeOpen", last_position::text AS "lastPosition"`;

const episodeColumns = `e.customer_id AS "customerId", e.episode, e.opened_by AS "openedBy", e.tier, e.reasons, e.raised_at AS "raisedAt",
  e.trigger_event_id AS "triggerEventId", e.trigger_position::text AS "triggerPosition", e.trigger_correlation_id AS "triggerCorrelationId",
  e.alert_position::text AS "alertPosition", e.ended_at AS "endedAt", e.end_position::text AS "endPosition"`;

const CUSTOMER_ROWS: RowTable = {
  table: 'rm_retention_customers',
  columns: [
    ['customer_id', 'text'],
    ['tier', 'text'],
    ['clock_at', 'timestamptz'],
    ['last_contact_at', 'timestamptz'],
    ['nps_latest', 'smallint'],
    ['nps_latest_at', 'timestamptz'],
    ['nps_latest_position', 'bigint'],
    ['last_phone_moment_id', 'text'],
    ['last_phone_outcome', 'text'],
    ['last_phone_at', 'timestamptz'],
    ['last_phone_position', 'bigint'],
    ['signal_reasons', 'text[]'],
    ['next_sla_due_at', 'timestamptz'],
    ['episodes', 'integer'],
    ['episode_open', 'boolean'],
    ['last_position', 'bigint'],
  ],
};

const upsertCustomers = rowsInsert(CUSTOMER_ROWS, { key: ['customer_id'] });

const COMPLAINT_ROWS: RowTable = {
  table: 'rm_retention_complaints',
  columns: [
    ['complaint_id', 'text'],
    ['customer_id', 'text'],
    ['stage', 'text'],
    ['severity', 'text'],
    ['filed_at', 'timestamptz'],
    ['due_at', 'timestamptz'],
    ['last_position', 'bigint'],
  ],
};

const upsertComplaints = rowsInsert(COMPLAINT_ROWS, { key: ['complaint_id'] });

const EPISODE_ROWS: RowTable = {
  table: 'rm_retention_episodes',
  columns: [
    ['customer_id', 'text'],
    ['episode', 'integer'],
    ['episode_id', 'uuid'],
    ['alert_event_id', 'uuid'],
    ['opened_by', 'text'],
    ['tier', 'text'],
    ['reasons', 'text[]'],
    ['raised_at', 'timestamptz'],
    ['trigger_event_id', 'uuid'],
    ['trigger_position', 'bigint'],
    ['trigger_correlation_id', 'text'],
    ['alert_position', 'bigint'],
    ['ended_at', 'timestamptz'],
    ['end_position', 'bigint'],
  ],
};

const upsertEpisodes = rowsInsert(EPISODE_ROWS, { key: ['customer_id', 'episode'], update: ['alert_position', 'ended_at', 'end_position'] });

/** Marks on episodes of earlier batches that are not the customer's current one (a late alert, say). */
const MARK_ROWS: RowTable = {
  table: 'rm_retention_episodes',
  columns: [
    ['customer_id', 'text'],
    ['episode', 'integer'],
    ['alert_position', 'bigint'],
    ['ended_at', 'timestamptz'],
    ['end_position', 'bigint'],
  ],
};
const markRows = rowParams(MARK_ROWS);
const markEpisodes = {
  sql: `
  UPDATE rm_retention_episodes e
     SET alert_position = coalesce(e.alert_position, x.alert_position),
         ended_at = coalesce(e.ended_at, x.ended_at),
         end_position = coalesce(e.end_position, x.end_position)
    FROM ${markRows.from}
   WHERE e.customer_id = x.customer_id AND e.episode = x.episode`,
  params: markRows.params,
};

function customerFrom(row: CustomerRecord, complaints: readonly ComplaintRecord[]): RetentionCustomer {
  const risk = newCustomer(row.customerId);
  risk.tier = row.tier as Tier;
  risk.lastContactAt = ms(row.lastContactAt);
  risk.lastPosition = BigInt(row.lastPosition);
  if (row.npsLatest !== null && row.npsLatestAt !== null) {
    // Only the latest answer decides the detractor rule; a later one replaces it by answer time.
    risk.satisfaction.nps = { answers: 1, recent: [{ score: row.npsLatest, at: ms(row.npsLatestAt)!, position: BigInt(row.npsLatestPosition ?? '0') }] };
  }
  if (row.lastPhoneMomentId !== null && row.lastPhoneAt !== null) {
    risk.lastPhone = { momentId: row.lastPhoneMomentId, outcome: row.lastPhoneOutcome ?? '', at: ms(row.lastPhoneAt)!, position: BigInt(row.lastPhonePosition ?? '0') };
  }
  for (const c of complaints) {
    const filedAt = ms(c.filedAt)!;
    const complaint: OpenComplaint = {
      complaintId: c.complaintId,
      customerId: c.customerId,
      stage: c.stage as ComplaintStage,
      severity: c.severity,
      // Not kept here: the risk rules read only stage, severity and due time.
      category: '',
      channel: '',
      area: null,
      filedAt,
      dueAt: ms(c.dueAt),
      stageAt: filedAt,
      reopened: 0,
      lastPosition: BigInt(c.lastPosition),
    };
    risk.complaints.set(c.complaintId, complaint);
  }
  return { customerId: row.customerId, risk, clockAt: ms(row.clockAt), episodes: row.episodes, open: row.episodeOpen };
}

function customerRow(customer: RetentionCustomer) {
  const { risk } = customer;
  const nps = risk.satisfaction.nps.recent.at(-1) ?? null;
  return {
    customer_id: customer.customerId,
    tier: risk.tier,
    clock_at: iso(customer.clockAt),
    last_contact_at: iso(risk.lastContactAt),
    nps_latest: nps?.score ?? null,
    nps_latest_at: iso(nps?.at ?? null),
    nps_latest_position: nps?.position.toString() ?? null,
    last_phone_moment_id: risk.lastPhone?.momentId ?? null,
    last_phone_outcome: risk.lastPhone?.outcome ?? null,
    last_phone_at: iso(risk.lastPhone?.at ?? null),
    last_phone_position: risk.lastPhone?.position.toString() ?? null,
    signal_reasons: signalReasons(risk),
    next_sla_due_at: iso(nextSlaDueAt(risk.complaints.values())),
    episodes: customer.episodes,
    episode_open: customer.open,
    last_position: risk.lastPosition.toString(),
  };
}

const complaintRow = (c: OpenComplaint) => ({
  complaint_id: c.complaintId,
  customer_id: c.customerId,
  stage: c.stage,
  severity: c.severity,
  filed_at: iso(c.filedAt),
  due_at: iso(c.dueAt),
  last_position: c.lastPosition.toString(),
});

const episodeRow = (e: Episode) => ({
  customer_id: e.customerId,
  episode: e.episode,
  episode_id: episodeIdOf(e.customerId, e.episode),
  alert_event_id: alertEventId(e.customerId, e.episode),
  opened_by: e.openedBy,
  tier: e.tier,
  reasons: e.reasons,
  raised_at: iso(e.raisedAt),
  trigger_event_id: e.triggerEventId,
  trigger_position: e.triggerPosition.toString(),
  trigger_correlation_id: e.triggerCorrelationId,
  alert_position: e.alertPosition?.toString() ?? null,
  ended_at: iso(e.endedAt),
  end_position: e.endPosition?.toString() ?? null,
});

type Marks = { customer_id: string; episode: number; alert_position: string | null; ended_at: string | null; end_position: string | null };

/** Applies what the fold said to the episode rows in memory; what concerns rows not loaded becomes a mark. */
function record(change: EpisodeChange, episodes: Map<string, Episode>, dirty: Set<string>, marks: Marks[]): void {
  const k = key(change.customerId, change.episode);
  if (change.kind === 'opened') {
    episodes.set(k, {
      customerId: change.customerId,
      episode: change.episode,
      openedBy: change.openedBy,
      tier: change.tier,
      reasons: change.reasons,
      raisedAt: change.raisedAt,
      triggerEventId: change.trigger.eventId,
      triggerPosition: change.trigger.position,
      triggerCorrelationId: change.trigger.correlationId,
      alertPosition: change.alertPosition,
      endedAt: null,
      endPosition: null,
    });
    dirty.add(k);
    return;
  }
  const episode = episodes.get(k);
  if (change.kind === 'ended') {
    if (episode) [episode.endedAt, episode.endPosition] = [change.endedAt, change.position];
    else marks.push({ customer_id: change.customerId, episode: change.episode, alert_position: null, ended_at: iso(change.endedAt), end_position: change.position.toString() });
  } else if (episode) {
    episode.alertPosition ??= change.position;
  } else {
    marks.push({ customer_id: change.customerId, episode: change.episode, alert_position: change.position.toString(), ended_at: null, end_position: null });
  }
  if (episode) dirty.add(k);
}

/**
 * The stored state of the batch's customers, in one statement (one round trip instead of three):
 * each table's rows as a JSON array, times as ISO text (which `ms` reads as it reads Dates) and
 * positions as text (exact, for `BigInt`).
 */
async function load(manager: EntityManager, customerIds: string[], kept: RetentionKept, live: boolean) {
  const states = new Map<string, RetentionCustomer>();
  const episodes = new Map<string, Episode>();
  const toRead: string[] = [];
  for (const id of customerIds) {
    const entry = kept.take(id, live);
    if (entry?.trusted) {
      states.set(id, entry.value.customer);
      if (entry.value.episode) episodes.set(key(id, entry.value.episode.episode), entry.value.episode);
    } else {
      // Untrusted (see KeptStates) or not kept: read from the rows.
      toRead.push(id);
    }
  }
  if (toRead.length === 0) return { states, episodes };
  kept.misses += toRead.length;
  const [loaded] = (await manager.query(
    `SELECT (SELECT json_agg(c) FROM (SELECT ${customerColumns} FROM rm_retention_customers WHERE customer_id = ANY($1::text[])) c) AS customers,
            (SELECT json_agg(k) FROM (
               SELECT complaint_id AS "complaintId", customer_id AS "customerId", stage, severity, filed_at AS "filedAt", due_at AS "dueAt",
                      last_position::text AS "lastPosition"
                 FROM rm_retention_complaints WHERE customer_id = ANY($1::text[])) k) AS complaints,
            (SELECT json_agg(x) FROM (
               SELECT ${episodeColumns} FROM rm_retention_episodes e
                 JOIN rm_retention_customers c ON c.customer_id = e.customer_id AND c.episodes = e.episode
                WHERE c.customer_id = ANY($1::text[])) x) AS episodes`,
    [toRead],
  )) as Array<{ customers: CustomerRecord[] | null; complaints: ComplaintRecord[] | null; episodes: unknown[] | null }>;
  const customers = loaded.customers ?? [];
  const complaints = loaded.complaints ?? [];
  const current = (loaded.episodes ?? []) as Array<Omit<Episode, 'raisedAt' | 'triggerPosition' | 'alertPosition' | 'endedAt' | 'endPosition'> & {
    raisedAt: string;
    triggerPosition: string;
    alertPosition: string | null;
    endedAt: string | null;
    endPosition: string | null;
  }>;
  const byCustomer = new Map<string, ComplaintRecord[]>();
  for (const c of complaints) byCustomer.set(c.customerId, [...(byCustomer.get(c.customerId) ?? []), c]);
  for (const row of customers) states.set(row.customerId, customerFrom(row, byCustomer.get(row.customerId) ?? []));
  for (const e of current) {
    episodes.set(key(e.customerId, e.episode), {
      ...e,
      raisedAt: ms(e.raisedAt)!,
      triggerPosition: BigInt(e.triggerPosition),
      alertPosition: big(e.alertPosition),
      endedAt: ms(e.endedAt),
      endPosition: big(e.endPosition),
    });
  }
  return { states, episodes };
}

const customerOf = (event: RecordedEvent): string | undefined => {
  const id = (event.data as { customerId?: unknown } | null)?.customerId;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Folds the events into their customers' states (a customer's first event starts a new one) and
 * what the fold says into the episodes (`record`); `touched` collects the customers folded.
 */
function foldInto(
  states: Map<string, RetentionCustomer>,
  episodes: Map<string, Episode>,
  events: readonly RecordedEvent[],
  into: { changes: FoldChanges; dirty: Set<string>; marks: Marks[] },
  touched?: Map<string, RetentionCustomer>,
): void {
  for (const event of events) {
    const customerId = customerOf(event);
    if (customerId === undefined) continue;
    let customer = states.get(customerId);
    if (!customer) {
      customer = { customerId, risk: newCustomer(customerId), clockAt: null, episodes: 0, open: false };
      states.set(customerId, customer);
    }
    for (const change of foldRiskEvent(customer, event, into.changes)) record(change, episodes, into.dirty, into.marks);
    touched?.set(customerId, customer);
  }
}

/** A customer's state and its current episode (the only one a batch loads), as the live fold keeps them between batches. */
type Kept = { customer: RetentionCustomer; episode: Episode | undefined };
type RetentionKept = KeptStates<Kept>;

/** Customers' states kept between batches by default (a few hundred bytes each). */
export const RETENTION_KEPT_STATES = 50_000;

/**
 * The retention saga's memory: per customer, the inputs of customer 360's at-risk rules and its
 * risk episodes; per episode, one row that is also the outbox of its alert (sent by the
 * AlertDispatcher, which appends, never this fold). A deterministic fold of the log, so a rebuild
 * gives the same episodes with the same numbers, and so the same alert ids: nothing is raised twice.
 *
 * Per batch: the customers' states (kept from the live batches before when the runner's chain of
 * commits vouches for them, see KeptStates, else read from their rows), the fold in memory in log
 * order, and one statement per table.
 */
export function createRetentionEpisodesProjection(options: { keptStates: number } = { keptStates: RETENTION_KEPT_STATES }): Projection & { kept: RetentionKept } {
  const kept: RetentionKept = new KeptStates(options.keptStates);
  return {
    kept,
    name: RETENTION_EPISODES,
    version: 1,
    handles: RISK_EVENT_TYPES,
    tables: ['rm_retention_customers', 'rm_retention_complaints', 'rm_retention_episodes'],
    migrations: retentionEpisodesMigrations,
    entities: retentionEpisodesEntities,
    async apply(events, manager, context) {
      const customerIds = [...new Set(events.map(customerOf).filter((id): id is string => id !== undefined))];
      if (customerIds.length === 0) return;
      const live = kept.begin(manager.connection, context);
      const { states, episodes } = await load(manager, customerIds, kept, live);
      const changes = newChanges();
      const touched = new Map<string, RetentionCustomer>();
      const dirty = new Set<string>();
      const marks: Marks[] = [];
      foldInto(states, episodes, events, { changes, dirty, marks }, touched);

      // Every row gets the same xmin (this transaction): one back is enough.
      const [written] = (await manager.query(
        `WITH written AS (${upsertCustomers.sql} RETURNING xmin) SELECT xmin::text AS version FROM written LIMIT 1`,
        upsertCustomers.params([...touched.values()].map(customerRow)),
      )) as Array<{ version: string }>;
      if (changes.closedComplaints.size > 0) {
        await manager.query('DELETE FROM rm_retention_complaints WHERE complaint_id = ANY($1::text[])', [[...changes.closedComplaints]]);
      }
      if (changes.complaints.size > 0) await manager.query(upsertComplaints.sql, upsertComplaints.params([...changes.complaints.values()].map(complaintRow)));
      if (dirty.size > 0) await manager.query(upsertEpisodes.sql, upsertEpisodes.params([...dirty].map((k) => episodeRow(episodes.get(k)!))));
      if (marks.length > 0) await manager.query(markEpisodes.sql, markEpisodes.params(marks));
      // Before the commit: a batch that does not commit is not the runner's next previous commit, so what it put is not trusted.
      for (const customer of touched.values()) {
        kept.put(customer.customerId, { customer, episode: episodes.get(key(customer.customerId, customer.episodes)) }, written.version, live);
      }
      if (live) kept.wrote(written.version);
    },

    /**
     * A rebuild keeps every customer and every episode in memory from the first event to the last
     * (so what apply records as marks on stored episodes lands on the episodes themselves) and
     * writes each row once, at the end.
     */
    bulk(format) {
      const states = new Map<string, RetentionCustomer>();
      const episodes = new Map<string, Episode>();
      const marks: Marks[] = [];
      return {
        get held() {
          return states.size + episodes.size;
        },
        add(events) {
          const changes = discardedChanges();
          const dirty = new Set<string>();
          foldInto(states, episodes, events, { changes, dirty, marks });
          return undefined;
        },
        *finish() {
          yield* insertRows(rowWriter(CUSTOMER_ROWS, format), mapped(states.values(), customerRow));
          yield* insertRows(rowWriter(COMPLAINT_ROWS, format), flatMapped(states.values(), (customer) => mapped(customer.risk.complaints.values(), complaintRow)));
          yield* insertRows(rowWriter(EPISODE_ROWS, format), mapped(episodes.values(), episodeRow));
          // Marks name episodes no event opened (an alert for an episode the log never saw begin): as in apply, they change nothing there is not.
          yield* rowStatements(markEpisodes, marks.splice(0));
          states.clear();
          episodes.clear();
        },
      };
    },
  };
}

export const retentionEpisodesProjection = createRetentionEpisodesProjection();
