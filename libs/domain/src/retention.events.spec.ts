import { DomainValidationError } from './domain.errors.js';
import { eventTypes, ingestEventTypes, isDomainEventType, isIngestEventType, retentionStreamId, streamIdFor } from './event-types.js';

describe('retention alerts as stored events', () => {
  it('are stored as retention.alert-raised.v1 in a stream of their own and published as cx.retention.alert-raised', () => {
    expect(eventTypes['retention.alert-raised.v1']).toEqual({ cloudEventType: 'cx.retention.alert-raised', stream: 'retention', ingest: false });
    expect(isDomainEventType('retention.alert-raised.v1')).toBe(true);
  });

  it('cannot be sent by channel systems', () => {
    expect(isIngestEventType('cx.retention.alert-raised')).toBe(false);
    expect(Object.values(ingestEventTypes).map((t) => t.storedType)).not.toContain('retention.alert-raised.v1');
  });

  it('live in retention-<customerId>, not in the customer stream the profile decisions fold', () => {
    expect(retentionStreamId('cus-1')).toBe('retention-cus-1');
    expect(streamIdFor('retention', { customerId: 'cus-1', complaintId: 'cmp-1' })).toBe('retention-cus-1');
    expect(() => retentionStreamId('a/b')).toThrow(DomainValidationError);
    expect(() => streamIdFor('retention', {})).toThrow(expect.objectContaining({ field: 'customerId' }));
  });
});
