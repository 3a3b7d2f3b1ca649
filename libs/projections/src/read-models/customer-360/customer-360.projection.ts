import type { RecordedEvent } from '@cx/event-store';
import { channelGroup, complaintEventTypes, isChannel, type Tier } from '@cx/domain';
import type { EntityManager } from 'typeorm';
import type { Projection } from '../../projection.js';
import { type KeptState, KeptStates } from '../../kept-states.js';
import { Customer360Row, CustomerChannelRow, CustomerComplaintRow, customer360Entities, type StoredAnswer } from './customer-360.entities.js';
import {
  type Answer,
  applyEvent,
  type ChannelStats,
  type ComplaintStage,
  type Customer360State,
  formatUnits,
  type FoldChanges,
  latestAnswer,
  measures,
  newChanges,
  newCustomer,
  nextSlaDueAt,
  type OpenComplaint,
  parseUnits,
  preferredChannel,
  signalReasons,
  trendOf,
} from './customer-360.fold.js';
import { discardedChanges, flatMapped, insertRows, mapped, rowsInsert, rowWriter, type RowTable, sideBySide } from '../../rebuild-rows.js';
import { IsoTimes } from '../../iso-times.js';
import { customer360Migrations } from './customer-360.migrations.js';

export const CUSTOMER_360 = 'customer360';

/** Each table's columns: SQL name, SQL type, and the entity property that carries it. */
type ColumnSpec<T> = readonly (readonly [column: string, type: string, property: keyof T & string])[];

const customerColumns: ColumnSpec<Customer360Row> = [
  ['customer_id', 'text', 'customerId'],
  ['name', 'text', 'name'],
  ['email', 'text', 'email'],
  ['phone', 'text', 'phone'],
  ['declared_channel', 'text', 'declaredChannel'],
  ['locale', 'text', 'locale'],
  ['registered_at', 'timestamptz', 'registeredAt'],
  ['profile_updated_at', 'timestamptz', 'profileUpdatedAt'],
  ['tier', 'text', 'tier'],
  ['tier_changed_at', 'timestamptz', 'tierChangedAt'],
  ['preferred_channel', 'text', 'preferredChannel'],
  ['last_contact_at', 'timestamptz', 'lastContactAt'],
  ['moments', 'integer', 'moments'],
  ['moments_personal', 'integer', 'momentsPersonal'],
  ['moments_telephone', 'integer', 'momentsTelephone'],
  ['moments_print', 'integer', 'momentsPrint'],
  ['moments_electronic', 'integer', 'momentsElectronic'],
  ['nps_answers', 'integer', 'npsAnswers'],
  ['nps_latest', 'smallint', 'npsLatest'],
  ['nps_latest_at', 'timestamptz', 'npsLatestAt'],
  ['nps_trend', 'numeric', 'npsTrend'],
  ['nps_recent', 'jsonb', 'npsRecent'],
  ['csat_answers', 'integer', 'csatAnswers'],
  ['csat_latest', 'smallint', 'csatLatest'],
  ['csat_latest_at', 'timestamptz', 'csatLatestAt'],
  ['csat_trend', 'numeric', 'csatTrend'],
  ['csat_recent', 'jsonb', 'csatRecent'],
  ['ces_answers', 'integer', 'cesAnswers'],
  ['ces_latest', 'smallint', 'cesLatest'],
  ['ces_latest_at', 'timestamptz', 'cesLatestAt'],
  ['ces_trend', 'numeric', 'cesTrend'],
  ['ces_recent', 'jsonb', 'cesRecent'],
  ['last_phone_moment_id', 'text', 'lastPhoneMomentId'],
  ['last_phone_outcome', 'text', 'lastPhoneOutcome'],
  ['last_phone_at', 'timestamptz', 'lastPhoneAt'],
  ['last_phone_position', 'bigint', 'lastPhonePosition'],
  ['payments', 'integer', 'payments'],
  ['value_amount', 'numeric', 'valueAmount'],
  ['value_currency', 'text', 'valueCurrency'],
  ['value_by_currency', 'jsonb', 'valueByCurrency'],
  ['complaints_filed', 'integer', 'complaintsFiled'],
  ['open_complaints', 'integer', 'openComplaints'],
  ['next_sla_due_at', 'timestamptz', 'nextSlaDueAt'],
  ['at_risk', 'boolean', 'atRisk'],
  ['risk_reasons', 'text[]', 'riskReasons'],
  ['last_position', 'bigint', 'lastPosition'],
];

