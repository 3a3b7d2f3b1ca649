import { DomainValidationError } from './domain.errors.js';
import {
  businessTimeField,
  businessTimeOf,
  complaintEventTypes,
  complaintStreamId,
  customerStreamId,
  eventTypes,
  ingestEventTypes,
  isDomainEventType,
  isIngestEventType,
  streamIdFor,
} from './event-types.js';

describe('CloudEvents types', () => {
  it('maps exactly the eleven ingest types to their stored types and streams', () => {
    expect(ingestEventTypes).toEqual({
      'cx.customer.registered': { storedType: 'customer.registered.v1', stream: 'customer' },
      'cx.customer.updated': { storedType: 'customer.updated.v1', stream: 'customer' },
      'cx.moment.recorded': { storedType: 'moment.recorded.v1', stream: 'moment' },
      'cx.feedback.submitted': { storedType: 'feedback.submitted.v1', stream: 'feedback' },
      'cx.complaint.filed': { storedType: 'complaint.filed.v1', stream: 'complaint' },
      'cx.complaint.acknowledged': { storedType: 'complaint.acknowledged.v1', stream: 'complaint' },
      'cx.complaint.routed': { storedType: 'complaint.routed.v1', stream: 'complaint' },
      'cx.complaint.resolved': { storedType: 'complaint.resolved.v1', stream: 'complaint' },
      'cx.complaint.confirmed': { storedType: 'complaint.confirmed.v1', stream: 'complaint' },
      'cx.complaint.reopened': { storedType: 'complaint.reopened.v1', stream: 'complaint' },
      'cx.complaint.closed': { storedType: 'complaint.closed.v1', stream: 'complaint' },
    });
  });

  it('recognises ingest types and nothing else', () => {
    expect(isIngestEventType('cx.complaint.routed')).toBe(true);
    expect(isIngestEventType('cx.customer.tier-changed')).toBe(false);
    expect(isIngestEventType('complaint.routed.v1')).toBe(false);
    expect(isIngestEventType('toString')).toBe(false);
    expect(isIngestEventType('__proto__')).toBe(false);
    expect(isIngestEventType(undefined)).toBe(false);
  });

  it('gives tier changes a public name for publishing, though channel systems cannot send them', () => {
    expect(eventTypes['customer.tier-changed.v1']).toEqual({
      cloudEventType: 'cx.customer.tier-changed',
      stream: 'customer',
      ingest: false,
    });
  });

  it.each(Object.entries(eventTypes))('%s: versioned, accepted by the event store, published as cx.<name>', (storedType, info) => {
    expect(storedType).toMatch(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*\.v[1-9][0-9]*$/);
    expect(info.cloudEventType).toBe(`cx.${storedType.replace(/\.v\d+$/, '')}`);
    expect(info.stream).toBe(storedType.split('.')[0]);
    expect(isDomainEventType(storedType)).toBe(true);
  });

  it('does not take a public name for a stored type', () => {
    expect(isDomainEventType('cx.complaint.routed')).toBe(false);
    expect(isDomainEventType('hasOwnProperty')).toBe(false);
  });

  it('lists the complaint steps, and only them, in the order a complaint goes through them', () => {
    expect(complaintEventTypes).toEqual([
      'complaint.filed.v1',
      'complaint.acknowledged.v1',
      'complaint.routed.v1',
      'complaint.resolved.v1',
      'complaint.confirmed.v1',
      'complaint.reopened.v1',
      'complaint.closed.v1',
    ]);
  });
});

describe('stream ids', () => {
  it('names one stream per customer and per complaint', () => {
    expect(customerStreamId('cus-1')).toBe('customer-cus-1');
    expect(complaintStreamId('CMP.2025:17')).toBe('complaint-CMP.2025:17');
  });

  it('picks the stream from the ids of a command or event', () => {
    expect(streamIdFor('customer', { customerId: 'cus-1', complaintId: 'cmp-1' })).toBe('customer-cus-1');
    expect(streamIdFor('complaint', { customerId: 'cus-1', complaintId: 'cmp-1' })).toBe('complaint-cmp-1');
    const eventId = '0b9c8d2e-5f1a-5c3b-9d4e-7a6b5c4d3e2f';
    expect(streamIdFor('moment', { customerId: 'cus-1', eventId })).toBe(`moment-${eventId}`);
    expect(streamIdFor('feedback', { customerId: 'cus-1', eventId })).toBe(`feedback-${eventId}`);
    expect(() => streamIdFor('moment', { customerId: 'cus-1' })).toThrow(expect.objectContaining({ field: 'eventId' }));
  });

  it('rejects ids a stream id cannot hold, naming the id field', () => {
    expect(() => customerStreamId('a/b')).toThrow(expect.objectContaining({ field: 'customerId' }));
    expect(() => customerStreamId('x'.repeat(129))).toThrow(DomainValidationError);
    expect(() => complaintStreamId('-leading-dash')).toThrow(expect.objectContaining({ field: 'complaintId' }));
    expect(() => streamIdFor('complaint', { customerId: 'cus-1' })).toThrow(expect.objectContaining({ field: 'complaintId' }));
  });

  it('knows where every stored event states its business time', () => {
    expect(Object.keys(businessTimeField).sort()).toEqual(Object.keys(eventTypes).sort());
    expect(businessTimeOf('complaint.routed.v1', { routedAt: '2025-03-01T10:00:00Z', area: 'billing' })).toBe(Date.UTC(2025, 2, 1, 10));
    expect(businessTimeOf('moment.recorded.v1', { occurredAt: 'yesterday' })).toBeUndefined();
    expect(businessTimeOf('unknown.type.v1', { occurredAt: '2025-03-01T10:00:00Z' })).toBeUndefined();
  });
});
