import type { ComplaintEvent } from './complaint.events.js';
import type { CustomerStreamEvent } from './customer.events.js';
import type { RetentionEvent } from './retention.events.js';
import { id, validate } from './validation.js';

export type { RetentionAlertRaised, RetentionEvent } from './retention.events.js';

/** What the deciders of the write path (ingest) produce. */
export type DomainEvent = CustomerStreamEvent | ComplaintEvent;
export type DomainEventType = DomainEvent['type'];
/** Every stored type of the domain: the write path's, plus what the platform's own processes append (retention alerts). */
export type StoredEvent = DomainEvent | RetentionEvent;
export type StoredEventType = StoredEvent['type'];
/**
 * Where events live. A customer's profile and tier, and each complaint, are aggregates with rules,
 * decided against their stream. A moment of truth and a survey answer are facts with no rule to
 * protect: each is a stream of its own, created once, so channel systems writing a customer's
 * moments at the same time never contend. The retention saga's alerts go to a stream per customer
 * of their own (`retention-<id>`). A customer's whole timeline is read by customerId.
 */
export type StreamKind = 'customer' | 'complaint' | 'moment' | 'feedback' | 'retention';

type EventTypeInfo = {
  /** The public CloudEvents `type`, on ingest and when published. */
  readonly cloudEventType: `cx.${string}`;
  readonly stream: StreamKind;
  /** Whether channel systems may send it to the ingest API. */
  readonly ingest: boolean;
};

/**
 * Every stored event type, where its events are stored and its public name. A new stored type
 * fails to compile until it has a row here.
 */
export const eventTypes = {
  'customer.registered.v1': { cloudEventType: 'cx.customer.registered', stream: 'customer', ingest: true },
  'customer.updated.v1': { cloudEventType: 'cx.customer.updated', stream: 'customer', ingest: true },
  'customer.tier-changed.v1': { cloudEventType: 'cx.customer.tier-changed', stream: 'customer', ingest: false },
  'moment.recorded.v1': { cloudEventType: 'cx.moment.recorded', stream: 'moment', ingest: true },
  'feedback.submitted.v1': { cloudEventType: 'cx.feedback.submitted', stream: 'feedback', ingest: true },
  'complaint.filed.v1': { cloudEventType: 'cx.complaint.filed', stream: 'complaint', ingest: true },
  'complaint.acknowledged.v1': { cloudEventType: 'cx.complaint.acknowledged', stream: 'complaint', ingest: true },
  'complaint.routed.v1': { cloudEventType: 'cx.complaint.routed', stream: 'complaint', ingest: true },
  'complaint.resolved.v1': { cloudEventType: 'cx.complaint.resolved', stream: 'complaint', ingest: true },
  'complaint.confirmed.v1': { cloudEventType: 'cx.complaint.confirmed', stream: 'complaint', ingest: true },
  'complaint.reopened.v1': { cloudEventType: 'cx.complaint.reopened', stream: 'complaint', ingest: true },
  'complaint.closed.v1': { cloudEventType: 'cx.complaint.closed', stream: 'complaint', ingest: true },
  'retention.alert-raised.v1': { cloudEventType: 'cx.retention.alert-raised', stream: 'retention', ingest: false },
} as const satisfies Record<StoredEventType, EventTypeInfo>;

type EventTypes = typeof eventTypes;

/** The complaint's steps, as stored: every type of the complaint stream, in the catalogue's order. */
export const complaintEventTypes: readonly ComplaintEvent['type'][] = (Object.keys(eventTypes) as StoredEventType[]).filter(
  (type): type is ComplaintEvent['type'] => eventTypes[type].stream === 'complaint',
);

type DataOf<T extends StoredEventType> = Extract<StoredEvent, { type: T }>['data'];

/**
 * Where each stored event states when it happened, its business time (a moment's `occurredAt`, a
 * complaint step's `routedAt`…), as opposed to when the platform recorded it. Typed over every
 * stored type: a new one does not compile until its field is named here.
 */
export const businessTimeField = {
  'customer.registered.v1': 'registeredAt',
  'customer.updated.v1': 'updatedAt',
  'customer.tier-changed.v1': 'changedAt',
  'moment.recorded.v1': 'occurredAt',
  'feedback.submitted.v1': 'submittedAt',
  'complaint.filed.v1': 'filedAt',
  'complaint.acknowledged.v1': 'acknowledgedAt',
  'complaint.routed.v1': 'routedAt',
  'complaint.resolved.v1': 'resolvedAt',
  'complaint.confirmed.v1': 'confirmedAt',
  'complaint.reopened.v1': 'reopenedAt',
  'complaint.closed.v1': 'closedAt',
  'retention.alert-raised.v1': 'raisedAt',
} as const satisfies { readonly [T in StoredEventType]: Extract<keyof DataOf<T>, `${string}At`> };

/** An event's business time in milliseconds since the epoch; undefined for an unknown type or a time that does not parse. */
export function businessTimeOf(type: string, data: unknown): number | undefined {
  const field = Object.hasOwn(businessTimeField, type) ? businessTimeField[type as StoredEventType] : undefined;
  const value = field === undefined ? undefined : (data as Record<string, unknown> | null)?.[field];
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** The CloudEvents types the ingest API accepts, each with the stored type and stream it maps to. */
export type IngestEventTypes = {
  readonly [K in keyof EventTypes as EventTypes[K]['ingest'] extends true ? EventTypes[K]['cloudEventType'] : never]: {
    readonly storedType: K;
    readonly stream: EventTypes[K]['stream'];
  };
};
export type IngestEventType = keyof IngestEventTypes;

export const ingestEventTypes = Object.freeze(
  Object.fromEntries(
    Object.entries(eventTypes)
      .filter(([, info]) => info.ingest)
      .map(([storedType, info]) => [info.cloudEventType, Object.freeze({ storedType, stream: info.stream })]),
  ),
) as IngestEventTypes;

export function isIngestEventType(type: unknown): type is IngestEventType {
  return typeof type === 'string' && Object.hasOwn(ingestEventTypes, type);
}

/** Whether `type` is a stored type the domain knows (a row of `eventTypes`). */
export function isDomainEventType(type: unknown): type is StoredEventType {
  return typeof type === 'string' && Object.hasOwn(eventTypes, type);
}

export function customerStreamId(customerId: string): string {
  validate(id('customerId', customerId));
  return `customer-${customerId}`;
}

export function complaintStreamId(complaintId: string): string {
  validate(id('complaintId', complaintId));
  return `complaint-${complaintId}`;
}

/**
 * The retention saga's stream of a customer: its alerts, apart from the `customer-<id>` stream so
 * that the customer's profile decisions never fold events they do not know, nor wait on its lock.
 */
export function retentionStreamId(customerId: string): string {
  validate(id('customerId', customerId));
  return `retention-${customerId}`;
}

/** A single-fact stream (a moment, an answer), named by the stored id of its event. */
export function factStreamId(kind: 'moment' | 'feedback', eventId: string): string {
  validate(id('eventId', eventId));
  return `${kind}-${eventId}`;
}

/** The stream of a command or event of the given kind, from the ids in its data (and its stored event id for facts). */
export function streamIdFor(
  stream: StreamKind,
  data: { readonly customerId?: string; readonly complaintId?: string; readonly eventId?: string },
): string {
  switch (stream) {
    case 'complaint':
      return complaintStreamId(data.complaintId as string);
    case 'customer':
      return customerStreamId(data.customerId as string);
    case 'retention':
      return retentionStreamId(data.customerId as string);
    default:
      return factStreamId(stream, data.eventId as string);
  }
}