const channelColumns: ColumnSpec<CustomerChannelRow> = [
  ['customer_id', 'text', 'customerId'],
  ['channel', 'text', 'channel'],
  ['channel_group', 'text', 'channelGroup'],
  ['moments', 'integer', 'moments'],
  ['complaints', 'integer', 'complaints'],
  ['last_at', 'timestamptz', 'lastAt'],
  ['last_position', 'bigint', 'lastPosition'],
];

const complaintColumns: ColumnSpec<CustomerComplaintRow> = [
  ['complaint_id', 'text', 'complaintId'],
  ['customer_id', 'text', 'customerId'],
  ['stage', 'text', 'stage'],
  ['severity', 'text', 'severity'],
  ['category', 'text', 'category'],
  ['channel', 'text', 'channel'],
  ['area', 'text', 'area'],
  ['filed_at', 'timestamptz', 'filedAt'],
  ['due_at', 'timestamptz', 'dueAt'],
  ['stage_at', 'timestamptz', 'stageAt'],
  ['reopened', 'integer', 'reopened'],
  ['last_position', 'bigint', 'lastPosition'],
];

/** `SELECT` list that names each column after its entity property, so raw rows have the entity's shape. */
const selectList = <T>(columns: ColumnSpec<T>) => columns.map(([column, , property]) => `${column} AS "${property}"`).join(', ');

/** The rows of each table, written by apply (an upsert per table and batch) and by a rebuild's bulk fold. */
const customerRows: RowTable = { table: 'rm_customers', columns: customerColumns };
const channelRows: RowTable = { table: 'rm_customer_channels', columns: channelColumns };
const complaintRows: RowTable = { table: 'rm_customer_complaints', columns: complaintColumns };
const customerUpsert = rowsInsert(customerRows, { key: ['customer_id'] });
const channelUpsert = rowsInsert(channelRows, { key: ['customer_id', 'channel'] });
const complaintUpsert = rowsInsert(complaintRows, { key: ['complaint_id'] });

// A customer's row is written whole at each batch that names them: its times are mostly as they were.
const isoTimes = new IsoTimes();
const iso = (ms: number | null): string | null => isoTimes.of(ms);
const ms = (date: Date | string | null): number | null => (date === null ? null : new Date(date).getTime());

/** An answer is never changed once recorded: its stored form is made once, not at every batch that writes its customer again. */
const storedForms = new WeakMap<Answer, StoredAnswer>();
const toStoredAnswers = (answers: readonly Answer[]): StoredAnswer[] =>
  answers.map((a) => {
    let stored = storedForms.get(a);
    if (!stored) {
      stored = { score: a.score, at: new Date(a.at).toISOString(), position: a.position.toString() };
      storedForms.set(a, stored);
    }
    return stored;
  });
const fromStoredAnswers = (answers: readonly StoredAnswer[]): Answer[] =>
  answers.map((a) => ({ score: a.score, at: Date.parse(a.at), position: BigInt(a.position) }));

type Loaded = { states: Map<string, Customer360State>; storedComplaints: Set<string> };

/**
 * Customers' states as this process last wrote them (KeptStates), so that the next batches naming
 * them need not read their wide rows back. A trusted state (the live runner's chain of commits
 * unbroken) is used as it is. Any other is only a guess: `load` uses it while the stored row is
 * still the version this process wrote (its `xmin`, the writing transaction, and its
 * last_position), else reads the rows: rows another process wrote (the lease moved), a batch whose
 * transaction did not commit (whatever it folded, even events already in the row), tables a
 * rebuild switched (unless that rebuild's bulk fold kept the states it wrote: keepWritten). The
 * check costs a read of the rows' versions, which the server pays in full (an index lookup and a
 * heap fetch per customer: in bench:projections' catch-up about as much as the upsert).
 */
