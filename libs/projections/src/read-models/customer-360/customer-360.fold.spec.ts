import type { RecordedEvent } from '@cx/event-store';
import {
  applyEvent,
  type Customer360State,
  formatUnits,
  newChanges,
  newCustomer,
  parseUnits,
  preferredChannel,
  signalReasons,
  slaReason,
  toUnits,
  trendOf,
} from './customer-360.fold.js';
import { decodeCursor, encodeCursor, parseCustomerListQuery } from './customer-360.query.js';

let position = 0n;
const event = (type: string, data: Record<string, unknown>): RecordedEvent => ({
  id: `e${++position}`,
  type,
  data: { customerId: 'c-1', ...data },
  metadata: { correlationId: 'x', causationId: 'x' },
  streamId: 'customer-c-1',
  streamVersion: 0,
  position,
  recordedAt: new Date('2025-01-01T00:00:00Z'),
});
const fold = (...events: RecordedEvent[]): Customer360State => {
  const state = newCustomer('c-1');
  const changes = newChanges();
  for (const e of events) applyEvent(state, e, changes);
  return state;
};
const answers = (...scores: number[]) => scores.map((score, i) => ({ score, at: i, position: BigInt(i) }));

describe('customer 360 fold', () => {
  it('sums amounts exactly to 4 decimals, negative ones (refunds) included', () => {
    // 0.1 + 0.2 = 0.3, not 0.30000000000000004; 10.0001 - 0.0002 = 9.9999.
    expect(formatUnits(toUnits(0.1) + toUnits(0.2))).toBe('0.3000');
    expect(formatUnits(toUnits(10.0001) + toUnits(-0.0002))).toBe('9.9999');
    expect(formatUnits(toUnits(-0.5))).toBe('-0.5000');
    for (const text of ['0.0000', '-0.5000', '120.5000', '123456789.0001']) expect(formatUnits(parseUnits(text))).toBe(text);
    expect(() => parseUnits('1.23456')).toThrow();
  });

  it('reads a falling CES as improving and a falling NPS as worsening', () => {
    // CES 6, 6, 6 then 2, 2, 2: -4 points, less effort.
    expect(trendOf('ces', answers(6, 6, 6, 2, 2, 2))).toMatchObject({ change: -4, direction: 'improving' });
    expect(trendOf('nps', answers(9, 9, 9, 5, 5, 5))).toMatchObject({ change: -4, direction: 'worsening' });
    // CSAT 4, 4, 4, 4: a change of 0 is flat; 3 answers have no trend.
    expect(trendOf('csat', answers(4, 4, 4, 4))).toMatchObject({ change: 0, direction: 'flat' });
    expect(trendOf('csat', answers(1, 5, 5))).toBeNull();
  });

  it('prefers the channel with most contacts, then the latest, then the later log position', () => {
    const stats = (channel: string, moments: number, lastAt: number, lastPosition: bigint) => ({
      customerId: 'c-1',
      channel,
      moments,
      complaints: 0,
      lastAt,
      lastPosition,
    });
    expect(preferredChannel([])).toBeNull();
    expect(preferredChannel([stats('web', 2, 1, 1n), stats('phone', 1, 9, 9n)])).toBe('web');
    expect(preferredChannel([stats('web', 2, 1, 1n), stats('phone', 2, 9, 9n)])).toBe('phone');
    expect(preferredChannel([stats('web', 2, 5, 7n), stats('phone', 2, 5, 3n)])).toBe('web');
  });

  it('takes the latest phone moment with an outcome by time, even when it arrives late', () => {
    const state = fold(
      event('customer.tier-changed.v1', { from: 'C', to: 'A', reason: 'x', changedAt: '2025-03-01T00:00:00Z' }),
      event('moment.recorded.v1', { momentId: 'late-good', kind: 'billing', channel: 'phone', outcome: 'positive', occurredAt: '2025-03-05T00:00:00Z' }),
      // Recorded afterwards, but it happened before the good call: it does not replace it.
      event('moment.recorded.v1', { momentId: 'early-bad', kind: 'billing', channel: 'phone', outcome: 'negative', occurredAt: '2025-03-04T00:00:00Z' }),
    );
    expect(state.lastPhone?.momentId).toBe('late-good');
    expect(signalReasons(state)).toEqual([]);
  });

  it('fires the SLA rule only strictly after the due time and only for unresolved stages', () => {
    const complaint = { complaintId: 'k', severity: 'low', stage: 'routed', dueAt: 1000 };
    expect(slaReason(complaint, 1000)).toBeNull();
    expect(slaReason(complaint, 1001)).toBe('complaint k unresolved past its low SLA');
    expect(slaReason({ ...complaint, stage: 'resolved' }, 1001)).toBeNull();
    expect(slaReason({ ...complaint, stage: 'confirmed' }, 1001)).toBeNull();
  });
});

describe('customer list query', () => {
  const now = new Date('2025-06-01T00:00:00Z');

  it('round-trips a cursor and refuses one that is not the canonical encoding of a customer id', () => {
    expect(decodeCursor(encodeCursor('cust-10482'))).toBe('cust-10482');
    expect(encodeCursor('cust-10482')).toBe('Y3VzdC0xMDQ4Mg');
    expect(decodeCursor('Y3VzdC0xMDQ4Mg==')).toBeUndefined();
    expect(decodeCursor(Buffer.from('-starts-with-dash').toString('base64url'))).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
  });

  it('defaults to 50 customers at the current time, and accepts a date as asOf', () => {
    expect(parseCustomerListQuery({}, now)).toEqual({ query: { limit: 50, asOf: now } });
    expect(parseCustomerListQuery({ asOf: '2025-03-14', limit: '500', tier: 'A', atRisk: 'false' }, now)).toEqual({
      query: { limit: 500, asOf: new Date('2025-03-14T00:00:00Z'), tier: 'A', atRisk: false },
    });
    expect(parseCustomerListQuery({ asOf: '2025-02-30' }, now)).toEqual({ errors: [expect.objectContaining({ field: 'asOf' })] });
  });
});
