import type { Channel, Severity } from './catalogue.js';
import type { Event } from './decider.js';

/** Every complaint event names its customer, so projections and Kafka keys never need a lookup. */
type ComplaintRef = { complaintId: string; customerId: string };

export type ComplaintFiled = Event<
  'complaint.filed.v1',
  ComplaintRef & {
    category: string;
    channel: Channel;
    severity: Severity;
    description?: string;
    /** The moment the complaint is about, when known. */
    momentId?: string;
    filedAt: string;
  }
>;

/** The customer was thanked for complaining and told the channels available. */
export type ComplaintAcknowledged = Event<'complaint.acknowledged.v1', ComplaintRef & { acknowledgedAt: string }>;

export type ComplaintRouted = Event<'complaint.routed.v1', ComplaintRef & { area: string; routedAt: string }>;

export type ComplaintResolved = Event<
  'complaint.resolved.v1',
  ComplaintRef & { resolution: string; rootCause?: string; resolvedAt: string }
>;

/** The customer confirmed the resolution repaired the harm. */
export type ComplaintConfirmed = Event<'complaint.confirmed.v1', ComplaintRef & { confirmedAt: string }>;

/** The customer did not accept the resolution: the complaint is back with its area, to be resolved again. */
export type ComplaintReopened = Event<'complaint.reopened.v1', ComplaintRef & { reason?: string; reopenedAt: string }>;

export type ComplaintClosed = Event<'complaint.closed.v1', ComplaintRef & { closedAt: string }>;

export type ComplaintEvent =
  | ComplaintFiled
  | ComplaintAcknowledged
  | ComplaintRouted
  | ComplaintResolved
  | ComplaintConfirmed
  | ComplaintReopened
  | ComplaintClosed;