export type Customer360Cache = KeptStates<Customer360State>;

/** Customers' states kept between batches by default: some 4 KB each, so at most about 200 MB. */
export const CUSTOMER_360_CACHE_SIZE = 50_000;

/**
 * The states of the batch's customers as stored: from the cache, unchecked when the live chain
 * vouches for the entry (`live` and trusted), else when the stored row is still at the cached
 * state's version and last position (one narrow read of the positions); otherwise read from the
 * rows. Customers without a row are new.
 */
async function load(manager: EntityManager, customerIds: string[], cache: Customer360Cache, live: boolean): Promise<Loaded> {
  const states = new Map<string, Customer360State>();
  const storedComplaints = new Set<string>();
  const cached = new Map<string, KeptState<Customer360State>>();
  const toCheck: string[] = [];
  for (const id of customerIds) {
    const entry = cache.take(id, live);
    if (entry?.trusted) {
      states.set(id, entry.value);
      for (const complaintId of entry.value.complaints.keys()) storedComplaints.add(complaintId);
      continue;
    }
    if (entry) cached.set(id, entry);
    toCheck.push(id);
  }
  if (toCheck.length === 0) return { states, storedComplaints };
  const stored: Array<{ customerId: string; lastPosition: string; version: string }> = await manager.query(
    'SELECT customer_id AS "customerId", last_position::text AS "lastPosition", xmin::text AS version FROM rm_customers WHERE customer_id = ANY($1::text[])',
    [toCheck],
  );
  const toRead: string[] = [];
  for (const { customerId, lastPosition, version } of stored) {
    const entry = cached.get(customerId);
    if (entry && entry.version === version && entry.value.lastPosition.toString() === lastPosition) {
      const state = entry.value;
      cache.hits += 1;
      states.set(customerId, state);
      for (const complaintId of state.complaints.keys()) storedComplaints.add(complaintId);
    } else {
      cache.misses += 1;
      toRead.push(customerId);
    }
  }
  if (toRead.length === 0) return { states, storedComplaints };
  const rows = async <T>(table: string, columns: ColumnSpec<T>) =>
    (await manager.query(`SELECT ${selectList(columns)} FROM ${table} WHERE customer_id = ANY($1::text[])`, [toRead])) as T[];
  const customers = await rows('rm_customers', customerColumns);
  const channels = await rows('rm_customer_channels', channelColumns);
  const complaints = await rows('rm_customer_complaints', complaintColumns);
  for (const row of customers) states.set(row.customerId, stateFromRow(row));
  for (const row of channels) {
    const stats: ChannelStats = {
      customerId: row.customerId,
      channel: row.channel,
      moments: row.moments,
      complaints: row.complaints,
      lastAt: ms(row.lastAt)!,
      lastPosition: BigInt(row.lastPosition),
    };
    states.get(row.customerId)?.channels.set(row.channel, stats);
  }
  for (const row of complaints) {
    const complaint: OpenComplaint = {
      complaintId: row.complaintId,
      customerId: row.customerId,
      stage: row.stage as ComplaintStage,
      severity: row.severity,
      category: row.category,
      channel: row.channel,
      area: row.area,
      filedAt: ms(row.filedAt)!,
      dueAt: ms(row.dueAt),
      stageAt: ms(row.stageAt)!,
      reopened: row.reopened,
      lastPosition: BigInt(row.lastPosition),
    };
    states.get(row.customerId)?.complaints.set(row.complaintId, complaint);
  }
  for (const row of complaints) storedComplaints.add(row.complaintId);
  return { states, storedComplaints };
}

