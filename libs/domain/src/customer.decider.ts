import { channels, defaultTier, type Tier, tiers } from './catalogue.js';
import type {
  CustomerRegistered,
  CustomerStreamEvent,
  CustomerTierChanged,
  CustomerUpdated,
} from './customer.events.js';
import { type Command, type Decider, unreachable } from './decider.js';
import { type Check, id, oneOf, optionalMatch, optionalOneOf, optionalText, text, timestamp, validate, when } from './validation.js';

/** `tier`, when given, sets the customer's tier as part of the registration. */
export type RegisterCustomer = Command<'RegisterCustomer', CustomerRegistered['data'] & { tier?: Tier }>;
/** Absent fields are left unchanged; `tier`, when given, sets the tier. */
export type UpdateCustomer = Command<'UpdateCustomer', CustomerUpdated['data'] & { tier?: Tier }>;
export type ChangeTier = Command<'ChangeTier', { customerId: string; tier: Tier; reason: string; changedAt: string }>;
export type CustomerCommand = RegisterCustomer | UpdateCustomer | ChangeTier;

/**
 * A customer exists from the first event of its stream, whatever it is: before registration it is
 * `unregistered` (moments, answers and tier changes are all allowed); registration adds the profile.
 * Every customer starts in tier C.
 */
export type CustomerState = { status: 'unregistered'; tier: Tier } | { status: 'registered'; tier: Tier };

export const TIER_REASON_ON_REGISTRATION = 'set on registration';
export const TIER_REASON_ON_UPDATE = 'set on profile update';

const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;
const profileFields = ['name', 'email', 'phone', 'preferredChannel', 'locale'] as const;

function profileChecks(data: Partial<CustomerRegistered['data']> & { tier?: unknown }): Check[] {
  return [
    id('customerId', data.customerId),
    optionalText('email', data.email),
    optionalText('phone', data.phone),
    optionalOneOf('preferredChannel', data.preferredChannel, channels),
    optionalMatch('locale', data.locale, LOCALE, 'must be a BCP 47 language tag, such as es-ES'),
    optionalOneOf('tier', data.tier, tiers),
  ];
}

function tierChange(
  state: CustomerState,
  customerId: string,
  to: Tier | undefined,
  reason: string,
  changedAt: string,
): CustomerTierChanged[] {
  if (to === undefined || to === state.tier) return [];
  return [{ type: 'customer.tier-changed.v1', data: { customerId, from: state.tier, to, reason, changedAt } }];
}

function decide(command: CustomerCommand, state: CustomerState): CustomerStreamEvent[] {
  switch (command.type) {
    case 'RegisterCustomer': {
      validate(...profileChecks(command.data), text('name', command.data.name), timestamp('registeredAt', command.data.registeredAt));
      const { tier, registeredAt, ...profile } = command.data;
      // Channel systems do not coordinate: a second registration is the latest word on the profile.
      const profileEvent: CustomerStreamEvent =
        state.status === 'registered'
          ? { type: 'customer.updated.v1', data: { ...profile, updatedAt: registeredAt } }
          : { type: 'customer.registered.v1', data: { ...profile, registeredAt } };
      return [profileEvent, ...tierChange(state, profile.customerId, tier, TIER_REASON_ON_REGISTRATION, registeredAt)];
    }
    case 'UpdateCustomer': {
      const { tier, updatedAt, ...changes } = command.data;
      const changesProfile = profileFields.some((field) => changes[field] !== undefined);
      validate(
        ...profileChecks(command.data),
        optionalText('name', changes.name),
        when(!changesProfile && tier === undefined, 'data', `must contain at least one of ${[...profileFields, 'tier'].join(', ')}`),
        timestamp('updatedAt', updatedAt),
      );
      return [
        ...(changesProfile ? [{ type: 'customer.updated.v1' as const, data: { ...changes, updatedAt } }] : []),
        ...tierChange(state, changes.customerId, tier, TIER_REASON_ON_UPDATE, updatedAt),
      ];
    }
    case 'ChangeTier': {
      const { customerId, tier, reason, changedAt } = command.data;
      validate(id('customerId', customerId), oneOf('tier', tier, tiers), text('reason', reason), timestamp('changedAt', changedAt));
      return tierChange(state, customerId, tier, reason, changedAt);
    }
    default:
      return unreachable(command);
  }
}

function evolve(state: CustomerState, event: CustomerStreamEvent): CustomerState {
  switch (event.type) {
    case 'customer.registered.v1':
      return { status: 'registered', tier: state.tier };
    case 'customer.tier-changed.v1':
      return { ...state, tier: event.data.to };
    case 'customer.updated.v1':
    case 'moment.recorded.v1':
    case 'feedback.submitted.v1':
      return state;
    default:
      return unreachable(event);
  }
}

export const customerDecider: Decider<CustomerCommand, CustomerState, CustomerStreamEvent> = {
  decide,
  evolve,
  initialState: { status: 'unregistered', tier: defaultTier },
};
