import { createMomentCatalogue, defaultMomentCatalogue } from './catalogue.js';
import { statelessSpec } from './decider.testing.js';
import { DomainValidationError } from './domain.errors.js';
import { type RecordMoment, recordMoment } from './moment.decider.js';
import type { MomentRecorded } from './moment.events.js';

const momentRecorded: MomentRecorded = {
  type: 'moment.recorded.v1',
  data: {
    momentId: 'evt-7f3a',
    customerId: 'cus-1',
    kind: 'billing',
    channel: 'branch',
    touchpoint: 'counter 3',
    outcome: 'negative',
    waitSeconds: 540,
    expectedWaitSeconds: 300,
    waitExplained: false,
    agentId: 'agent-12',
    area: 'billing',
    amount: 129.9,
    currency: 'EUR',
    orderId: 'ord-881',
    occurredAt: '2025-03-01T10:15:30.250+01:00',
  },
};
const minimal: MomentRecorded = {
  type: 'moment.recorded.v1',
  data: { momentId: 'evt-1', customerId: 'cus-1', kind: 'information', channel: 'chat', occurredAt: '2025-03-01T10:15:30Z' },
};

const record = (data: Partial<RecordMoment['data']> = {}, base: MomentRecorded = momentRecorded): RecordMoment => ({
  type: 'RecordMoment',
  data: { ...base.data, ...data },
});

const { when } = statelessSpec((command: RecordMoment) => recordMoment(command, defaultMomentCatalogue));

describe('recording a moment of truth', () => {
  it('records a moment with every field', () => {
    when(record()).then([momentRecorded]);
  });

  it('records a moment with only the required fields', () => {
    when(record({}, minimal)).then([minimal]);
  });

  it.each(['information', 'advice', 'order_received', 'hospitality', 'belongings_care', 'incident', 'billing', 'payment'])(
    'accepts the built-in kind %s',
    (kind) => {
      when(record({ kind }, minimal)).then([{ ...minimal, data: { ...minimal.data, kind } }]);
    },
  );

  it('accepts RFC 3339 times with an offset, fractions and a leap day', () => {
    for (const occurredAt of ['2024-02-29T23:59:59Z', '2025-03-01T10:15:30.123456-05:00', '2025-03-01t10:15:30z']) {
      when(record({ occurredAt }, minimal)).then([{ ...minimal, data: { ...minimal.data, occurredAt } }]);
    }
  });

  it('accepts a zero wait and a zero or negative amount (a refund)', () => {
    const refund = record({ waitSeconds: 0, amount: -20, currency: 'USD' });
    when(refund).then([{ type: 'moment.recorded.v1', data: refund.data }]);
  });

  it('rejects a kind the company has not configured, listing the known kinds', () => {
    when(record({ kind: 'delivery' })).thenThrows(DomainValidationError, {
      field: 'kind',
      reason: 'must be one of information, advice, order_received, hospitality, belongings_care, incident, billing, payment',
    });
  });

  it('accepts a configured extra kind, with no code change', () => {
    const catalogue = createMomentCatalogue(['delivery', 'installation']);
    const command = record({ kind: 'delivery' });
    expect(recordMoment(command, catalogue)).toEqual([{ type: 'moment.recorded.v1', data: command.data }]);
    expect(() => recordMoment(record({ kind: 'repair' }), catalogue)).toThrow(DomainValidationError);
  });
});

describe('recording a moment: validation names the field', () => {
  it.each([
    ['momentId', { momentId: '' }],
    ['customerId', { customerId: 'cus 1' }],
    ['kind', { kind: 'Billing' }],
    ['channel', { channel: 'telegram' as never }],
    ['touchpoint', { touchpoint: '' }],
    ['outcome', { outcome: 'bad' as never }],
    ['waitSeconds', { waitSeconds: -1 }],
    ['waitSeconds', { waitSeconds: Number.NaN }],
    ['expectedWaitSeconds', { expectedWaitSeconds: '300' as never }],
    ['waitExplained', { waitExplained: 'yes' as never }],
    ['agentId', { agentId: ' ' }],
    ['area', { area: '' }],
    ['amount', { amount: Number.POSITIVE_INFINITY }],
    ['currency', { currency: 'eur' }],
    ['currency', { currency: 'EURO' }],
    ['orderId', { orderId: '' }],
    ['occurredAt', { occurredAt: '2025-03-01' }],
    ['occurredAt', { occurredAt: '2025-03-01T10:00:00Z junk' }],
    ['occurredAt', { occurredAt: '2025-02-29T10:00:00Z' }],
    ['occurredAt', { occurredAt: '2025-03-01T10:00:00' }],
    ['occurredAt', { occurredAt: 1740823200000 as never }],
  ] as const)('a bad %s: %j', (field, data) => {
    when(record(data)).thenThrows(DomainValidationError, { field, issues: [expect.objectContaining({ field })] });
  });

  it('requires a currency with an amount', () => {
    when(record({ amount: 10, currency: undefined })).thenThrows(DomainValidationError, {
      field: 'currency',
      reason: 'is required when amount is given',
    });
  });

  it('requires an amount with a currency', () => {
    when(record({ amount: undefined, currency: 'EUR' })).thenThrows(DomainValidationError, {
      field: 'amount',
      reason: 'is required when currency is given',
    });
  });

  it('lists every bad field at once, in field order', () => {
    const error = when(record({ kind: 'x', channel: 'x' as never, occurredAt: 'x' })).thenThrows(DomainValidationError);
    expect(error.issues.map((issue) => issue.field)).toEqual(['kind', 'channel', 'occurredAt']);
    expect(error.message).toContain('channel must be one of in_person, branch, sales_visit, phone');
  });
});