function stateFromRow(row: Customer360Row): Customer360State {
  const state = newCustomer(row.customerId);
  Object.assign(state, {
    name: row.name,
    email: row.email,
    phone: row.phone,
    declaredChannel: row.declaredChannel,
    locale: row.locale,
    registeredAt: ms(row.registeredAt),
    profileUpdatedAt: ms(row.profileUpdatedAt),
    tier: row.tier as Tier,
    tierChangedAt: ms(row.tierChangedAt),
    lastContactAt: ms(row.lastContactAt),
    moments: {
      total: row.moments,
      personal: row.momentsPersonal,
      telephone: row.momentsTelephone,
      print: row.momentsPrint,
      electronic: row.momentsElectronic,
    },
    satisfaction: {
      nps: { answers: row.npsAnswers, recent: fromStoredAnswers(row.npsRecent) },
      csat: { answers: row.csatAnswers, recent: fromStoredAnswers(row.csatRecent) },
      ces: { answers: row.cesAnswers, recent: fromStoredAnswers(row.cesRecent) },
    },
    lastPhone:
      row.lastPhoneMomentId === null
        ? null
        : { momentId: row.lastPhoneMomentId, outcome: row.lastPhoneOutcome ?? '', at: ms(row.lastPhoneAt)!, position: BigInt(row.lastPhonePosition ?? '0') },
    payments: row.payments,
    valueUnits: Object.fromEntries(Object.entries(row.valueByCurrency).map(([currency, amount]) => [currency, parseUnits(amount)])),
    complaintsFiled: row.complaintsFiled,
    lastPosition: BigInt(row.lastPosition),
  } satisfies Partial<Customer360State>);
  return state;
}

/** The stored row of a state, with everything that follows from it derived again. */
type JsonRow<T> = { [K in keyof T]: unknown };

function rowFromState(state: Customer360State): JsonRow<Customer360Row> {
  const currencies = Object.keys(state.valueUnits).sort();
  const single = currencies.length === 1 ? currencies[0] : null;
  const reasons = signalReasons(state);
  const measureColumns = (measure: (typeof measures)[number]) => {
    const history = state.satisfaction[measure];
    const latest = latestAnswer(history);
    const trend = trendOf(measure, history.recent);
    return {
      answers: history.answers,
      latest: latest?.score ?? null,
      latestAt: iso(latest?.at ?? null),
      trend: trend === null ? null : trend.change.toFixed(4),
      recent: toStoredAnswers(history.recent),
    };
  };
  const [nps, csat, ces] = measures.map(measureColumns);
  return {
    customerId: state.customerId,
    name: state.name,
    email: state.email,
    phone: state.phone,
    declaredChannel: state.declaredChannel,
    locale: state.locale,
    registeredAt: iso(state.registeredAt),
    profileUpdatedAt: iso(state.profileUpdatedAt),
    tier: state.tier,
    tierChangedAt: iso(state.tierChangedAt),
    preferredChannel: preferredChannel(state.channels.values()),
    lastContactAt: iso(state.lastContactAt),
    moments: state.moments.total,
    momentsPersonal: state.moments.personal,
    momentsTelephone: state.moments.telephone,
    momentsPrint: state.moments.print,
    momentsElectronic: state.moments.electronic,
    npsAnswers: nps.answers,
    npsLatest: nps.latest,
    npsLatestAt: nps.latestAt,
    npsTrend: nps.trend,
    npsRecent: nps.recent,
    csatAnswers: csat.answers,
    csatLatest: csat.latest,
    csatLatestAt: csat.latestAt,
    csatTrend: csat.trend,
    csatRecent: csat.recent,
    cesAnswers: ces.answers,
    cesLatest: ces.latest,
    cesLatestAt: ces.latestAt,
    cesTrend: ces.trend,
    cesRecent: ces.recent,
    lastPhoneMomentId: state.lastPhone?.momentId ?? null,
    lastPhoneOutcome: state.lastPhone?.outcome ?? null,
    lastPhoneAt: iso(state.lastPhone?.at ?? null),
    lastPhonePosition: state.lastPhone?.position.toString() ?? null,
    payments: state.payments,
    valueAmount: single === null ? null : formatUnits(state.valueUnits[single]),
    valueCurrency: single,
    valueByCurrency: Object.fromEntries(currencies.map((c) => [c, formatUnits(state.valueUnits[c])])),
    complaintsFiled: state.complaintsFiled,
    openComplaints: state.complaints.size,
    nextSlaDueAt: iso(nextSlaDueAt(state.complaints.values())),
    atRisk: reasons.length > 0,
    riskReasons: reasons,
    lastPosition: state.lastPosition.toString(),
  };
}

