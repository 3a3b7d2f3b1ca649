import {
  type ChangeTier,
  customerDecider,
  type RegisterCustomer,
  TIER_REASON_ON_REGISTRATION,
  TIER_REASON_ON_UPDATE,
  type UpdateCustomer,
} from './customer.decider.js';
import type { CustomerRegistered, CustomerTierChanged, CustomerUpdated } from './customer.events.js';
import { deciderSpec } from './decider.testing.js';
import { DomainValidationError } from './domain.errors.js';
import type { FeedbackSubmitted } from './feedback.events.js';
import type { MomentRecorded } from './moment.events.js';

const { given } = deciderSpec(customerDecider);

const customerId = 'cus-1';
// PII arrives sealed by the edge; the domain only carries the opaque strings.
const sealedName = 'enc:v1:k7:bmFtZQ';
const sealedEmail = 'enc:v1:k7:ZW1haWw';
const sealedPhone = 'enc:v1:k7:cGhvbmU';

const customerRegistered: CustomerRegistered = {
  type: 'customer.registered.v1',
  data: {
    customerId,
    name: sealedName,
    email: sealedEmail,
    phone: sealedPhone,
    preferredChannel: 'email',
    locale: 'es-ES',
    registeredAt: '2025-02-01T09:00:00Z',
  },
};
const momentRecorded: MomentRecorded = {
  type: 'moment.recorded.v1',
  data: { momentId: 'evt-1', customerId, kind: 'information', channel: 'phone', occurredAt: '2025-01-15T12:00:00Z' },
};
const feedbackSubmitted: FeedbackSubmitted = {
  type: 'feedback.submitted.v1',
  data: { customerId, nps: 9, submittedAt: '2025-01-15T12:05:00Z' },
};
const tierChanged = (from: 'A' | 'B' | 'C', to: 'A' | 'B' | 'C', reason: string, changedAt: string): CustomerTierChanged => ({
  type: 'customer.tier-changed.v1',
  data: { customerId, from, to, reason, changedAt },
});

const register = (data: Partial<RegisterCustomer['data']> = {}): RegisterCustomer => ({
  type: 'RegisterCustomer',
  data: { ...customerRegistered.data, ...data },
});
const update = (data: Omit<Partial<UpdateCustomer['data']>, 'customerId'>): UpdateCustomer => ({
  type: 'UpdateCustomer',
  data: { customerId, updatedAt: '2025-02-10T09:00:00Z', ...data },
});
const changeTier = (tier: ChangeTier['data']['tier'], reason = 'yearly value review', changedAt = '2025-03-01T00:00:00Z'): ChangeTier => ({
  type: 'ChangeTier',
  data: { customerId, tier, reason, changedAt },
});

describe('customer decider: registration', () => {
  it('registers a customer with no history', () => {
    given().when(register()).then([customerRegistered]);
  });

  it('registers a customer who already exists through moments and answers, adding the profile', () => {
    given(momentRecorded, feedbackSubmitted).when(register()).then([customerRegistered]);
  });

  it('registers with only the name', () => {
    const data = { customerId, name: sealedName, registeredAt: '2025-02-01T09:00:00Z' };
    given().when({ type: 'RegisterCustomer', data }).then([{ type: 'customer.registered.v1', data }]);
  });

  it('sets the tier given on registration with a tier change from C', () => {
    given()
      .when(register({ tier: 'A' }))
      .then([customerRegistered, tierChanged('C', 'A', TIER_REASON_ON_REGISTRATION, '2025-02-01T09:00:00Z')]);
  });

  it('emits no tier change when registration names the tier the customer already has', () => {
    given().when(register({ tier: 'C' })).then([customerRegistered]);
  });

  it('records a second registration as a profile update, not as a second registration', () => {
    const second = register({ email: 'enc:v1:k7:bmV3', registeredAt: '2025-02-20T09:00:00Z' });
    const { registeredAt: _at, ...profile } = second.data;
    given(customerRegistered)
      .when(second)
      .then([{ type: 'customer.updated.v1', data: { ...profile, updatedAt: '2025-02-20T09:00:00Z' } }]);
  });

  it('compares the tier of a second registration with the current tier', () => {
    const { registeredAt: _at, ...profile } = customerRegistered.data;
    const updated: CustomerUpdated = { type: 'customer.updated.v1', data: { ...profile, updatedAt: '2025-02-20T09:00:00Z' } };
    const promoted = tierChanged('C', 'B', 'review', '2025-02-02T00:00:00Z');
    given(customerRegistered, promoted)
      .when(register({ tier: 'B', registeredAt: '2025-02-20T09:00:00Z' }))
      .then([updated]);
    given(customerRegistered, promoted)
      .when(register({ tier: 'A', registeredAt: '2025-02-20T09:00:00Z' }))
      .then([updated, tierChanged('B', 'A', TIER_REASON_ON_REGISTRATION, '2025-02-20T09:00:00Z')]);
  });
});

