import {
  type AcknowledgeComplaint,
  type CloseComplaint,
  type ComplaintCommand,
  complaintDecider,
  type ComplaintStatus,
  type ConfirmComplaint,
  type FileComplaint,
  type ReopenComplaint,
  type ResolveComplaint,
  type RouteComplaint,
} from './complaint.decider.js';
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
import { deciderSpec } from './decider.testing.js';
import { DomainValidationError, IllegalTransition } from './domain.errors.js';

const { given } = deciderSpec(complaintDecider);

const complaintId = 'cmp-1';
const customerId = 'cus-1';
const at = (minute: number) => `2025-03-01T10:${String(minute).padStart(2, '0')}:00Z`;

const complaintFiled: ComplaintFiled = {
  type: 'complaint.filed.v1',
  data: {
    complaintId,
    customerId,
    category: 'wrong_invoice',
    channel: 'letter',
    severity: 'high',
    description: 'charged twice',
    momentId: 'evt-42',
    filedAt: at(0),
  },
};
const complaintAcknowledged: ComplaintAcknowledged = {
  type: 'complaint.acknowledged.v1',
  data: { complaintId, customerId, acknowledgedAt: at(1) },
};
const complaintRouted: ComplaintRouted = {
  type: 'complaint.routed.v1',
  data: { complaintId, customerId, area: 'billing', routedAt: at(2) },
};
const complaintResolved: ComplaintResolved = {
  type: 'complaint.resolved.v1',
  data: { complaintId, customerId, resolution: 'refunded the second charge', rootCause: 'duplicate batch run', resolvedAt: at(3) },
};
const complaintConfirmed: ComplaintConfirmed = {
  type: 'complaint.confirmed.v1',
  data: { complaintId, customerId, confirmedAt: at(4) },
};
const complaintReopened: ComplaintReopened = {
  type: 'complaint.reopened.v1',
  data: { complaintId, customerId, reason: 'refund never arrived', reopenedAt: at(4) },
};
const complaintClosed: ComplaintClosed = {
  type: 'complaint.closed.v1',
  data: { complaintId, customerId, closedAt: at(5) },
};

const file = (data: Partial<FileComplaint['data']> = {}): FileComplaint => ({
  type: 'FileComplaint',
  data: { ...complaintFiled.data, ...data },
});
const acknowledge = (acknowledgedAt = at(1)): AcknowledgeComplaint => ({
  type: 'AcknowledgeComplaint',
  data: { complaintId, acknowledgedAt },
});
const routeTo = (area: string, routedAt = at(2)): RouteComplaint => ({ type: 'RouteComplaint', data: { complaintId, area, routedAt } });
const resolve = (data: Partial<ResolveComplaint['data']> = {}): ResolveComplaint => ({
  type: 'ResolveComplaint',
  data: { complaintId, resolution: 'refunded the second charge', rootCause: 'duplicate batch run', resolvedAt: at(3), ...data },
});
const confirm = (confirmedAt = at(4)): ConfirmComplaint => ({ type: 'ConfirmComplaint', data: { complaintId, confirmedAt } });
const reopen = (reason?: string, reopenedAt = at(4)): ReopenComplaint => ({
  type: 'ReopenComplaint',
  data: reason === undefined ? { complaintId, reopenedAt } : { complaintId, reason, reopenedAt },
});
const close = (closedAt = at(5)): CloseComplaint => ({ type: 'CloseComplaint', data: { complaintId, closedAt } });

