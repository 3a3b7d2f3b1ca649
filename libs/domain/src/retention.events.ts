import type { Tier } from './catalogue.js';
import type { Event } from './decider.js';

/**
 * A valuable (A or B) customer became at risk: a detractor answer, a badly handled call or a
 * complaint unresolved past its SLA. Raised once per risk episode, by the retention saga, in the
 * customer's `retention-<customerId>` stream; channel systems cannot send it.
 */
export type RetentionAlertRaised = Event<
  'retention.alert-raised.v1',
  {
    customerId: string;
    /** The customer's risk episodes count from 1; a new one begins only after the previous one ended. */
    episode: number;
    /** Stable id of the episode (a UUID derived from customerId and episode). */
    episodeId: string;
    /** Why, in the words of the customer 360 view: `detractor`, `negative phone moment`, `complaint <id> unresolved past its <severity> SLA`. */
    reasons: string[];
    tier: Tier;
    /** When the customer became at risk, as far as the events (or the SLA check's clock) tell. */
    raisedAt: string;
  }
>;

export type RetentionEvent = RetentionAlertRaised;
