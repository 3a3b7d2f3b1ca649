import type { RecordedEvent } from '@cx/event-store';
import { customerIdOf, fromKafkaMessage, InvalidEventMessageError, PLATFORM_SOURCE, publicTypeOf, toKafkaMessage } from './event-message.js';

const ingested: RecordedEvent = {
  id: '7f7c2b1e-4a55-5d0e-9a43-5d3b8a1c0e01',
  type: 'customer.registered.v1',
  data: { customerId: 'customer-42', name: 'pii:v1:c2VhbGVk', registeredAt: '2026-03-01T09:00:00.000Z' },
  metadata: {
    correlationId: 'corr-1',
    causationId: 'call-0001',
    cloudEvent: { id: 'call-0001', source: 'urn:cx:callcenter', type: 'cx.customer.registered', subject: 'customer-42', time: '2026-03-01T09:00:00Z' },
  },
  streamId: 'customer-customer-42',
  streamVersion: 0,
  position: 1234n,
  recordedAt: new Date('2026-03-01T09:00:01.500Z'),
};

const decided: RecordedEvent = {
  id: '0b8f1c1e-0000-5000-8000-000000000001',
  type: 'retention.alert-raised.v1',
  data: { customerId: 'customer-7', raisedAt: '2026-03-02T10:00:00.000Z' },
  metadata: { correlationId: 'corr-2', causationId: 'e-9' },
  streamId: 'retention-customer-7',
  streamVersion: 3,
  position: 99n,
  recordedAt: new Date('2026-03-02T10:00:00.250Z'),
};

/** What a kafkajs consumer hands over: every header value a Buffer. */
const asConsumed = (message: ReturnType<typeof toKafkaMessage>) => ({
  value: message.value,
  headers: Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, Buffer.from(v)])),
});

describe('the cx.events message of a stored event', () => {
  it('is keyed by the customer and carries the stored data unchanged, sealed fields sealed', () => {
    const message = toKafkaMessage(ingested);
    expect(message.key).toBe('customer-42');
    expect(JSON.parse(message.value.toString('utf8'))).toEqual(ingested.data);
    expect(message.value.toString('utf8')).toContain('pii:v1:');
  });

  it('has the CloudEvents binary-mode attributes of the channel system that sent it', () => {
    expect(toKafkaMessage(ingested).headers).toMatchObject({
      ce_specversion: '1.0',
      ce_id: ingested.id,
      ce_source: 'urn:cx:callcenter',
      ce_type: 'cx.customer.registered',
      ce_subject: 'customer-42',
      ce_time: '2026-03-01T09:00:00Z',
      'content-type': 'application/json',
      cx_position: '1234',
      cx_correlation_id: 'corr-1',
      cx_causation_id: 'call-0001',
      cx_origin_id: 'call-0001',
      cx_stream: 'customer-customer-42',
      cx_stream_version: '0',
      cx_type: 'customer.registered.v1',
      cx_recorded_at: '2026-03-01T09:00:01.500Z',
    });
  });

  it('names the platform as the source of what it decided itself, timed when stored, with no origin id', () => {
    const { headers, key } = toKafkaMessage(decided);
    expect(key).toBe('customer-7');
    expect(headers).toMatchObject({ ce_source: PLATFORM_SOURCE, ce_type: 'cx.retention.alert-raised', ce_time: '2026-03-02T10:00:00.250Z', cx_position: '99' });
    expect(headers).not.toHaveProperty('cx_origin_id');
  });

  it('gives back the stored event, from string or Buffer headers', () => {
    expect(fromKafkaMessage(toKafkaMessage(ingested))).toEqual(ingested);
    expect(fromKafkaMessage(asConsumed(toKafkaMessage(decided)))).toEqual(decided);
  });

  it('falls back to the stream for the key and to the stored type for an unknown type', () => {
    expect(customerIdOf({ data: { other: 1 }, streamId: 'legacy-1' })).toBe('legacy-1');
    expect(customerIdOf({ data: null, streamId: 'legacy-2' })).toBe('legacy-2');
    expect(publicTypeOf('moment.recorded.v1')).toBe('cx.moment.recorded');
    expect(publicTypeOf('something.else.v9')).toBe('something.else.v9');
  });

  it.each([
    ['an empty value', { ...asConsumed(toKafkaMessage(ingested)), value: null }, 'the value is empty'],
    ['a missing header', { value: Buffer.from('{}'), headers: { cx_position: '1' } }, 'header cx_metadata is missing'],
    ['a position that is not one', { ...toKafkaMessage(ingested), headers: { ...toKafkaMessage(ingested).headers, cx_position: '-3' } }, 'is not a position'],
    ['a value that is not JSON', { ...toKafkaMessage(ingested), value: Buffer.from('{nope') }, 'invalid JSON'],
  ])('refuses %s with a typed error', (_, message, reason) => {
    let error: unknown;
    try {
      fromKafkaMessage(message);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidEventMessageError);
    expect((error as InvalidEventMessageError).reason).toContain(reason);
  });
});