const channelRow = (c: ChannelStats): JsonRow<CustomerChannelRow> => ({
  customerId: c.customerId,
  channel: c.channel,
  channelGroup: isChannel(c.channel) ? channelGroup(c.channel) : null,
  moments: c.moments,
  complaints: c.complaints,
  lastAt: iso(c.lastAt),
  lastPosition: c.lastPosition.toString(),
});

const complaintRow = (c: OpenComplaint): JsonRow<CustomerComplaintRow> => ({
  complaintId: c.complaintId,
  customerId: c.customerId,
  stage: c.stage,
  severity: c.severity,
  category: c.category,
  channel: c.channel,
  area: c.area,
  filedAt: iso(c.filedAt),
  dueAt: iso(c.dueAt),
  stageAt: iso(c.stageAt),
  reopened: c.reopened,
  lastPosition: c.lastPosition.toString(),
});

/** Writes the batch's rows; returns the customer rows' new version (their xmin: this transaction). */
async function write(manager: EntityManager, states: Iterable<Customer360State>, changes: FoldChanges, storedComplaints: Set<string>): Promise<string> {
  // Every row gets the same xmin: one row of it back, not one per customer (a statement in WITH runs to completion whatever reads it).
  const written: Array<{ version: string }> = await manager.query(
    `WITH written AS (${customerUpsert.sql} RETURNING xmin) SELECT xmin::text AS version FROM written LIMIT 1`,
    customerUpsert.params([...states].map(rowFromState)),
  );
  if (changes.channels.size > 0) await manager.query(channelUpsert.sql, channelUpsert.params([...changes.channels.values()].map(channelRow)));
  const closed = [...changes.closedComplaints].filter((id) => storedComplaints.has(id));
  if (closed.length > 0) await manager.query('DELETE FROM rm_customer_complaints WHERE complaint_id = ANY($1::text[])', [closed]);
  if (changes.complaints.size > 0) await manager.query(complaintUpsert.sql, complaintUpsert.params([...changes.complaints.values()].map(complaintRow)));
  return written[0].version;
}

/** At most `capacity` of the states, those with the latest events (the likeliest to be named next), the latest last. */
function latestStates(states: Iterable<Customer360State>, capacity: number): Customer360State[] {
  if (capacity <= 0) return [];
  const all = [...states].sort((a, b) => (a.lastPosition < b.lastPosition ? -1 : a.lastPosition > b.lastPosition ? 1 : 0));
  return all.length > capacity ? all.slice(all.length - capacity) : all;
}

/**
 * Keeps states whose rows were just written by a rebuild's bulk fold, each under its row's
 * version: the rows were inserted in several transactions, so each row's own xmin, read back.
 * The tables have no keys yet at this point, hence a join rather than `= ANY`.
 */
async function keepWritten(manager: EntityManager, states: readonly Customer360State[], cache: Customer360Cache): Promise<void> {
  const written: Array<{ customerId: string; lastPosition: string; version: string }> = await manager.query(
    `SELECT c.customer_id AS "customerId", c.last_position::text AS "lastPosition", c.xmin::text AS version
       FROM rm_customers c JOIN unnest($1::text[]) AS k(customer_id) ON k.customer_id = c.customer_id`,
    [states.map((state) => state.customerId)],
  );
  const versions = new Map(written.map((row) => [row.customerId, row]));
  for (const state of states) {
    const row = versions.get(state.customerId);
    // A row that is not the one written from this state (none should be) is read back by load instead.
    if (row && row.lastPosition === state.lastPosition.toString()) cache.put(state.customerId, state, row.version, false);
  }
}

