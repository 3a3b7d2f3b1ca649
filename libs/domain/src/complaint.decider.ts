import { channels, severities } from './catalogue.js';
import type {
  ComplaintAcknowledged,
  ComplaintClosed,
  ComplaintConfirmed,
  ComplaintEvent,
  ComplaintFiled,
  ComplaintReopened,
  ComplaintResolved,
  ComplaintRouted,
} from './complaint.events.js';
import { type Command, type Decider, unreachable } from './decider.js';
import { IllegalTransition } from './domain.errors.js';
import { id, oneOf, optionalText, text, timestamp, validate } from './validation.js';

/** Later commands name only the complaint: the customer comes from the stream. */
type Later<E extends ComplaintEvent> = Omit<E['data'], 'customerId'>;

export type FileComplaint = Command<'FileComplaint', ComplaintFiled['data']>;
export type AcknowledgeComplaint = Command<'AcknowledgeComplaint', Later<ComplaintAcknowledged>>;
export type RouteComplaint = Command<'RouteComplaint', Later<ComplaintRouted>>;
export type ResolveComplaint = Command<'ResolveComplaint', Later<ComplaintResolved>>;
export type ConfirmComplaint = Command<'ConfirmComplaint', Later<ComplaintConfirmed>>;
export type ReopenComplaint = Command<'ReopenComplaint', Later<ComplaintReopened>>;
export type CloseComplaint = Command<'CloseComplaint', Later<ComplaintClosed>>;

export type ComplaintCommand =
  | FileComplaint
  | AcknowledgeComplaint
  | RouteComplaint
  | ResolveComplaint
  | ConfirmComplaint
  | ReopenComplaint
  | CloseComplaint;

export type ComplaintStatus = 'filed' | 'acknowledged' | 'routed' | 'resolved' | 'confirmed' | 'closed';

/**
 * filed -> acknowledged -> routed -> resolved -> confirmed -> closed, where a resolved complaint
 * may instead be reopened, which sends it back to routed to be resolved again. `none`: not filed.
 * Only a confirmed complaint can be closed: one the customer never confirmed stays open.
 */
export type ComplaintState =
  | { status: 'none' }
  | { status: ComplaintStatus; complaintId: string; customerId: string };

type FiledComplaint = Exclude<ComplaintState, { status: 'none' }>;

/** The state, when its status is `expected`; otherwise the command is out of order. */
function inStatus(state: ComplaintState, expected: ComplaintStatus, command: ComplaintCommand): FiledComplaint {
  if (state.status === 'none' || state.status !== expected) {
    throw new IllegalTransition(command.data.complaintId, state.status, command.type);
  }
  return state;
}

function decide(command: ComplaintCommand, state: ComplaintState): ComplaintEvent[] {
  switch (command.type) {
    case 'FileComplaint': {
      const data = command.data;
      validate(
        id('complaintId', data.complaintId),
        id('customerId', data.customerId),
        text('category', data.category),
        oneOf('channel', data.channel, channels),
        oneOf('severity', data.severity, severities),
        optionalText('description', data.description),
        optionalText('momentId', data.momentId),
        timestamp('filedAt', data.filedAt),
      );
      if (state.status !== 'none') throw new IllegalTransition(data.complaintId, state.status, command.type);
      return [{ type: 'complaint.filed.v1', data }];
    }
    case 'AcknowledgeComplaint': {
      validate(id('complaintId', command.data.complaintId), timestamp('acknowledgedAt', command.data.acknowledgedAt));
      const { customerId } = inStatus(state, 'filed', command);
      return [{ type: 'complaint.acknowledged.v1', data: { ...command.data, customerId } }];
    }
    case 'RouteComplaint': {
      validate(id('complaintId', command.data.complaintId), text('area', command.data.area), timestamp('routedAt', command.data.routedAt));
      const { customerId } = inStatus(state, 'acknowledged', command);
      return [{ type: 'complaint.routed.v1', data: { ...command.data, customerId } }];
    }
    case 'ResolveComplaint': {
      validate(
        id('complaintId', command.data.complaintId),
        text('resolution', command.data.resolution),
        optionalText('rootCause', command.data.rootCause),
        timestamp('resolvedAt', command.data.resolvedAt),
      );
      const { customerId } = inStatus(state, 'routed', command);
      return [{ type: 'complaint.resolved.v1', data: { ...command.data, customerId } }];
    }
    case 'ConfirmComplaint': {
      validate(id('complaintId', command.data.complaintId), timestamp('confirmedAt', command.data.confirmedAt));
      const { customerId } = inStatus(state, 'resolved', command);
      return [{ type: 'complaint.confirmed.v1', data: { ...command.data, customerId } }];
    }
    case 'ReopenComplaint': {
      validate(
        id('complaintId', command.data.complaintId),
        optionalText('reason', command.data.reason),
        timestamp('reopenedAt', command.data.reopenedAt),
      );
      const { customerId } = inStatus(state, 'resolved', command);
      return [{ type: 'complaint.reopened.v1', data: { ...command.data, customerId } }];
    }
    case 'CloseComplaint': {
      validate(id('complaintId', command.data.complaintId), timestamp('closedAt', command.data.closedAt));
      const { customerId } = inStatus(state, 'confirmed', command);
      return [{ type: 'complaint.closed.v1', data: { ...command.data, customerId } }];
    }
    default:
      return unreachable(command);
  }
}

/** The status an event leaves the complaint in. */
function statusAfter(event: ComplaintEvent): ComplaintStatus {
  switch (event.type) {
    case 'complaint.filed.v1':
      return 'filed';
    case 'complaint.acknowledged.v1':
      return 'acknowledged';
    case 'complaint.routed.v1':
    case 'complaint.reopened.v1':
      return 'routed';
    case 'complaint.resolved.v1':
      return 'resolved';
    case 'complaint.confirmed.v1':
      return 'confirmed';
    case 'complaint.closed.v1':
      return 'closed';
    default:
      return unreachable(event);
  }
}

function evolve(_state: ComplaintState, event: ComplaintEvent): ComplaintState {
  const { complaintId, customerId } = event.data;
  return { status: statusAfter(event), complaintId, customerId };
}

export const complaintDecider: Decider<ComplaintCommand, ComplaintState, ComplaintEvent> = {
  decide,
  evolve,
  initialState: { status: 'none' },
};