describe('customer decider: profile updates', () => {
  it('updates only the fields given', () => {
    const expected: CustomerUpdated = {
      type: 'customer.updated.v1',
      data: { customerId, phone: 'enc:v1:k7:bmV3cGhvbmU', locale: 'ca-ES', updatedAt: '2025-02-10T09:00:00Z' },
    };
    given(customerRegistered)
      .when(update({ phone: 'enc:v1:k7:bmV3cGhvbmU', locale: 'ca-ES' }))
      .then([expected]);
  });

  it('accepts an update before registration: the customer exists from its first event', () => {
    given(momentRecorded)
      .when(update({ preferredChannel: 'phone' }))
      .then([{ type: 'customer.updated.v1', data: { customerId, preferredChannel: 'phone', updatedAt: '2025-02-10T09:00:00Z' } }]);
  });

  it('updates the profile and the tier together', () => {
    given(customerRegistered)
      .when(update({ name: 'enc:v1:k7:b3Rybw', tier: 'B' }))
      .then([
        { type: 'customer.updated.v1', data: { customerId, name: 'enc:v1:k7:b3Rybw', updatedAt: '2025-02-10T09:00:00Z' } },
        tierChanged('C', 'B', TIER_REASON_ON_UPDATE, '2025-02-10T09:00:00Z'),
      ]);
  });

  it('changes only the tier when the update carries only a tier', () => {
    given(customerRegistered)
      .when(update({ tier: 'A' }))
      .then([tierChanged('C', 'A', TIER_REASON_ON_UPDATE, '2025-02-10T09:00:00Z')]);
  });

  it('produces nothing for an update that carries only the current tier', () => {
    given(customerRegistered).when(update({ tier: 'C' })).then([]);
  });

  it('rejects an update with no field to change, naming data', () => {
    given(customerRegistered).when(update({})).thenThrows(DomainValidationError, { field: 'data' });
  });
});

describe('customer decider: tier changes', () => {
  it('moves a customer up the pyramid, from the default tier C', () => {
    given(customerRegistered).when(changeTier('B')).then([tierChanged('C', 'B', 'yearly value review', '2025-03-01T00:00:00Z')]);
  });

  it('changes the tier of a customer not yet registered', () => {
    given().when(changeTier('A')).then([tierChanged('C', 'A', 'yearly value review', '2025-03-01T00:00:00Z')]);
  });

  it('takes the from tier from the stream', () => {
    given(customerRegistered, tierChanged('C', 'A', 'vip', '2025-02-15T00:00:00Z'))
      .when(changeTier('B', 'spend dropped'))
      .then([tierChanged('A', 'B', 'spend dropped', '2025-03-01T00:00:00Z')]);
  });

  it('produces no event for a change to the same tier', () => {
    given(customerRegistered).when(changeTier('C')).then([]);
    given(tierChanged('C', 'A', 'vip', '2025-02-15T00:00:00Z')).when(changeTier('A')).then([]);
  });
});

describe('customer decider: state', () => {
  it('starts unregistered in tier C', () => {
    given().thenState({ status: 'unregistered', tier: 'C' });
  });

  it('stays unregistered through moments and answers', () => {
    given(momentRecorded, feedbackSubmitted).thenState({ status: 'unregistered', tier: 'C' });
  });

  it('is registered after registration, keeping the tier', () => {
    given(tierChanged('C', 'A', 'vip', '2025-01-01T00:00:00Z'), customerRegistered).thenState({ status: 'registered', tier: 'A' });
  });

  it('follows tier changes and ignores profile updates', () => {
    const updated: CustomerUpdated = { type: 'customer.updated.v1', data: { customerId, locale: 'en', updatedAt: '2025-02-03T00:00:00Z' } };
    given(customerRegistered, tierChanged('C', 'B', 'r', '2025-02-02T00:00:00Z'), updated).thenState({ status: 'registered', tier: 'B' });
  });

  it('rejects an event type it does not know', () => {
    expect(() => customerDecider.evolve(customerDecider.initialState, { type: 'customer.merged.v1', data: {} } as never)).toThrow(
      'customer.merged.v1',
    );
  });
});

describe('customer decider: validation names the field', () => {
  it.each([
    ['customerId', register({ customerId: 'a b' })],
    ['name', register({ name: '' })],
    ['email', register({ email: '' })],
    ['phone', register({ phone: '' })],
    ['preferredChannel', register({ preferredChannel: 'pigeon' as never })],
    ['locale', register({ locale: 'Spanish' })],
    ['tier', register({ tier: 'D' as never })],
    ['registeredAt', register({ registeredAt: '01/02/2025' })],
    ['name', update({ name: ' ' })],
    ['locale', update({ locale: 'es_ES' })],
    ['updatedAt', update({ locale: 'es', updatedAt: '' })],
    ['tier', update({ tier: 'a' as never })],
    ['tier', changeTier('Z' as never)],
    ['reason', changeTier('A', '')],
    ['changedAt', changeTier('A', 'vip', 'now')],
  ] as const)('a bad %s', (field, command) => {
    given().when(command).thenThrows(DomainValidationError, { field });
  });

  it('lists every bad field at once', () => {
    const error = given()
      .when(register({ customerId: '', name: '', registeredAt: '' }))
      .thenThrows(DomainValidationError);
    expect(error.issues.map((issue) => issue.field).sort()).toEqual(['customerId', 'name', 'registeredAt']);
  });
});