describe('complaint decider: the lifecycle', () => {
  it('files a complaint on an empty stream', () => {
    given().when(file()).then([complaintFiled]);
  });

  it('files a complaint without the optional description and moment', () => {
    const { description: _d, momentId: _m, ...required } = complaintFiled.data;
    given().when(file({ description: undefined, momentId: undefined })).then([{ type: 'complaint.filed.v1', data: required }]);
  });

  it('acknowledges a filed complaint, naming the customer from the stream', () => {
    given(complaintFiled).when(acknowledge()).then([complaintAcknowledged]);
  });

  it('routes an acknowledged complaint to an area', () => {
    given(complaintFiled, complaintAcknowledged).when(routeTo('billing')).then([complaintRouted]);
  });

  it('resolves a routed complaint, with and without a root cause', () => {
    given(complaintFiled, complaintAcknowledged, complaintRouted).when(resolve()).then([complaintResolved]);
    const { rootCause: _r, ...withoutRootCause } = complaintResolved.data;
    given(complaintFiled, complaintAcknowledged, complaintRouted)
      .when(resolve({ rootCause: undefined }))
      .then([{ type: 'complaint.resolved.v1', data: withoutRootCause }]);
  });

  it('confirms a resolved complaint', () => {
    given(complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved).when(confirm()).then([complaintConfirmed]);
  });

  it('reopens a resolved complaint, with or without a reason', () => {
    given(complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved)
      .when(reopen('refund never arrived'))
      .then([complaintReopened]);
    given(complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved)
      .when(reopen())
      .then([{ type: 'complaint.reopened.v1', data: { complaintId, customerId, reopenedAt: at(4) } }]);
  });

  it('closes a confirmed complaint', () => {
    given(complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved, complaintConfirmed)
      .when(close())
      .then([complaintClosed]);
  });

  it('sends a reopened complaint back to routed: it must be resolved again, then confirmed, then closed', () => {
    const reopened = [complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved, complaintReopened];
    given(...reopened).thenState({ status: 'routed', complaintId, customerId });
    const secondResolution: ComplaintResolved = {
      type: 'complaint.resolved.v1',
      data: { complaintId, customerId, resolution: 'refund re-sent by transfer', resolvedAt: at(7) },
    };
    given(...reopened)
      .when(resolve({ resolution: 'refund re-sent by transfer', rootCause: undefined, resolvedAt: at(7) }))
      .then([secondResolution]);
    given(...reopened).when(confirm()).thenThrows(IllegalTransition, { status: 'routed' });
    given(...reopened).when(close()).thenThrows(IllegalTransition, { status: 'routed' });
    given(...reopened, secondResolution)
      .when(confirm(at(8)))
      .then([{ ...complaintConfirmed, data: { ...complaintConfirmed.data, confirmedAt: at(8) } }]);
  });

  it('folds each event into the status it leaves the complaint in', () => {
    given().thenState({ status: 'none' });
    given(complaintFiled).thenState({ status: 'filed', complaintId, customerId });
    given(complaintFiled, complaintAcknowledged).thenState({ status: 'acknowledged', complaintId, customerId });
    given(complaintFiled, complaintAcknowledged, complaintRouted).thenState({ status: 'routed', complaintId, customerId });
    given(complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved).thenState({
      status: 'resolved',
      complaintId,
      customerId,
    });
    given(complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved, complaintConfirmed).thenState({
      status: 'confirmed',
      complaintId,
      customerId,
    });
    given(complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved, complaintConfirmed, complaintClosed).thenState({
      status: 'closed',
      complaintId,
      customerId,
    });
  });

  it('takes the customer of later events from the stream, not from the command', () => {
    const otherCustomer: ComplaintFiled = { ...complaintFiled, data: { ...complaintFiled.data, customerId: 'cus-2' } };
    given(otherCustomer)
      .when(acknowledge())
      .then([{ ...complaintAcknowledged, data: { ...complaintAcknowledged.data, customerId: 'cus-2' } }]);
  });
});

