import { channels, type MomentCatalogue, outcomes } from './catalogue.js';
import type { Command } from './decider.js';
import type { MomentEvent, MomentRecorded } from './moment.events.js';
import {
  id,
  oneOf,
  optionalBoolean,
  optionalMatch,
  optionalNonNegative,
  optionalNumber,
  optionalOneOf,
  optionalText,
  text,
  timestamp,
  validate,
  when,
} from './validation.js';

export type RecordMoment = Command<'RecordMoment', MomentRecorded['data']>;

const CURRENCY = /^[A-Z]{3}$/;

/**
 * Moments need no state: any customer, registered or not, can have one at any time, so they are
 * appended to the customer stream without reading it. The catalogue holds the company's kinds.
 */
export function recordMoment(command: RecordMoment, catalogue: MomentCatalogue): MomentEvent[] {
  const data = command.data;
  validate(
    text('momentId', data.momentId),
    id('customerId', data.customerId),
    oneOf('kind', data.kind, catalogue.kinds),
    oneOf('channel', data.channel, channels),
    optionalText('touchpoint', data.touchpoint),
    optionalOneOf('outcome', data.outcome, outcomes),
    optionalNonNegative('waitSeconds', data.waitSeconds),
    optionalNonNegative('expectedWaitSeconds', data.expectedWaitSeconds),
    optionalBoolean('waitExplained', data.waitExplained),
    optionalText('agentId', data.agentId),
    optionalText('area', data.area),
    optionalNumber('amount', data.amount),
    optionalMatch('currency', data.currency, CURRENCY, 'must be an ISO 4217 code of three capital letters, such as EUR'),
    when(data.amount !== undefined && data.currency === undefined, 'currency', 'is required when amount is given'),
    when(data.currency !== undefined && data.amount === undefined, 'amount', 'is required when currency is given'),
    optionalText('orderId', data.orderId),
    timestamp('occurredAt', data.occurredAt),
  );
  return [{ type: 'moment.recorded.v1', data }];
}