const customerOf = (event: RecordedEvent): string | undefined => {
  const id = (event.data as { customerId?: unknown } | null)?.customerId;
  return typeof id === 'string' ? id : undefined;
};

/** Folds the events into their customers' states (a customer's first event starts a new one); `touched` collects the states changed. */
function foldInto(states: Map<string, Customer360State>, events: readonly RecordedEvent[], changes: FoldChanges, touched?: Map<string, Customer360State>): void {
  for (const event of events) {
    const customerId = customerOf(event);
    if (customerId === undefined) continue;
    let state = states.get(customerId);
    if (!state) {
      state = newCustomer(customerId);
      states.set(customerId, state);
    }
    applyEvent(state, event, changes);
    touched?.set(customerId, state);
  }
}

/**
 * The 360-degree view of each customer. Per batch: the touched customers' states (kept from the
 * batches before when their rows did not change meanwhile, see Customer360Cache, else read from
 * their rows), the fold in memory in log order, and one upsert per table; a handful of statements
 * whatever the batch size.
 */
export function createCustomer360Projection(options: { cacheSize: number } = { cacheSize: CUSTOMER_360_CACHE_SIZE }): Projection & { cache: Customer360Cache } {
  const cache: Customer360Cache = new KeptStates(options.cacheSize);
  return {
    cache,
    name: CUSTOMER_360,
    version: 1,
    handles: [
      'customer.registered.v1',
      'customer.updated.v1',
      'customer.tier-changed.v1',
      'moment.recorded.v1',
      'feedback.submitted.v1',
      ...complaintEventTypes,
    ],
    tables: ['rm_customers', 'rm_customer_channels', 'rm_customer_complaints'],
    migrations: customer360Migrations,
    entities: customer360Entities,
    async apply(events, manager, context) {
      const customerIds = [...new Set(events.map(customerOf).filter((id): id is string => id !== undefined))];
      if (customerIds.length === 0) return;
      const live = cache.begin(manager.connection, context);
      const { states, storedComplaints } = await load(manager, customerIds, cache, live);
      const changes = newChanges();
      const touched = new Map<string, Customer360State>();
      foldInto(states, events, changes, touched);
      const version = await write(manager, touched.values(), changes, storedComplaints);
      // Before the commit: a transaction that does not commit leaves rows of another version behind
      // these states, and is not the runner's next previousCommit, so load checks them again.
      for (const state of touched.values()) cache.put(state.customerId, state, version, live);
      if (live) cache.wrote(version);
    },

    /**
     * A rebuild keeps every customer's state in memory from the first event to the last and writes
     * each customer, channel and open complaint once, at the end: the same fold and the same rows
     * as apply, without reading and rewriting a customer's row at every batch that names them.
     */
    bulk(format) {
      const states = new Map<string, Customer360State>();
      return {
        get held() {
          return states.size;
        },
        add(events) {
          // The changes matter to apply's writes only; the states hold everything the rows are made of.
          foldInto(states, events, discardedChanges());
          return undefined;
        },
        *finish() {
          // Each row written once, into three tables without keys: the chunks may go side by side.
          yield* sideBySide(insertRows(rowWriter(customerRows, format), mapped(states.values(), rowFromState)));
          yield* sideBySide(insertRows(rowWriter(channelRows, format), flatMapped(states.values(), (state) => mapped(state.channels.values(), channelRow))));
          yield* sideBySide(insertRows(rowWriter(complaintRows, format), flatMapped(states.values(), (state) => mapped(state.complaints.values(), complaintRow))));
          const kept = latestStates(states.values(), cache.capacity);
          states.clear();
          // Not side by side, so after every insert above: apply then finds the states of the rows
          // just written kept, as after batches of its own, instead of reading every customer's
          // wide rows back once after the switch.
          if (kept.length > 0) {
            yield async (manager) => {
              cache.belongTo(manager.connection);
              await keepWritten(manager, kept, cache);
            };
          }
        },
      };
    },
  };
}

export const customer360Projection = createCustomer360Projection();
