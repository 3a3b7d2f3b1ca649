import {
  type ComplaintCommand,
  complaintDecider,
  type ComplaintState,
  type CustomerCommand,
  customerDecider,
  type CustomerState,
  type DomainEvent,
  DomainValidationError,
  IllegalTransition,
  type IngestEventType,
  ingestEventTypes,
  type MomentCatalogue,
  recordMoment,
  streamIdFor,
  submitFeedback,
} from '@cx/domain';
import type { Metrics } from '@cx/http';
import { CustomerErasedError, type WriteActivity } from '@cx/platform';
import {
  type AppendedEvent,
  type EventStore,
  type EventToAppend,
  type ExpectedVersion,
  type RecordedEvent,
  type StreamAppend,
  storedEventId,
} from '@cx/event-store';
import { type FieldError, piiFields, type ValidCloudEvent, validateCloudEvent } from './cloud-event.dto.js';

/** Seals personal data with each customer's key (the platform's PII vault). */
export type PiiSealer = {
  sealFields(
    items: ReadonlyArray<{ customerId: string; data: Record<string, unknown>; fields: readonly string[] }>,
  ): Promise<Array<Record<string, unknown>>>;
};

export type IngestContext = {
  correlationId: string;
  /** All or nothing: one rejected event and none is stored. */
  atomic?: boolean;
  receivedAt?: Date;
  /** Id of the API key that sent the events, for the audit trail (never the key). */
  principal?: string;
};

/** The current state a rejected transition ran into. */
export type ConflictState = { stream: string; status: string };

export type ItemResult =
  | { id: string; status: 'accepted' | 'duplicate'; position: string }
  | { id?: string; status: 'rejected'; errors: FieldError[]; current?: ConflictState }
  | { id: string; status: 'aborted' };

export type IngestOutcome = {
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Highest log position among the batch's stored events (new or already there), '0' if none. */
  position: string;
  results: ItemResult[];
};

type Item = {
  index: number;
  event: ValidCloudEvent;
  streamId: string;
  /** The stored id of the first event it produces (UUID v5 of source and id), computed once. */
  storedId: string;
  stateful: boolean;
  /** The event's data with personal fields sealed. */
  data: Record<string, unknown>;
};

type Decided = { item: Item; events: EventToAppend[]; streamPosition?: bigint } | { item: Item; duplicateOf: RecordedEvent };

/** Maps a domain field to the CloudEvent field it came from. */
function apiField(field: string): string {
  if (field === 'customerId') return 'subject';
  if (field === 'momentId') return 'id';
  if (field === 'data') return 'data';
  if (/At$/.test(field)) return 'time';
  return `data.${field}`;
}

/**
 * The write path for CloudEvents from channel systems: validate, seal personal data, route each
 * event to its stream (`customer-<subject>` or `complaint-<complaintId>`), decide against the
 * stream's state where a rule needs it, and append the whole batch in one transaction. Moments,
 * answers and profile-free events need no state, so they never read their stream.
 */
export class IngestService {
  constructor(
    private readonly store: EventStore,
    private readonly vault: PiiSealer,
    private readonly catalogue: MomentCatalogue,
    private readonly metrics?: Pick<Metrics, 'ingestedBatch'>,
    /** Told of every call, so background work in the process (live projections) can step aside. */
    private readonly activity?: Pick<WriteActivity, 'begin'>,
  ) {}

  async ingest(raws: readonly unknown[], context: IngestContext): Promise<IngestOutcome> {
    const end = this.activity?.begin();
    let outcome: IngestOutcome | undefined;
    try {
      outcome = await this.ingestBatch(raws, context);
    } finally {
      end?.(outcome ? BigInt(outcome.position) : undefined);
    }
    this.metrics?.ingestedBatch(raws, outcome.results);
    return outcome;
  }

