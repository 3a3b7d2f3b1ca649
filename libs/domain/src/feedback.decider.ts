import type { Command } from './decider.js';
import type { FeedbackEvent, FeedbackSubmitted } from './feedback.events.js';
import { scoreRanges } from './satisfaction.metrics.js';
import { id, optionalIntegerIn, optionalText, timestamp, validate, when } from './validation.js';

export type SubmitFeedback = Command<'SubmitFeedback', FeedbackSubmitted['data']>;

/** Like moments, answers need no state and are appended to the customer stream without reading it. */
export function submitFeedback(command: SubmitFeedback): FeedbackEvent[] {
  const data = command.data;
  validate(
    id('customerId', data.customerId),
    optionalIntegerIn('nps', data.nps, scoreRanges.nps.min, scoreRanges.nps.max),
    optionalIntegerIn('csat', data.csat, scoreRanges.csat.min, scoreRanges.csat.max),
    optionalIntegerIn('ces', data.ces, scoreRanges.ces.min, scoreRanges.ces.max),
    when(
      data.nps === undefined && data.csat === undefined && data.ces === undefined,
      'data',
      'must contain at least one of nps, csat, ces',
    ),
    optionalText('comment', data.comment),
    optionalText('momentId', data.momentId),
    timestamp('submittedAt', data.submittedAt),
  );
  return [{ type: 'feedback.submitted.v1', data }];
}
