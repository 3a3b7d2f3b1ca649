import type { Sealed } from './customer.events.js';
import type { Event } from './decider.js';

export type FeedbackSubmitted = Event<
  'feedback.submitted.v1',
  {
    customerId: string;
    /** 0-10. At least one of nps, csat, ces is present. */
    nps?: number;
    /** 1-5. */
    csat?: number;
    /** 1-7, lower is less effort. */
    ces?: number;
    comment?: Sealed;
    /** The `momentId` of the moment this answer rates. */
    momentId?: string;
    submittedAt: string;
  }
>;

export type FeedbackEvent = FeedbackSubmitted;