  private async ingestBatch(raws: readonly unknown[], context: IngestContext): Promise<IngestOutcome> {
    const receivedAt = (context.receivedAt ?? new Date()).toISOString();
    const results: ItemResult[] = new Array(raws.length);
    const valid: ValidCloudEvent[] = [];
    const validIndex: number[] = [];
    raws.forEach((raw, index) => {
      const checked = validateCloudEvent(raw);
      if ('errors' in checked) {
        const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : undefined;
        results[index] = { ...(id === undefined ? {} : { id }), status: 'rejected', errors: checked.errors };
      } else {
        valid.push(checked.event);
        validIndex.push(index);
      }
    });

    // The same CloudEvent twice in one batch: the later one is a duplicate of the first.
    const firstOf = new Map<string, number>();
    const items: Item[] = [];
    const sealed = await this.seal(valid, validIndex, results);
    valid.forEach((event, i) => {
      const key = `${event.source}\n${event.id}`;
      const index = validIndex[i];
      if (firstOf.has(key)) return;
      firstOf.set(key, index);
      if (results[index]) return; // rejected while sealing
      const route = ingestEventTypes[event.type];
      try {
        const storedId = storedEventId(event.source, event.id);
        const streamId = streamIdFor(route.stream, {
          customerId: event.subject,
          complaintId: event.data.complaintId as string | undefined,
          eventId: storedId,
        });
        const stateful = route.stream === 'complaint' || route.stream === 'customer';
        items.push({ index, event, streamId, storedId, stateful, data: sealed[i] });
      } catch (error) {
        results[index] = this.rejection(event, error);
      }
    });

    if (items.length === 0) return this.outcome(valid, validIndex, firstOf, results, context.atomic === true);
    const rejectedEarly = results.some((r) => r?.status === 'rejected');

    // Decide under the aggregates' writer locks: no other writer moves them between the read and the
    // append. Moments and answers go to streams of their own, created here: nothing to lock.
    let decided: Decided[] = [];
    let rejections = new Map<number, ItemResult>();
    const aggregates = [...new Set(items.filter((item) => item.stateful).map((item) => item.streamId))];
    const stored = await this.store.decideAndAppend(
      { lock: aggregates, read: aggregates },
      (histories) => {
        ({ decided, rejections } = this.decide(items, histories, receivedAt, context));
        if (context.atomic && (rejectedEarly || rejections.size > 0)) return [];
        return this.appendsOf(decided, histories);
      },
    );
    for (const [index, result] of rejections) results[index] = result;
    if (context.atomic && results.some((r) => r?.status === 'rejected')) return this.outcome(valid, validIndex, firstOf, results, true);

    const positions = new Map<string, AppendedEvent>();
    for (const result of stored) for (const e of result.events) positions.set(e.id, e);
    for (const entry of decided) {
      if ('duplicateOf' in entry) {
        results[entry.item.index] = { id: entry.item.event.id, status: 'duplicate', position: entry.duplicateOf.position.toString() };
        continue;
      }
      if (entry.events.length === 0) {
        // Nothing to record (an update that changes nothing): accepted, and readers are already there.
        results[entry.item.index] = { id: entry.item.event.id, status: 'accepted', position: (entry.streamPosition ?? 0n).toString() };
        continue;
      }
      const outcomes = entry.events.map((e) => positions.get(e.id)!);
      const position = outcomes.reduce((max, o) => (o.position > max ? o.position : max), 0n);
      results[entry.item.index] = { id: entry.item.event.id, status: outcomes[0].status === 'appended' ? 'accepted' : 'duplicate', position: position.toString() };
    }
    return this.outcome(valid, validIndex, firstOf, results, false);
  }