describe('complaint decider: every transition out of order is rejected with the current status', () => {
  type Status = 'none' | ComplaintStatus;
  const histories: [label: string, status: Status, events: ComplaintEvent[]][] = [
    ['not filed', 'none', []],
    ['filed', 'filed', [complaintFiled]],
    ['acknowledged', 'acknowledged', [complaintFiled, complaintAcknowledged]],
    ['routed', 'routed', [complaintFiled, complaintAcknowledged, complaintRouted]],
    [
      'routed again after a reopening',
      'routed',
      [complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved, complaintReopened],
    ],
    ['resolved', 'resolved', [complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved]],
    ['confirmed', 'confirmed', [complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved, complaintConfirmed]],
    [
      'closed',
      'closed',
      [complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved, complaintConfirmed, complaintClosed],
    ],
  ];
  const commands: ComplaintCommand[] = [
    file(),
    acknowledge(),
    routeTo('billing'),
    resolve(),
    confirm(),
    reopen('refund never arrived'),
    close(),
  ];
  /** The only legal pairs, written out by hand: status -> command -> the event it produces. */
  const legal: Record<Status, Partial<Record<ComplaintCommand['type'], ComplaintEvent>>> = {
    none: { FileComplaint: complaintFiled },
    filed: { AcknowledgeComplaint: complaintAcknowledged },
    acknowledged: { RouteComplaint: complaintRouted },
    routed: { ResolveComplaint: complaintResolved },
    resolved: { ConfirmComplaint: complaintConfirmed, ReopenComplaint: complaintReopened },
    confirmed: { CloseComplaint: complaintClosed },
    closed: {},
  };

  const cases = histories.flatMap(([label, status, events]) =>
    commands.map((command) => ({ label, status, events, command, expected: legal[status][command.type] })),
  );

  it('covers every status x command pair', () => {
    expect(cases).toHaveLength(histories.length * 7);
    // 8 legal pairs: one from each status, two from resolved (confirm, reopen), none from closed.
    expect(cases.filter((c) => c.expected === undefined)).toHaveLength(56 - 8);
  });

  it.each(cases.filter((c) => c.expected === undefined))('$label: $command.type is rejected', ({ status, events, command }) => {
    const error = given(...events)
      .when(command)
      .thenThrows(IllegalTransition, { aggregateId: complaintId, status, command: command.type });
    expect(error.message).toBe(`${complaintId} is ${status}: ${command.type} is not allowed`);
  });

  it.each(cases.filter((c) => c.expected !== undefined))('$label: $command.type is accepted', ({ events, command, expected }) => {
    given(...events).when(command).then([expected as ComplaintEvent]);
  });

  it('rejects filing a complaint id that is already filed, even with other data', () => {
    given(complaintFiled)
      .when(file({ category: 'late_delivery', filedAt: at(9) }))
      .thenThrows(IllegalTransition, { status: 'filed', command: 'FileComplaint' });
  });

  it('rejects closing a resolved complaint the customer has not confirmed', () => {
    given(complaintFiled, complaintAcknowledged, complaintRouted, complaintResolved)
      .when(close())
      .thenThrows(IllegalTransition, { status: 'resolved', command: 'CloseComplaint' });
  });
});

describe('complaint decider: validation names the field', () => {
  const filed = [complaintFiled];
  const routed = [complaintFiled, complaintAcknowledged, complaintRouted];
  const resolved = [...routed, complaintResolved];

  it.each([
    ['complaintId', file({ complaintId: 'has space' })],
    ['customerId', file({ customerId: '' })],
    ['category', file({ category: '  ' })],
    ['channel', file({ channel: 'fax' as never })],
    ['severity', file({ severity: 'urgent' as never })],
    ['description', file({ description: '' })],
    ['momentId', file({ momentId: '' })],
    ['filedAt', file({ filedAt: 'yesterday' })],
  ])('filing with a bad %s', (field, command) => {
    given().when(command).thenThrows(DomainValidationError, { field, issues: [expect.objectContaining({ field })] });
  });

  it.each([
    ['acknowledgedAt', filed, acknowledge('2025-13-45T10:00:00Z')],
    ['area', [...filed, complaintAcknowledged], routeTo('')],
    ['routedAt', [...filed, complaintAcknowledged], routeTo('billing', '2025-03-01 10:00')],
    ['resolution', routed, resolve({ resolution: '' })],
    ['rootCause', routed, resolve({ rootCause: ' ' })],
    ['resolvedAt', routed, resolve({ resolvedAt: '' })],
    ['confirmedAt', resolved, confirm('2025-03-01T10:00:00')],
    ['reason', resolved, reopen('')],
    ['reopenedAt', resolved, reopen('why', 'soon')],
    ['closedAt', [...resolved, complaintConfirmed], close('never')],
  ] as const)('a bad %s', (field, events, command) => {
    given(...events).when(command).thenThrows(DomainValidationError, { field });
  });

  it('lists every bad field at once', () => {
    const error = given()
      .when(file({ channel: 'fax' as never, severity: 'urgent' as never, filedAt: '' }))
      .thenThrows(DomainValidationError);
    expect(error.issues.map((issue) => issue.field)).toEqual(['channel', 'severity', 'filedAt']);
    expect(error.issues[1]?.reason).toBe('must be one of low, medium, high, critical');
  });

  it('reports invalid data before the order of the transition', () => {
    given(complaintFiled).when(routeTo('')).thenThrows(DomainValidationError, { field: 'area' });
  });
});

describe('complaint decider: evolve', () => {
  it('rejects an event type it does not know', () => {
    expect(() => complaintDecider.evolve({ status: 'none' }, { type: 'complaint.escalated.v1', data: {} } as never)).toThrow(
      'complaint.escalated.v1',
    );
  });
});
