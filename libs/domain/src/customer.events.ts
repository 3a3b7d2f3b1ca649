import type { Channel, Tier } from './catalogue.js';
import type { Event } from './decider.js';
import type { FeedbackEvent } from './feedback.events.js';
import type { MomentEvent } from './moment.events.js';

/** Personal data as the domain sees it: already encrypted at the edge, opaque, never inspected. */
export type Sealed = string;

export type CustomerProfile = {
  name: Sealed;
  email?: Sealed;
  phone?: Sealed;
  preferredChannel?: Channel;
  /** BCP 47 language tag, such as `es-ES`. */
  locale?: string;
};

export type CustomerRegistered = Event<'customer.registered.v1', { customerId: string } & CustomerProfile & { registeredAt: string }>;

/** Only the fields that changed; absent fields keep their value. */
export type CustomerUpdated = Event<'customer.updated.v1', { customerId: string } & Partial<CustomerProfile> & { updatedAt: string }>;

export type CustomerTierChanged = Event<
  'customer.tier-changed.v1',
  { customerId: string; from: Tier; to: Tier; reason: string; changedAt: string }
>;

export type CustomerEvent = CustomerRegistered | CustomerUpdated | CustomerTierChanged;

/** Everything stored in a `customer-<id>` stream: moments and feedback belong to the customer too. */
export type CustomerStreamEvent = CustomerEvent | MomentEvent | FeedbackEvent;