  /**
   * Seals the personal fields of every valid event. An event carrying personal data of a customer
   * whose data was erased is rejected (it may not be stored again); events without any still are.
   */
  private async seal(valid: readonly ValidCloudEvent[], validIndex: readonly number[], results: ItemResult[]): Promise<Array<Record<string, unknown>>> {
    // Only events of a type with personal fields go to the vault; the others keep their data as it is.
    const sealedData = valid.map((event) => event.data);
    const withPii: number[] = [];
    const records: Array<{ customerId: string; data: Record<string, unknown>; fields: readonly string[] }> = [];
    valid.forEach((event, i) => {
      const fields = piiFields[event.type];
      if (fields === undefined || fields.length === 0) return;
      withPii.push(i);
      records.push({ customerId: event.subject, data: event.data, fields });
    });
    if (records.length === 0) return sealedData;
    const fill = (sealed: ReadonlyArray<Record<string, unknown>>) => {
      withPii.forEach((i, n) => (sealedData[i] = sealed[n]));
      return sealedData;
    };
    try {
      return fill(await this.vault.sealFields(records));
    } catch (error) {
      if (!(error instanceof CustomerErasedError)) throw error;
      const erased = new Set(error.customerIds);
      const carriesPii = (event: ValidCloudEvent) => (piiFields[event.type] ?? []).some((field) => event.data[field] != null);
      valid.forEach((event, i) => {
        if (erased.has(event.subject) && carriesPii(event)) {
          results[validIndex[i]] = { id: event.id, status: 'rejected', errors: [{ field: 'subject', message: "this customer's personal data was erased and cannot be stored again" }] };
        }
      });
      const kept = records.map((record) => (erased.has(record.customerId) ? { ...record, fields: [] } : record));
      return fill(await this.vault.sealFields(kept));
    }
  }

  /** Decides every item, stream by stream, in input order, against the streams' histories. */
  private decide(
    items: readonly Item[],
    histories: ReadonlyMap<string, RecordedEvent[]>,
    receivedAt: string,
    context: IngestContext,
  ): { decided: Decided[]; rejections: Map<number, ItemResult> } {
    const byStream = new Map<string, Item[]>();
    for (const item of items) {
      const list = byStream.get(item.streamId);
      if (list) list.push(item);
      else byStream.set(item.streamId, [item]);
    }

    const decided: Decided[] = [];
    const rejections = new Map<number, ItemResult>();
    for (const [streamId, streamItems] of byStream) {
      const past = histories.get(streamId);
      // A fact's stream is new and was not read: no history, nothing known, initial states.
      const known = past !== undefined && past.length > 0 ? new Set(past.map((e) => e.id)) : undefined;
      let customer: CustomerState = known ? past!.reduce(evolveCustomer, customerDecider.initialState) : customerDecider.initialState;
      let complaint: ComplaintState = known ? past!.reduce(evolveComplaint, complaintDecider.initialState) : complaintDecider.initialState;

      for (const item of streamItems) {
        const firstId = item.storedId;
        if (known?.has(firstId)) {
          // Report the highest position of everything this CloudEvent produced, as the first answer did.
          const produced = (past ?? []).filter((e) => e.id === firstId || e.metadata.causationId === firstId);
          decided.push({ item, duplicateOf: produced.reduce((a, b) => (b.position > a.position ? b : a)) });
          continue;
        }
        try {
          const domainEvents = this.decideOne(item, customer, complaint, receivedAt);
          const events = domainEvents.map((event, n) => this.toAppend(item, event, n, context, receivedAt));
          for (const event of domainEvents) {
            if (isComplaintEvent(event)) complaint = complaintDecider.evolve(complaint, event);
            else customer = customerDecider.evolve(customer, event);
          }
          decided.push({ item, events, streamPosition: past?.at(-1)?.position });
        } catch (error) {
          rejections.set(item.index, this.rejection(item.event, error, streamId));
        }
      }
    }
    return { decided, rejections };
  }

