import type { Channel, MomentKind, Outcome } from './catalogue.js';
import type { Event } from './decider.js';

export type MomentRecorded = Event<
  'moment.recorded.v1',
  {
    /** The CloudEvents `id` the moment arrived with; feedback and complaints refer to it. */
    momentId: string;
    customerId: string;
    kind: MomentKind;
    channel: Channel;
    touchpoint?: string;
    outcome?: Outcome;
    waitSeconds?: number;
    /** The wait the customer was told to expect, if they were told. */
    expectedWaitSeconds?: number;
    waitExplained?: boolean;
    agentId?: string;
    area?: string;
    amount?: number;
    /** ISO 4217 code; present exactly when `amount` is. */
    currency?: string;
    orderId?: string;
    occurredAt: string;
  }
>;

export type MomentEvent = MomentRecorded;
