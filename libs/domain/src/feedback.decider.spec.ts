import { statelessSpec } from './decider.testing.js';
import { DomainValidationError } from './domain.errors.js';
import { type SubmitFeedback, submitFeedback } from './feedback.decider.js';
import type { FeedbackSubmitted } from './feedback.events.js';

const feedbackSubmitted: FeedbackSubmitted = {
  type: 'feedback.submitted.v1',
  data: {
    customerId: 'cus-1',
    nps: 3,
    csat: 2,
    ces: 6,
    comment: 'enc:v1:k7:Y29tbWVudA',
    momentId: 'evt-7f3a',
    submittedAt: '2025-03-01T11:00:00Z',
  },
};

const submit = (data: Partial<SubmitFeedback['data']> = {}): SubmitFeedback => ({
  type: 'SubmitFeedback',
  data: { ...feedbackSubmitted.data, ...data },
});
const only = (scores: Pick<FeedbackSubmitted['data'], 'nps' | 'csat' | 'ces'>): SubmitFeedback => ({
  type: 'SubmitFeedback',
  data: { customerId: 'cus-1', submittedAt: '2025-03-01T11:00:00Z', ...scores },
});

const { when } = statelessSpec(submitFeedback);

describe('submitting feedback', () => {
  it('records an answer with every field', () => {
    when(submit()).then([feedbackSubmitted]);
  });

  const answers = [{ nps: 10 }, { csat: 5 }, { ces: 1 }, { nps: 0, ces: 7 }, { csat: 1, ces: 1 }];
  it.each(answers)('accepts any one measure or more: %j', (scores) => {
    const command = only(scores);
    when(command).then([{ type: 'feedback.submitted.v1', data: command.data }]);
  });

  it('requires at least one of nps, csat, ces, naming data', () => {
    when(only({})).thenThrows(DomainValidationError, { field: 'data', reason: 'must contain at least one of nps, csat, ces' });
  });
});

describe('submitting feedback: validation names the field', () => {
  it.each([
    ['nps', { nps: 11 }, 'must be an integer from 0 to 10'],
    ['nps', { nps: -1 }, 'must be an integer from 0 to 10'],
    ['nps', { nps: 7.5 }, 'must be an integer from 0 to 10'],
    ['nps', { nps: '9' as never }, 'must be an integer from 0 to 10'],
    ['csat', { csat: 0 }, 'must be an integer from 1 to 5'],
    ['csat', { csat: 6 }, 'must be an integer from 1 to 5'],
    ['ces', { ces: 0 }, 'must be an integer from 1 to 7'],
    ['ces', { ces: 8 }, 'must be an integer from 1 to 7'],
    ['customerId', { customerId: '' }, undefined],
    ['comment', { comment: '' }, undefined],
    ['momentId', { momentId: '' }, undefined],
    ['submittedAt', { submittedAt: 'today' }, undefined],
  ] as const)('a bad %s: %j', (field, data, reason) => {
    when(submit(data)).thenThrows(DomainValidationError, reason === undefined ? { field } : { field, reason });
  });
});