  private decideOne(item: Item, customer: CustomerState, complaint: ComplaintState, receivedAt: string): DomainEvent[] {
    const { event, data } = item;
    const customerId = event.subject;
    const at = event.time ?? receivedAt;
    switch (event.type) {
      case 'cx.customer.registered':
        return customerDecider.decide({ type: 'RegisterCustomer', data: withFields(data, 'customerId', customerId, 'registeredAt', at) } as CustomerCommand, customer);
      case 'cx.customer.updated':
        return customerDecider.decide({ type: 'UpdateCustomer', data: withFields(data, 'customerId', customerId, 'updatedAt', at) } as CustomerCommand, customer);
      case 'cx.moment.recorded':
        return recordMoment({ type: 'RecordMoment', data: withFields(data, 'momentId', event.id, 'customerId', customerId, 'occurredAt', at) } as Parameters<typeof recordMoment>[0], this.catalogue);
      case 'cx.feedback.submitted':
        return submitFeedback({ type: 'SubmitFeedback', data: withFields(data, 'customerId', customerId, 'submittedAt', at) } as Parameters<typeof submitFeedback>[0]);
      default:
        return this.decideComplaint(event.type, data, customerId, at, complaint);
    }
  }

  private decideComplaint(type: IngestEventType, data: Record<string, unknown>, customerId: string, at: string, state: ComplaintState): DomainEvent[] {
    if (state.status !== 'none' && state.customerId !== customerId) {
      throw new DomainValidationError([{ field: 'customerId', reason: `does not match the complaint's customer` }]);
    }
    const commands: Partial<Record<IngestEventType, () => ComplaintCommand>> = {
      'cx.complaint.filed': () => ({ type: 'FileComplaint', data: withFields(data, 'customerId', customerId, 'filedAt', at) }) as ComplaintCommand,
      'cx.complaint.acknowledged': () => ({ type: 'AcknowledgeComplaint', data: withFields(data, 'acknowledgedAt', at) }) as ComplaintCommand,
      'cx.complaint.routed': () => ({ type: 'RouteComplaint', data: withFields(data, 'routedAt', at) }) as ComplaintCommand,
      'cx.complaint.resolved': () => ({ type: 'ResolveComplaint', data: withFields(data, 'resolvedAt', at) }) as ComplaintCommand,
      'cx.complaint.confirmed': () => ({ type: 'ConfirmComplaint', data: withFields(data, 'confirmedAt', at) }) as ComplaintCommand,
      'cx.complaint.reopened': () => ({ type: 'ReopenComplaint', data: withFields(data, 'reopenedAt', at) }) as ComplaintCommand,
      'cx.complaint.closed': () => ({ type: 'CloseComplaint', data: withFields(data, 'closedAt', at) }) as ComplaintCommand,
    };
    return complaintDecider.decide(commands[type]!(), state);
  }

  private toAppend(item: Item, event: DomainEvent, n: number, context: IngestContext, receivedAt: string): EventToAppend {
    const { source, id, type, subject, time, extensions } = item.event;
    const cloudEvent: Record<string, unknown> = { id, source, type, subject };
    if (time) cloudEvent.time = time;
    for (const name in extensions) cloudEvent[name] = extensions[name];
    const metadata: EventToAppend['metadata'] & Record<string, unknown> = { correlationId: context.correlationId, causationId: item.storedId, cloudEvent, receivedAt };
    if (context.principal) metadata.principal = context.principal;
    return { id: n === 0 ? item.storedId : storedEventId(source, id, n), type: event.type, data: event.data, metadata };
  }

  /** One append per stream; a stream that was read expects the version it was read at. */
  private appendsOf(decided: readonly Decided[], histories: ReadonlyMap<string, RecordedEvent[]>): StreamAppend[] {
    const byStream = new Map<string, EventToAppend[]>();
    for (const entry of decided) {
      if (!('events' in entry) || entry.events.length === 0) continue;
      const list = byStream.get(entry.item.streamId);
      if (list) list.push(...entry.events);
      else byStream.set(entry.item.streamId, [...entry.events]);
    }
    return [...byStream.entries()].map(([streamId, events]) => {
      const history = histories.get(streamId);
      const version = history?.at(-1)?.streamVersion ?? -1;
      // A fact's stream is new: 'no_stream' (a re-send is recognised by its id and stores nothing).
      const expectedVersion: ExpectedVersion = !history ? 'no_stream' : version < 0 ? 'no_stream' : version;
      return { streamId, events, expectedVersion };
    });
  }

  private rejection(event: ValidCloudEvent, error: unknown, streamId?: string): ItemResult {
    if (error instanceof DomainValidationError) {
      return { id: event.id, status: 'rejected', errors: error.issues.map((i) => ({ field: apiField(i.field), message: i.reason })) };
    }
    if (error instanceof IllegalTransition) {
      return {
        id: event.id,
        status: 'rejected',
        errors: [{ field: 'type', message: `${event.type} is not allowed: complaint ${error.aggregateId} is ${error.status}` }],
        current: { stream: streamId ?? '', status: error.status },
      };
    }
    throw error;
  }

  private outcome(
    valid: readonly ValidCloudEvent[],
    validIndex: readonly number[],
    firstOf: ReadonlyMap<string, number>,
    results: ItemResult[],
    aborted: boolean,
  ): IngestOutcome {
    valid.forEach((event, i) => {
      const index = validIndex[i];
      const first = firstOf.get(`${event.source}\n${event.id}`)!;
      if (aborted && results[index]?.status !== 'rejected') results[index] = { id: event.id, status: 'aborted' };
      else if (first !== index) {
        const original = results[first];
        results[index] = original.status === 'accepted' || original.status === 'duplicate'
          ? { id: event.id, status: 'duplicate', position: original.position }
          : { ...original };
      }
    });
    let position = 0n;
    const count = { accepted: 0, duplicates: 0, rejected: 0 };
    for (const result of results) {
      if (result.status === 'accepted') count.accepted++;
      if (result.status === 'duplicate') count.duplicates++;
      if (result.status === 'rejected') count.rejected++;
      if ((result.status === 'accepted' || result.status === 'duplicate') && BigInt(result.position) > position) position = BigInt(result.position);
    }
    return { ...count, position: position.toString(), results };
  }
}

/**
 * `{ ...data, [name]: value, ... }` (the event's own fields in order, then the command's), built by
 * plain assignment: spreading the many object shapes JSON.parse hands out takes V8's slow path, which
 * made building the commands the largest single cost of deciding (three times this).
 */
function withFields(data: Record<string, unknown>, ...fields: unknown[]): Record<string, unknown> {
  // Assigning `__proto__` would set the prototype: validated data never has that key, but stay exact.
  if (Object.hasOwn(data, '__proto__')) return Object.fromEntries([...Object.entries(data), ...pairs(fields)]);
  const copy: Record<string, unknown> = {};
  for (const key in data) if (Object.hasOwn(data, key)) copy[key] = data[key];
  for (let i = 0; i < fields.length; i += 2) copy[fields[i] as string] = fields[i + 1];
  return copy;
}

function pairs(fields: readonly unknown[]): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (let i = 0; i < fields.length; i += 2) out.push([fields[i] as string, fields[i + 1]]);
  return out;
}

function isComplaintEvent(event: DomainEvent): event is Extract<DomainEvent, { type: `complaint.${string}` }> {
  return event.type.startsWith('complaint.');
}

function evolveCustomer(state: CustomerState, event: RecordedEvent): CustomerState {
  return event.type.startsWith('complaint.') ? state : customerDecider.evolve(state, event as unknown as Parameters<typeof customerDecider.evolve>[1]);
}

function evolveComplaint(state: ComplaintState, event: RecordedEvent): ComplaintState {
  return event.type.startsWith('complaint.') ? complaintDecider.evolve(state, event as unknown as Parameters<typeof complaintDecider.evolve>[1]) : state;
}
