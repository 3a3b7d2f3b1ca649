import { builtInMomentKinds, channelGroups, channels, severities, tiers } from '@cx/domain';
import { MAX_BODY_BYTES } from '../http-setup.js';
import { queryExamples } from './openapi.query-examples.js';
import {
  correlationHeader,
  type DocumentPart,
  forbidden,
  json,
  type JsonSchema,
  needs,
  nullable,
  type OperationObject,
  type ParameterObject,
  position,
  ref,
  type Reference,
  type ResponseObject,
  schemaRef,
} from './openapi.types.js';

// ---------------------------------------------------------------------------------------------
// The query and ops API: the read models (customer 360, journey, satisfaction, complaint funnel,
// change impact, retention), the projections' progress and the metrics. Written from the
// controllers and query parsers of @cx/projections; openapi.spec.ts keeps the limits, scopes and
// read models equal to the code's, openapi.e2e-spec.ts asks the running app for every example.
// ---------------------------------------------------------------------------------------------

/** The limits the query parsers enforce (openapi.spec.ts compares each with the code's constant). */
export const queryLimits = {
  customersDefaultLimit: 50,
  customersMaxLimit: 500,
  journeyDefaultLimit: 100,
  journeyMaxLimit: 1000,
  windowDefaultDays: 30,
  windowMaxDays: 731,
  impactDefaultWindowDays: 30,
  impactMaxWindowDays: 365,
  episodesDefaultLimit: 100,
  episodesMaxLimit: 500,
  minPositionWaitSeconds: 5,
} as const;

export const satisfactionIntervals = ['day', 'week', 'month'] as const;
export const satisfactionGroupFields = ['kind', 'channel', 'channelGroup', 'area'] as const;
export const funnelGroupFields = ['category', 'channel', 'area'] as const;
export const funnelStageNames = ['filed', 'acknowledged', 'routed', 'resolved', 'confirmed'] as const;
export const projectionStatuses = ['starting', 'running', 'standby', 'failed', 'stopped', 'rebuilding'] as const;
export const rebuildPhases = ['waiting', 'building', 'indexing', 'catching-up', 'switching'] as const;
/** Stages of a complaint still open in the customer 360 view (`closed` ones leave it). */
const openComplaintStages = ['filed', 'acknowledged', 'routed', 'resolved', 'confirmed'] as const;

const L = queryLimits;
const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$';
const INSTANT_FORMS = 'an RFC 3339 date-time with its offset (`2025-03-14T10:22:05Z`, `2025-03-14T11:22:05+01:00`) or a date (`2025-03-14`, midnight UTC)';

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

const minPositionRule = `Read-your-writes: a log \`position\` an ingest call (or \`POST /v1/changes\`, the tier job) returned. The query waits, up to ${L.minPositionWaitSeconds} s, until every read model the route reads has folded the log that far; otherwise \`503\` with \`Retry-After: 1\`. Without it the query answers at once from what the read models hold. 1-19 digits, else \`400\`.`;

const parameters: Record<string, ParameterObject> = {
  minPosition: {
    name: 'minPosition',
    in: 'query',
    description: `${minPositionRule} Wins over the X-Cx-Min-Position header.`,
    schema: { type: 'string', pattern: '^[0-9]{1,19}$' },
    example: '48227',
  },
  'X-Cx-Min-Position': {
    name: 'X-Cx-Min-Position',
    in: 'header',
    description: `The same as the \`minPosition\` query parameter, as a header (used when the parameter is absent).`,
    schema: { type: 'string', pattern: '^[0-9]{1,19}$' },
    example: '48227',
  },
  customerId: {
    name: 'id',
    in: 'path',
    required: true,
    description: 'The customer id: the `subject` of the CloudEvents about the customer.',
    schema: { type: 'string', examples: ['cust-10482'] },
  },
  asOf: {
    name: 'asOf',
    in: 'query',
    description: `The instant the SLA rule of \`atRisk\` is evaluated at (a complaint unresolved past its severity's SLA puts an A or B customer at risk): ${INSTANT_FORMS}. Default: now.`,
    schema: { type: 'string' },
    example: '2025-03-26T00:00:00Z',
  },
  windowFrom: {
    name: 'from',
    in: 'query',
    description: `Start of the window, inclusive: ${INSTANT_FORMS}. Default: ${L.windowDefaultDays} days before \`to\`.`,
    schema: { type: 'string' },
    example: '2025-03-01',
  },
  windowTo: {
    name: 'to',
    in: 'query',
    description: `End of the window, exclusive, same forms. Default: now. Must be after \`from\`; the window spans at most ${L.windowMaxDays} days.`,
    schema: { type: 'string' },
    example: '2025-04-01',
  },
};

const readsParameters = [ref('parameters', 'minPosition'), ref('parameters', 'X-Cx-Min-Position')];

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

const dateTime = (description: string): JsonSchema => ({ type: 'string', format: 'date-time', description });
const nullableDateTime = (description: string): JsonSchema => ({ type: ['string', 'null'], format: 'date-time', description });
const count = (description?: string): JsonSchema => ({ type: 'integer', minimum: 0, ...(description ? { description } : {}) });
const nullableNumber = (description: string, range?: { minimum?: number; maximum?: number }): JsonSchema => ({ type: ['number', 'null'], ...range, description });
const share = (description: string): JsonSchema => nullableNumber(`${description} A fraction 0..1, 4 decimals.`, { minimum: 0, maximum: 1 });
const percent = (description: string): JsonSchema => nullableNumber(`${description} In percent, 1 decimal; null without answers.`, { minimum: 0, maximum: 100 });
const object = (properties: Record<string, JsonSchema>, extra: Partial<JsonSchema> = {}): JsonSchema => ({
  type: 'object',
  required: Object.keys(properties),
  properties,
  ...extra,
});

const channelName: JsonSchema = { type: 'string', enum: [...channels] };
const channelGroupName: JsonSchema = { type: 'string', enum: [...channelGroups] };
const window = (description: string): JsonSchema => object({ from: dateTime('Inclusive.'), to: dateTime('Exclusive.') }, { description });

const schemas: Record<string, JsonSchema> = {
  NotFound: {
    type: 'object',
    description: 'The id names nothing the read model knows.',
    required: ['status', 'errors'],
    properties: { status: { type: 'string', const: 'not_found' }, errors: { type: 'array', minItems: 1, items: schemaRef('FieldError') } },
  },
  Unavailable: {
    type: 'object',
    description: 'The read models the route reads are behind: retry after `Retry-After` seconds.',
    required: ['status', 'errors'],
    properties: { status: { type: 'string', const: 'unavailable' }, errors: { type: 'array', minItems: 1, items: schemaRef('FieldError') } },
  },

  // Customer 360
  SatisfactionTrend: object(
    {
      recentMean: { type: 'number', description: 'Mean of the last 3 answers, 2 decimals.' },
      previousMean: { type: 'number', description: 'Mean of the (up to) 3 answers before them, 2 decimals.' },
      change: { type: 'number', description: '`recentMean - previousMean` in the measure\'s own scale, 2 decimals.' },
      direction: {
        type: 'string',
        enum: ['improving', 'worsening', 'flat'],
        description: 'A change smaller than 5% of the scale (NPS 0.5, CSAT 0.2, CES 0.3) is flat; for CES, lower is better.',
      },
    },
    { description: 'The last 3 answers against the 3 before; null with fewer than 4 answers.' },
  ),
  MeasureView: object({
    latest: { type: ['integer', 'null'], description: 'The latest answer; null when the customer never answered this measure.' },
    latestAt: nullableDateTime('When the latest answer was submitted.'),
    answers: count('Answers in all.'),
    trend: nullable(schemaRef('SatisfactionTrend')),
  }),
  OpenComplaint: object({
    complaintId: { type: 'string' },
    stage: { type: 'string', enum: [...openComplaintStages], description: 'Where it is in the complaint process; closed complaints are not listed.' },
    severity: { type: 'string', enum: [...severities] },
    category: { type: 'string' },
    channel: channelName,
    area: { type: ['string', 'null'], description: 'The area it was routed to; null before routing.' },
    filedAt: dateTime('When it was filed.'),
    dueAt: nullableDateTime('`filedAt` + the SLA of its severity (critical 24 h, high 72 h, medium 7 days, low 14 days).'),
    pastSla: { type: 'boolean', description: 'Unresolved (filed, acknowledged or routed) and past `dueAt` at `asOf`.' },
    reopened: count('Times the customer reopened it.'),
  }),
  CustomerView: object(
    {
      customerId: { type: 'string', examples: ['cust-10482'] },
      profile: object(
        {
          name: { type: ['string', 'null'], 'x-pii': true, description: 'Decrypted; null when never sent or erased.' },
          email: { type: ['string', 'null'], 'x-pii': true, description: 'Decrypted; null when never sent or erased.' },
          phone: { type: ['string', 'null'], 'x-pii': true, description: 'Decrypted; null when never sent or erased.' },
          locale: { type: ['string', 'null'] },
          declaredPreferredChannel: { type: ['string', 'null'], description: 'The channel the customer said they prefer (`preferredChannel` of the profile), as opposed to `preferredChannel` below, derived from what they do.' },
          registeredAt: nullableDateTime('When the customer was registered; null for a customer known only from other events.'),
          updatedAt: nullableDateTime('The last profile update.'),
          erased: { type: 'array', items: { type: 'string', enum: ['name', 'email', 'phone'] }, description: 'Personal fields that are null because the customer\'s data was erased.' },
        },
        { description: 'The profile, personal data decrypted for the reader.' },
      ),
      tier: { type: 'string', enum: [...tiers], description: 'The ABC pyramid: A = VIP, B = active/medium, C = the rest.' },
      tierChangedAt: nullableDateTime('When the tier last changed.'),
      preferredChannel: { type: ['string', 'null'], description: 'Derived from history: the channel with the most moments and complaints (ties: the most recent); null without contacts.' },
      lastContactAt: nullableDateTime('The latest moment, answer or complaint.'),
      moments: object({
        total: count(),
        byChannelGroup: object(Object.fromEntries(channelGroups.map((group) => [group, count()]))),
      }),
      channels: {
        type: 'array',
        description: 'Every channel the customer used, in the order the preference is derived (most contacts first).',
        items: object({ channel: channelName, channelGroup: nullable(channelGroupName), moments: count(), complaints: count(), lastContactAt: dateTime('The latest contact on it.') }),
      },
      satisfaction: object({ nps: schemaRef('MeasureView'), csat: schemaRef('MeasureView'), ces: schemaRef('MeasureView') }),
      complaintsFiled: count('Complaints filed in all.'),
      openComplaints: object({ count: count(), items: { type: 'array', description: 'Oldest first.', items: schemaRef('OpenComplaint') } }),
      value: object(
        {
          amount: nullableNumber('The sum of `amount` over moments of kind `payment`, when all are in one currency; null with none or with several (no exchange rates).'),
          currency: { type: ['string', 'null'], description: 'That currency (ISO 4217); null with none or several.' },
          payments: count('Payments in all.'),
          byCurrency: { type: 'object', propertyNames: { pattern: '^[A-Z]{3}$' }, additionalProperties: { type: 'number' }, description: 'Each currency\'s sum.' },
        },
        { description: 'The value the customer brought: the base of the ABC tiers.' },
      ),
      atRisk: { type: 'boolean', description: 'Whether `riskReasons` is not empty.' },
      riskReasons: {
        type: 'array',
        items: { type: 'string' },
        description:
          'Only A and B customers are watched: `detractor` (the latest NPS answer 0-6), `negative phone moment` (the latest phone moment with an outcome went badly), both within 30 days of the latest contact; and `complaint <id> unresolved past its <severity> SLA` at `asOf`.',
        examples: [['detractor', 'negative phone moment', 'complaint CMP-2025-0142 unresolved past its high SLA']],
      },
      asOf: dateTime('The instant the SLA rule was evaluated at.'),
      position: position('The log position of the last event folded into this customer.'),
    },
    { description: 'The 360-degree view of a customer (read model `customer360`).' },
  ),
  CustomerPage: object({
    customers: { type: 'array', items: schemaRef('CustomerView') },
    nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page. Opaque.' },
    asOf: dateTime('The instant the SLA rule was evaluated at.'),
  }),

  // Journey
  JourneyEvent: object({
    position: position('Log position: the order of the journey.'),
    type: { type: 'string', description: 'The public CloudEvents type (`cx.moment.recorded`; `cx.customer.tier-changed`, `cx.retention.alert-raised` for events the platform appends); the stored type for a type without one.' },
    storedType: { type: 'string', description: 'The stored, versioned type.', examples: ['moment.recorded.v1'] },
    time: dateTime('Business time: when it happened (`occurredAt`, `submittedAt`, `filedAt`…).'),
    recordedAt: dateTime('When the store recorded it.'),
    streamId: { type: 'string', examples: ['complaint-CMP-2025-0142'] },
    streamVersion: count(),
    data: { type: 'object', description: 'The stored data, personal fields decrypted: `name`, `email`, `phone` (customer registered/updated), `comment` (feedback), `description` (complaint filed).' },
    erased: { type: 'array', items: { type: 'string' }, description: 'Personal fields that are null in `data` because the customer\'s data was erased.' },
    correlationId: { type: ['string', 'null'], description: 'The correlation id of the request that sent it.' },
  }),
  JourneyPage: object(
    {
      customerId: { type: 'string' },
      events: { type: 'array', items: schemaRef('JourneyEvent') },
      nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` (with the same `from`/`to`) for the next page; null on the last page. Opaque.' },
    },
    { additionalProperties: false, description: 'Without `asOf`: the events from the read model `journey`.' },
  ),
  StateChange: {
    oneOf: [
      object({ kind: { type: 'string', const: 'tier' }, from: { type: 'string', enum: [...tiers] }, to: { type: 'string', enum: [...tiers] } }, { description: 'The ABC tier moved.' }),
      object(
        {
          kind: { type: 'string', const: 'complaint' },
          complaintId: { type: 'string' },
          from: { type: ['string', 'null'], enum: [...openComplaintStages, null], description: 'null: just filed.' },
          to: { type: 'string', enum: [...openComplaintStages, 'closed'], description: '`closed`: it left the open complaints.' },
        },
        { description: 'A complaint moved through the complaint process.' },
      ),
      object(
        {
          kind: { type: 'string', const: 'risk' },
          from: { type: 'array', items: { type: 'string' } },
          to: { type: 'array', items: { type: 'string' }, description: 'Empty: no longer at risk.' },
        },
        { description: 'The at-risk reasons changed, evaluated when the event was recorded.' },
      ),
    ],
    discriminator: { propertyName: 'kind' },
    description: 'What one event changed in the customer\'s state.',
  },
  ReplayedEvent: {
    allOf: [
      schemaRef('JourneyEvent'),
      object({ changes: { type: 'array', items: schemaRef('StateChange'), description: 'What this event changed: tier, complaint stages, at-risk reasons; empty when nothing of those.' } }),
    ],
  },
  CustomerStateAsOf: {
    allOf: [
      schemaRef('CustomerView'),
      object({ events: count('How many of the customer\'s events were folded.') }),
    ],
    description: 'The customer as of the point asked for, in the shape of the 360-degree view (`position` "0" when no event was known yet; `asOf` is the instant the SLA rule was evaluated at: the time asked for, or when the log reached the position).',
  },
  JourneyReplay: object(
    {
      customerId: { type: 'string' },
      asOf: {
        oneOf: [object({ position: position('The log position asked for.') }), object({ time: dateTime('The instant asked for.') })],
        description: 'The point asked for.',
      },
      events: { type: 'array', items: schemaRef('ReplayedEvent'), description: 'The events known then (and within `from`/`to`), in log order.' },
      nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` (with the same `asOf`, `from`, `to`) for the next page; null on the last page.' },
      state: { ...schemaRef('CustomerStateAsOf'), description: 'Folded from every event known then, not only this page\'s.' },
    },
    { description: 'With `asOf`: a replay from the event log itself, not from a read model.' },
  ),

  // Satisfaction
  SatisfactionRow: {
    type: 'object',
    required: [
      'bucket', 'responses', 'promoters', 'passives', 'detractors', 'nps', 'csatResponses', 'csatPct', 'cesResponses', 'cesMean', 'cesLowEffortPct', 'moments', 'waitP50', 'waitP90', 'waitExplainedPct',
    ],
    properties: {
      bucket: dateTime('Start of the UTC day, ISO week (Monday) or month.'),
      kind: { type: ['string', 'null'], description: 'With groupBy=kind: the moment kind (of the moment an answer rates); null for answers that rate no known moment.' },
      channel: { type: ['string', 'null'], description: 'With groupBy=channel.' },
      channelGroup: { type: ['string', 'null'], description: 'With groupBy=channelGroup.' },
      area: { type: ['string', 'null'], description: 'With groupBy=area.' },
      responses: count('NPS answers.'),
      promoters: count('NPS 9-10.'),
      passives: count('NPS 7-8.'),
      detractors: count('NPS 0-6.'),
      nps: nullableNumber('%promoters - %detractors, 1 decimal; null without NPS answers.', { minimum: -100, maximum: 100 }),
      csatResponses: count(),
      csatPct: percent('Share of CSAT answers of 4-5.'),
      cesResponses: count(),
      cesMean: nullableNumber('Mean CES (1-7, lower is less effort), 2 decimals.', { minimum: 1, maximum: 7 }),
      cesLowEffortPct: percent('Share of CES answers of 1-3.'),
      moments: count('Moments of truth.'),
      waitP50: nullableNumber('Median `waitSeconds` of the moments that recorded a wait, 1 decimal.', { minimum: 0 }),
      waitP90: nullableNumber('90th percentile of `waitSeconds`, 1 decimal.', { minimum: 0 }),
      waitExplainedPct: percent('Among moments that waited and said whether the wait was explained: the share explained.'),
    },
    description: 'One time bucket (and group). Answers count in the bucket of their `submittedAt`, moments in that of their `occurredAt`; only buckets and groups with an answer or a moment appear.',
  },
  SatisfactionReport: object({
    from: dateTime('The window, as applied.'),
    to: dateTime('The window, as applied.'),
    interval: { type: 'string', enum: [...satisfactionIntervals] },
    groupBy: { type: 'array', items: { type: 'string', enum: [...satisfactionGroupFields] } },
    rows: { type: 'array', description: 'By bucket, then by the group fields (null last).', items: schemaRef('SatisfactionRow') },
  }),

  // Complaint funnel
  FunnelStage: object({
    stage: { type: 'string', enum: [...funnelStageNames] },
    count: count('Complaints filed in the window that reached this stage (by now).'),
    conversionFromPrevious: share('count / count of the previous stage; null for `filed` and after an empty stage.'),
    conversionFromFiled: share('count / filed; null when nothing was filed.'),
    medianSecondsFromFiling: nullableNumber('Median seconds from filing to the first time at this stage, 1 decimal; null for `filed` and when none reached it.', { minimum: 0 }),
  }),
  Reopened: object(
    { complaints: count('Complaints of the cohort reopened at least once.'), events: count('Reopenings of those complaints in all.') },
    { description: 'Reopenings: the customer did not accept the resolution.' },
  ),
  SilentDissatisfaction: object(
    {
      customers: count('Customers with a detractor answer (NPS 0-6), a CSAT of 1-2 or a negative moment in the window, who filed no complaint in it.'),
      reasons: object({ detractor: count(), lowCsat: count(), negativeMoment: count() }, { description: 'Per reason; one customer can have several.' }),
      dissatisfiedCustomers: count('Customers with any of those signals, silent or not.'),
      complainedCustomers: count('Of those, the ones who filed a complaint in the window.'),
      silentShare: share('customers / dissatisfiedCustomers; null when nobody was dissatisfied.'),
    },
    { description: 'The dissatisfied who did not complain: for the whole window, never per group.' },
  ),
  ComplaintFunnel: object(
    {
      from: dateTime('The window, as applied.'),
      to: dateTime('The window, as applied.'),
      groupBy: { type: 'null' },
      stages: { type: 'array', minItems: 5, maxItems: 5, items: schemaRef('FunnelStage'), description: `In order: ${funnelStageNames.join(', ')}.` },
      reopened: schemaRef('Reopened'),
      silentDissatisfaction: schemaRef('SilentDissatisfaction'),
    },
    { description: 'Without groupBy: one funnel of the complaints filed in the window.' },
  ),
  GroupedComplaintFunnel: object(
    {
      from: dateTime('The window, as applied.'),
      to: dateTime('The window, as applied.'),
      groupBy: { type: 'string', enum: [...funnelGroupFields] },
      funnels: {
        type: 'array',
        description: 'One per value of the groupBy field, the largest first; complaints never routed in one last group with `"area": null`.',
        items: {
          type: 'object',
          required: ['stages', 'reopened'],
          properties: {
            category: { type: ['string', 'null'], description: 'With groupBy=category.' },
            channel: { type: ['string', 'null'], description: 'With groupBy=channel: where it was filed.' },
            area: { type: ['string', 'null'], description: 'With groupBy=area.' },
            stages: { type: 'array', minItems: 5, maxItems: 5, items: schemaRef('FunnelStage') },
            reopened: schemaRef('Reopened'),
          },
        },
      },
      silentDissatisfaction: schemaRef('SilentDissatisfaction'),
    },
    { description: 'With groupBy: one funnel per value.' },
  ),

  // Change impact
  ChangeRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'effectiveAt'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S', description: 'What changed.' },
      effectiveAt: { type: 'string', format: 'date-time', description: 'RFC 3339 with an offset: when it took effect. Stored in UTC.' },
      kinds: {
        type: 'array',
        minItems: 1,
        maxItems: 100,
        uniqueItems: true,
        items: { type: 'string', examples: [...builtInMomentKinds] },
        description: 'Moment kinds it touches, each built in or configured (CX_MOMENT_KINDS). Absent: every kind.',
      },
      channels: { type: 'array', minItems: 1, uniqueItems: true, items: channelName, description: 'Channels it touches. Absent: every channel.' },
      description: { type: 'string', maxLength: 4000 },
    },
  },
  ChangeRecorded: object({
    id: { type: 'string', format: 'uuid', description: 'The change: `GET /v1/changes/{id}/impact`.' },
    name: { type: 'string' },
    effectiveAt: dateTime('In UTC.'),
    kinds: { type: ['array', 'null'], items: { type: 'string' }, description: 'null: every kind.' },
    channels: { type: ['array', 'null'], items: channelName, description: 'null: every channel.' },
    description: { type: ['string', 'null'] },
    position: position('The log position of its `change.recorded.v1`: pass it as `minPosition` to read the impact at once.'),
  }),
  Change: object({
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    effectiveAt: dateTime('In UTC.'),
    kinds: { type: ['array', 'null'], items: { type: 'string' }, description: 'null: every kind.' },
    channels: { type: ['array', 'null'], items: channelName, description: 'null: every channel.' },
    description: { type: ['string', 'null'] },
    recordedAt: dateTime('When the store recorded it.'),
  }),
  Comparison: object(
    {
      before: nullableNumber('The measure before; null without answers.'),
      after: nullableNumber('The measure after; null without answers.'),
      nBefore: count('Answers before.'),
      nAfter: count('Answers after.'),
      difference: nullableNumber('after - before; null unless both sides have answers.'),
      ci95: nullable(object({ low: { type: 'number' }, high: { type: 'number' } }), 'The 95% confidence interval of the difference; null with fewer than 2 answers on a side.'),
      significant: { type: 'boolean', description: 'The interval excludes 0 (decided on the unrounded figures); false without an interval.' },
    },
    { description: 'NPS and CSAT% in points with 1 decimal, CES with 2.' },
  ),
  ImpactMeasures: object({ nps: schemaRef('Comparison'), csatPct: schemaRef('Comparison'), cesMean: schemaRef('Comparison') }),
  ChangeImpact: object({
    change: schemaRef('Change'),
    windowDays: { type: 'integer', minimum: 1, maximum: L.impactMaxWindowDays },
    before: window('`[effectiveAt - windowDays, effectiveAt)`.'),
    after: window('`[effectiveAt, effectiveAt + windowDays)`.'),
    afterWindowComplete: { type: 'boolean', description: 'False while the after window is still running (its figures will grow).' },
    segments: {
      type: 'array',
      description: 'Each (kind, channel) the change touches that has answers in either window, by kind then channel.',
      items: {
        allOf: [object({ kind: { type: 'string' }, channel: channelName, channelGroup: nullable(channelGroupName) }), schemaRef('ImpactMeasures')],
      },
    },
    overall: { ...schemaRef('ImpactMeasures'), description: 'Every answer of the segments pooled.' },
  }),

  // Retention
  TierRun: object(
    {
      asOf: dateTime('When the job ran.'),
      window: object({ from: dateTime('Exclusive.'), to: dateTime('Inclusive.'), days: { type: 'integer', minimum: 1 } }, { description: 'Payments with `from < occurredAt <= to` count (CX_TIER_WINDOW_DAYS).' }),
      currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'Only payments in this currency count (CX_CURRENCY).' },
      rule: {
        oneOf: [
          object({ mode: { type: 'string', const: 'pareto' }, aShare: { type: 'number' }, bShare: { type: 'number' } }),
          object({ mode: { type: 'string', const: 'absolute' }, aMinValue: { type: 'string' }, bMinValue: { type: 'string' } }),
        ],
        description: '`pareto`: the top customers making `aShare` of the value are A, up to `bShare` B (CX_TIER_A_SHARE, CX_TIER_B_SHARE); `absolute`: minimum values (CX_TIER_A_MIN_VALUE, CX_TIER_B_MIN_VALUE).',
      },
      customers: count('Customers with a payment in the window, and those in A or B without one.'),
      tiers: object(Object.fromEntries(tiers.map((tier) => [tier, count()])), { description: 'Those customers by the tier they have after the run.' }),
      changes: {
        type: 'array',
        description: 'The `customer.tier-changed.v1` events appended, highest value first.',
        items: object({
          customerId: { type: 'string' },
          from: { type: 'string', enum: [...tiers] },
          to: { type: 'string', enum: [...tiers] },
          reason: { type: 'string' },
          value: { type: 'string', pattern: '^[0-9]+\\.[0-9]{2,4}$', description: 'The customer\'s value in the window.' },
          position: position('The log position of the tier change.'),
        }),
      },
      position: position('The highest log position among the changes ("0" when none): pass it as `minPosition` to read them back.'),
    },
    { description: 'A run of the tier job: each customer\'s ABC tier from the value of their payments.' },
  ),
  RetentionEpisode: object({
    customerId: { type: 'string' },
    episode: { type: 'integer', minimum: 1, description: 'The customer\'s episodes are numbered from 1.' },
    episodeId: { type: 'string', format: 'uuid' },
    tier: { type: 'string', enum: ['A', 'B'], description: 'The tier when it began: only A and B customers are watched.' },
    reasons: { type: 'array', items: { type: 'string' }, description: 'The risk reasons that opened it.' },
    raisedAt: dateTime('When the customer became at risk.'),
    openedBy: { type: 'string', enum: ['event', 'sla-check'], description: '`event`: an event made the customer at risk; `sla-check`: a complaint passed its SLA.' },
    alert: object(
      { eventId: { type: 'string', format: 'uuid' }, position: { ...nullable(schemaRef('Position')), description: 'Null until the alert is in the log.' } },
      { description: 'The `retention.alert-raised.v1` of the episode: one per episode, not one per event.' },
    ),
    endedAt: nullableDateTime('When the customer stopped being at risk (or left A and B); null while it lasts.'),
  }),
  RetentionEpisodes: object({ episodes: { type: 'array', description: 'The latest first.', items: schemaRef('RetentionEpisode') } }),

  // Operations
  ProjectionState: {
    type: 'object',
    required: ['name', 'version', 'position', 'status', 'lagEvents', 'lagSeconds', 'updatedAt'],
    properties: {
      name: { type: 'string', examples: ['customer360'] },
      version: { type: 'integer', minimum: 1, description: 'The version its tables hold; a new version of the fold is rebuilt blue/green.' },
      position: position('Its checkpoint: every event up to here is folded.'),
      status: {
        type: 'string',
        enum: [...projectionStatuses],
        description:
          '`starting` (registered, or asked to retry), `running`, `standby` (another process holds its lease), `failed` (stopped at `error.position` until retried), `stopped`, `rebuilding` (its version changed: the old version\'s tables serve readers until the rebuild switches).',
      },
      lagEvents: count('Events in the log after the checkpoint.'),
      lagSeconds: { type: 'number', minimum: 0, description: 'Age of the oldest event not folded yet; 0 when caught up.' },
      updatedAt: nullableDateTime('When the checkpoint last moved.'),
      error: object({ message: { type: 'string' }, position: position('The event it failed on.') }, { description: 'Why it failed, when `failed`.' }),
      rebuild: { ...schemaRef('RebuildProgress'), description: 'The rebuild requested or running, if any.' },
      lastRebuild: { ...schemaRef('RebuildOutcome'), description: 'The last rebuild that ended, if any.' },
    },
  },
  RebuildProgress: object(
    {
      id: { type: 'string', pattern: '^[0-9]+$' },
      status: { type: 'string', enum: ['requested', 'running'], description: '`requested`: waiting for the process that holds the projection\'s lease to claim it.' },
      phase: {
        type: 'string',
        enum: [...rebuildPhases],
        description: '`waiting`, `building` (folding the log into fresh tables in a schema of their own), `indexing`, `catching-up` (with the live checkpoint), `switching` (the new tables replace the live ones in one transaction).',
      },
      version: { type: 'integer', minimum: 1, description: 'The version of the fold it builds.' },
      targetPosition: { ...nullable(schemaRef('Position')), description: 'The log position it builds up to before catching up; null until it starts.' },
      position: position('The log position its tables have reached.'),
      eventsPerSecond: { type: ['integer', 'null'], minimum: 0, description: 'Log positions covered per second (about events per second).' },
      etaSeconds: { type: ['integer', 'null'], minimum: 0 },
      requestedAt: dateTime('When it was requested.'),
      startedAt: nullableDateTime('When a process claimed it.'),
    },
    { description: 'A blue/green rebuild in progress: readers keep the live tables until the switch.' },
  ),
  RebuildOutcome: {
    type: 'object',
    required: ['id', 'status', 'version', 'position', 'startedAt', 'finishedAt', 'seconds', 'eventsPerSecond'],
    properties: {
      id: { type: 'string', pattern: '^[0-9]+$' },
      status: { type: 'string', enum: ['done', 'failed'] },
      version: { type: 'integer', minimum: 1 },
      position: position('Where its tables were when it ended.'),
      startedAt: nullableDateTime('When a process claimed it.'),
      finishedAt: dateTime('When it ended.'),
      seconds: nullableNumber('How long it ran.', { minimum: 0 }),
      eventsPerSecond: { type: ['integer', 'null'], minimum: 0 },
      error: { type: 'string', description: 'Why it failed (the live tables were left as they were).' },
    },
  },
  RebuildsRequested: object({
    rebuilds: {
      type: 'array',
      description: 'One per projection asked for; follow them in `GET /v1/projections` (`rebuild`, then `lastRebuild`).',
      items: { allOf: [object({ projection: { type: 'string' } }), schemaRef('RebuildProgress')] },
    },
  }),
  RebuildRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['projections'],
    properties: { projections: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'Projection names.' } },
  },
  RetryRequested: object({
    projection: { type: 'string' },
    status: {
      type: 'string',
      enum: ['retrying', 'rebuild-requested'],
      description: '`retrying`: it starts again from the event that failed, in the process that runs it; `rebuild-requested`: it was waiting for the rebuild of its new version, which is requested again.',
    },
  }),
  UnknownProjection: {
    type: 'object',
    required: ['status', 'errors', 'known'],
    properties: {
      status: { type: 'string', const: 'not_found' },
      errors: { type: 'array', minItems: 1, items: schemaRef('FieldError') },
      known: { type: 'array', items: { type: 'string' }, description: 'The projections there are.' },
    },
  },
  Conflict: {
    type: 'object',
    required: ['status', 'errors'],
    properties: { status: { type: 'string', const: 'conflict' }, errors: { type: 'array', minItems: 1, items: schemaRef('FieldError') } },
  },
  ProjectionList: object({ projections: { type: 'array', description: 'By name.', items: schemaRef('ProjectionState') } }),
};

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

const retryAfter = { 'Retry-After': ref('headers', 'Retry-After') };

/** 503 of a route whose read models are behind `minPosition`, with the example its message takes. */
function notYet(projections: readonly string[], extra: { description?: string; examples?: readonly string[] } = {}): ResponseObject {
  return {
    description:
      extra.description ??
      `The read models of the route (${projections.join(', ')}) did not reach \`minPosition\` within ${L.minPositionWaitSeconds} s. Retry after \`Retry-After\` seconds.`,
    headers: { ...correlationHeader, ...retryAfter },
    content: json(schemaRef('Unavailable'), [notYetExample(projections), ...(extra.examples ?? [])]),
  };
}
const notYetExample = (projections: readonly string[]): string => `not-yet-${projections.join('-')}`;

const rejectedWith = (description: string, names: readonly string[]): ResponseObject => ({
  description,
  headers: correlationHeader,
  content: json(schemaRef('Rejection'), names),
});
const notFound = (description: string, name: string): ResponseObject => ({ description, headers: correlationHeader, content: json(schemaRef('NotFound'), [name]) });
const ok = (description: string, schema: string, names: readonly string[]): ResponseObject => ({
  description,
  headers: correlationHeader,
  content: json(schemaRef(schema), names),
});

const responses: Record<string, ResponseObject> = {
  ForbiddenRead: forbidden('read', 'missing-read-scope'),
  ForbiddenOps: forbidden('ops', 'missing-ops-scope'),
};

const guarded = (scope: 'read' | 'ops'): Record<string, Reference> => ({
  '401': ref('responses', 'Unauthorized'),
  '403': ref('responses', scope === 'read' ? 'ForbiddenRead' : 'ForbiddenOps'),
});

const headers = {
  'Retry-After': { description: 'Seconds to wait before asking again.', required: true, schema: { type: 'string', pattern: '^[0-9]+$', examples: ['1'] } as JsonSchema },
};

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

const readRule = (projections: readonly string[]) =>
  `Scope \`read\`. Reads ${projections.map((p) => `\`${p}\``).join(' and ')}: \`minPosition\` (or \`X-Cx-Min-Position\`) waits for ${projections.length > 1 ? 'both' : 'it'}. A bad \`minPosition\` is \`400\` on its own, before the other parameters are read.`;

const repeated = (message: string) => `A parameter given twice is refused (\`${message}\`).`;

function reading(projections: readonly string[], operation: Omit<OperationObject, 'x-reads-projections' | 'security'> & { scope?: 'read' | 'ops' }): OperationObject {
  const { scope = 'read', ...rest } = operation;
  return { ...rest, security: needs(scope), 'x-reads-projections': projections };
}

const customerOperation = reading(['customer360'], {
  operationId: 'getCustomer',
  summary: 'The 360-degree view of a customer',
  tags: ['customers'],
  description: [
    'Profile (decrypted), ABC tier, preferred channel derived from history, last contact, moments by channel group, satisfaction (the latest NPS, CSAT and CES answers and their trend), open complaints, value (the sum of payments), and `atRisk` with `riskReasons`.',
    '',
    readRule(['customer360']),
    '',
    'The id is not validated: an id no event names is `404`.',
  ].join('\n'),
  parameters: [ref('parameters', 'customerId'), ref('parameters', 'asOf'), ...readsParameters],
  responses: {
    '200': ok('The customer.', 'CustomerView', ['customer-360']),
    '400': rejectedWith(`A bad \`asOf\` or \`minPosition\`. ${repeated('must be given once, as a plain value')}`, ['customer-bad-as-of', 'bad-min-position']),
    ...guarded('read'),
    '404': notFound('No event names this customer.', 'customer-not-found'),
    '503': notYet(['customer360']),
  },
});

const customersOperation = reading(['customer360'], {
  operationId: 'listCustomers',
  summary: 'Customers, by tier and risk, with cursor pagination',
  tags: ['customers'],
  description: [
    'Customers in customer id order (byte order), each in the shape of `GET /v1/customers/{id}`, filtered by `tier` and `atRisk` (the SLA rule evaluated at `asOf`).',
    '',
    readRule(['customer360']),
    '',
    `Every bad parameter is named in one \`400\`. ${repeated('must be given once, as a plain value')}`,
  ].join('\n'),
  parameters: [
    { name: 'tier', in: 'query', description: 'Only customers in this tier.', schema: { type: 'string', enum: [...tiers] } },
    { name: 'atRisk', in: 'query', description: 'Only customers at risk (`true`) or not (`false`) at `asOf`.', schema: { type: 'string', enum: ['true', 'false'] } },
    {
      name: 'limit',
      in: 'query',
      description: `Customers per page, 1-${L.customersMaxLimit}.`,
      schema: { type: 'integer', minimum: 1, maximum: L.customersMaxLimit, default: L.customersDefaultLimit },
    },
    { name: 'cursor', in: 'query', description: 'The `nextCursor` of the previous page (opaque); anything else is `400`.', schema: { type: 'string' } },
    ref('parameters', 'asOf'),
    ...readsParameters,
  ],
  responses: {
    '200': ok('A page.', 'CustomerPage', ['customers-page']),
    '400': rejectedWith('Bad parameters, each named: `tier`, `atRisk`, `limit`, `cursor`, `asOf`; or a bad `minPosition`.', ['customers-bad-query', 'customers-bad-cursor', 'bad-min-position']),
    ...guarded('read'),
    '503': notYet(['customer360']),
  },
});

const journeyOperation = reading(['journey'], {
  operationId: 'getCustomerJourney',
  summary: "A customer's events in log order, or replayed as of a point of the log",
  tags: ['customers'],
  description: [
    "Every event of the customer (moments, answers, complaint steps, profile and tier changes, retention alerts) in log order, with personal data decrypted. Pages follow the log: a cursor continues after the last event of the previous page, so every event is listed once however many arrive meanwhile. A cursor carries no filter: send the same `from`/`to` (and `asOf`) with it.",
    '',
    "With `asOf` (a log position, or an instant): a replay from the event log itself, not from the read model. Only the events the platform knew then (at or before the position; recorded at or before the instant, whatever business time they carry), each with what it changed in the customer's state, and `state`: the customer as of then, folded with the customer 360 rules.",
    '',
    readRule(['journey']),
    '',
    `Every bad parameter, the id included, is named in one \`400\`. ${repeated('must be given once, as a plain value')} A customer with no event in the window, or a cursor past the end, gives \`200\` with no events.`,
  ].join('\n'),
  parameters: [
    { ...(parameters.customerId as ParameterObject), description: `The customer id: 1-128 letters, digits or \`. _ : @ + = -\`, starting with a letter or digit (else \`400\`).`, schema: { type: 'string', pattern: ID_PATTERN, examples: ['cust-10482'] } },
    { name: 'from', in: 'query', description: `Business time, inclusive: ${INSTANT_FORMS}. Default: the beginning.`, schema: { type: 'string' }, example: '2025-03-14' },
    { name: 'to', in: 'query', description: 'Business time, exclusive, same forms; later than `from`. Default: no end.', schema: { type: 'string' } },
    { name: 'limit', in: 'query', description: `Events per page, 1-${L.journeyMaxLimit}.`, schema: { type: 'integer', minimum: 1, maximum: L.journeyMaxLimit, default: L.journeyDefaultLimit } },
    { name: 'cursor', in: 'query', description: 'The `nextCursor` of the previous page, unchanged; anything else is `400`.', schema: { type: 'string' } },
    {
      name: 'asOf',
      in: 'query',
      description: `Replay as of this point: digits are a log position (as the ingest API returns them), anything else ${INSTANT_FORMS}, compared with when each event was recorded.`,
      schema: { type: 'string' },
      example: '48213',
    },
    ...readsParameters,
  ],
  responses: {
    '200': {
      description: 'A page of events; with `asOf`, the replay.',
      headers: correlationHeader,
      content: json({ oneOf: [schemaRef('JourneyPage'), schemaRef('JourneyReplay')] }, ['journey-page', 'journey-next-page', 'journey-replay']),
    },
    '400': rejectedWith('Bad parameters, each named: `id`, `from`, `to`, `limit`, `cursor`, `asOf`; or a bad `minPosition`.', [
      'journey-bad-query',
      'journey-bad-id',
      'journey-bad-as-of',
      'bad-min-position',
    ]),
    ...guarded('read'),
    '404': { description: 'No event names this customer (in the read model; with `asOf`, in the log).', headers: correlationHeader, content: json(schemaRef('NotFound'), ['journey-not-found', 'journey-replay-not-found']) },
    '503': notYet(['journey']),
  },
});

const satisfactionOperation = reading(['satisfaction'], {
  operationId: 'getSatisfactionMetrics',
  summary: 'NPS, CSAT, CES, moments and waits per time bucket and group',
  tags: ['analytics'],
  description: [
    'Satisfaction measured at every touchpoint. An answer that rates a moment (`momentId`) is attributed to that moment\'s kind, channel and area.',
    '',
    readRule(['satisfaction']),
    '',
    `Every bad parameter is named in one \`400\`. ${repeated('must be given once')}`,
  ].join('\n'),
  parameters: [
    ref('parameters', 'windowFrom'),
    ref('parameters', 'windowTo'),
    { name: 'interval', in: 'query', description: 'The time bucket (UTC; weeks start on Monday).', schema: { type: 'string', enum: [...satisfactionIntervals], default: 'day' } },
    {
      name: 'groupBy',
      in: 'query',
      description: `Any of ${satisfactionGroupFields.join(', ')}, comma-separated (repeats ignored). None: one row per bucket.`,
      schema: { type: 'string', pattern: `^(${satisfactionGroupFields.join('|')})(,(${satisfactionGroupFields.join('|')}))*$` },
      example: 'kind,channel',
    },
    ...readsParameters,
  ],
  responses: {
    '200': ok('The rows.', 'SatisfactionReport', ['satisfaction-weekly', 'satisfaction-monthly']),
    '400': rejectedWith('Bad parameters, each named: `from`, `to`, `interval`, `groupBy`; or a bad `minPosition`.', ['satisfaction-bad-query', 'satisfaction-repeated-parameter', 'bad-min-position']),
    ...guarded('read'),
    '503': notYet(['satisfaction']),
  },
});

const funnelOperation = reading(['complaints', 'satisfaction'], {
  operationId: 'getComplaintFunnel',
  summary: 'The complaint funnel, reopenings and silent dissatisfaction',
  tags: ['analytics'],
  description: [
    'The complaints filed in the window: how many reached each stage of the complaint process by now, the conversions, the median time from filing to each stage, the reopenings; and the silent dissatisfaction of the same window (customers who showed dissatisfaction and filed no complaint).',
    '',
    readRule(['complaints', 'satisfaction']),
    '',
    `Every bad parameter is named in one \`400\`. ${repeated('must be given once')}`,
  ].join('\n'),
  parameters: [
    ref('parameters', 'windowFrom'),
    ref('parameters', 'windowTo'),
    { name: 'groupBy', in: 'query', description: 'One funnel per value of this field.', schema: { type: 'string', enum: [...funnelGroupFields] } },
    ...readsParameters,
  ],
  responses: {
    '200': {
      description: 'The funnel; with `groupBy`, one per value.',
      headers: correlationHeader,
      content: json({ oneOf: [schemaRef('ComplaintFunnel'), schemaRef('GroupedComplaintFunnel')] }, ['funnel', 'funnel-by-category']),
    },
    '400': rejectedWith('Bad parameters, each named: `from`, `to`, `groupBy`; or a bad `minPosition`.', ['funnel-bad-query', 'bad-min-position']),
    ...guarded('read'),
    '503': notYet(['complaints', 'satisfaction']),
  },
});

const recordChangeOperation: OperationObject = {
  operationId: 'recordChange',
  summary: 'Record a dated change to a process or tool',
  tags: ['changes'],
  description: [
    'Scope `ops`. Appends `change.recorded.v1` to the stream `change-<id>` (with the request\'s correlation id and the key\'s id), so the change is rebuilt from the log like every view; `GET /v1/changes/{id}/impact` then compares the experience before and after it.',
    '',
    'Every problem is named in one `400`: a field out of its rules, an unknown moment kind (the message lists the known ones), any other field (`property colour should not exist`).',
  ].join('\n'),
  security: needs('ops'),
  parameters: [ref('parameters', 'X-Correlation-Id')],
  requestBody: {
    required: true,
    description: 'The change.',
    content: { 'application/json': { schema: schemaRef('ChangeRequest'), examples: { 'change-callback': ref('examples', 'change-callback'), 'change-everywhere': ref('examples', 'change-everywhere') } } },
  },
  responses: {
    '201': ok('Recorded.', 'ChangeRecorded', ['change-recorded', 'change-recorded-everywhere']),
    '400': rejectedWith('Invalid fields, each named; a body that is not a JSON object (or none, or another media type); malformed JSON.', [
      'change-invalid',
      'change-not-an-object',
      'change-malformed-json',
    ]),
    ...guarded('ops'),
    '413': rejectedWith(`The body is over ${MAX_BODY_BYTES} bytes (1 MiB).`, ['body-too-large']),
  },
};

const impactOperation = reading(['changes', 'satisfaction'], {
  operationId: 'getChangeImpact',
  summary: 'NPS, CSAT and CES before and after a change, with 95% confidence intervals',
  tags: ['changes'],
  description: [
    'For each (kind, channel) the change touches that has answers: NPS, CSAT% and CES mean before and after `effectiveAt` (by the answer\'s `submittedAt`), the difference and its 95% confidence interval (NPS: difference of means of +1/0/-1 scores; CSAT%: unpooled Wald; CES: Welch with Student t). Only answers attributed to a moment count.',
    '',
    readRule(['changes', 'satisfaction']),
  ].join('\n'),
  parameters: [
    { name: 'id', in: 'path', required: true, description: 'The `id` `POST /v1/changes` answered.', schema: { type: 'string' } },
    {
      name: 'windowDays',
      in: 'query',
      description: `Days before and after \`effectiveAt\`: a whole number, 1-${L.impactMaxWindowDays}.`,
      schema: { type: 'integer', minimum: 1, maximum: L.impactMaxWindowDays, default: L.impactDefaultWindowDays },
    },
    ...readsParameters,
  ],
  responses: {
    '200': ok('The comparison.', 'ChangeImpact', ['change-impact']),
    '400': rejectedWith(`A bad \`windowDays\` or \`minPosition\`. ${repeated('must be given once')}`, ['change-impact-bad-window', 'bad-min-position']),
    ...guarded('read'),
    '404': notFound('No change with this id.', 'change-impact-not-found'),
    '503': notYet(['changes', 'satisfaction']),
  },
});

const recomputeOperation = reading(['customerValue'], {
  scope: 'ops',
  operationId: 'recomputeTiers',
  summary: 'Run the tier job now',
  tags: ['retention'],
  description: [
    'Scope `ops`. Recomputes every customer\'s ABC tier from the value of their payments in the rolling window and appends a `customer.tier-changed.v1` for each customer who moves (decided against the customer\'s stream, so a re-run appends nothing). No body. The job also runs on its own every CX_TIER_INTERVAL_MINUTES in a process that runs projections.',
    '',
    'Reads `customerValue`: `minPosition` (or `X-Cx-Min-Position`) waits for it. Then the job itself waits, up to 5 s, until `customerValue` has folded the log up to its head: a tier from half the payments would be wrong.',
  ].join('\n'),
  parameters: readsParameters,
  responses: {
    '200': ok('The run.', 'TierRun', ['tier-run', 'tier-run-unchanged']),
    '400': rejectedWith('A bad `minPosition`.', ['bad-min-position']),
    ...guarded('ops'),
    '503': notYet(['customerValue'], {
      description: `\`customerValue\` did not reach \`minPosition\`, or the log's head, within ${L.minPositionWaitSeconds} s (a rebuild or a long catch-up). Nothing was appended.`,
      examples: ['tier-job-behind'],
    }),
  },
});

const episodesOperation = reading(['retentionEpisodes'], {
  operationId: 'listRetentionEpisodes',
  summary: 'Risk episodes of A and B customers, with their alerts',
  tags: ['retention'],
  description: [
    'An episode begins when an A or B customer becomes at risk and ends when they stop being so; its `cx.retention.alert-raised` is appended once per episode.',
    '',
    readRule(['retentionEpisodes']),
    '',
    `Every bad parameter is named in one \`400\`. ${repeated('must be given once')}`,
  ].join('\n'),
  parameters: [
    { name: 'customerId', in: 'query', description: "Only this customer's episodes.", schema: { type: 'string' } },
    { name: 'open', in: 'query', description: '`true`: only episodes not ended; `false`: only ended ones.', schema: { type: 'string', enum: ['true', 'false'] } },
    { name: 'limit', in: 'query', description: `1-${L.episodesMaxLimit}.`, schema: { type: 'integer', minimum: 1, maximum: L.episodesMaxLimit, default: L.episodesDefaultLimit } },
    ...readsParameters,
  ],
  responses: {
    '200': ok('The episodes, the latest first.', 'RetentionEpisodes', ['episodes']),
    '400': rejectedWith('Bad parameters, each named: `open`, `limit`; or a bad `minPosition`.', ['episodes-bad-query', 'bad-min-position']),
    ...guarded('read'),
    '503': notYet(['retentionEpisodes']),
  },
});

const projectionsOperation: OperationObject = {
  operationId: 'listProjections',
  summary: "Each read model's version, checkpoint, lag, status and rebuilds",
  tags: ['operations'],
  description: 'Scope `read`. As stored in the database, so it covers the projections and rebuilds of every process (projector apps included). `minPosition` does not apply.',
  security: needs('read'),
  responses: {
    '200': ok('The projections.', 'ProjectionList', ['projections', 'projections-rebuilding']),
    ...guarded('read'),
  },
};

const projectionName = {
  name: 'name',
  in: 'path',
  required: true,
  description: 'The projection, as `GET /v1/projections` names it.',
  schema: { type: 'string', examples: ['customer360'] },
} as const satisfies ParameterObject;

const unknownProjection = (names: readonly string[]): ResponseObject => ({
  description: 'No projection of that name: the answer lists the known ones.',
  headers: correlationHeader,
  content: json(schemaRef('UnknownProjection'), names),
});
const rebuildRule =
  'A blue/green rebuild: the projection is folded from the start of the log into fresh tables in a schema of their own (bulk-loaded, indexed afterwards), caught up with the live checkpoint, then switched in for the live tables in one transaction. Readers keep the live tables until then. The process that holds the projection\'s lease runs it (a projector, or the all-in-one app); any app can ask.';

const rebuildOperation: OperationObject = {
  operationId: 'rebuildProjection',
  summary: 'Rebuild a projection, blue/green',
  tags: ['operations'],
  description: ['Scope `ops`. No body. ' + rebuildRule, '', 'Answers once the request is recorded: follow it in `GET /v1/projections`.'].join('\n'),
  security: needs('ops'),
  parameters: [projectionName],
  responses: {
    '202': ok('Requested.', 'RebuildsRequested', ['rebuild-requested']),
    ...guarded('ops'),
    '404': unknownProjection(['projection-not-found']),
    '409': { description: 'A rebuild of it is already requested or running.', headers: correlationHeader, content: json(schemaRef('Conflict'), ['rebuild-conflict']) },
  },
};

const rebuildSeveralOperation: OperationObject = {
  operationId: 'rebuildProjections',
  summary: 'Rebuild several projections, or all, in one pass',
  tags: ['operations'],
  description: ['Scope `ops`. Without a body (or with `{}`), every projection; with `{ "projections": [...] }`, those. All or none are requested. ' + rebuildRule].join('\n'),
  security: needs('ops'),
  requestBody: {
    required: false,
    description: 'The projections to rebuild; leave the body out for all of them.',
    content: { 'application/json': { schema: schemaRef('RebuildRequest'), examples: { 'rebuild-several': ref('examples', 'rebuild-several') } } },
  },
  responses: {
    '202': ok('Requested.', 'RebuildsRequested', ['rebuilds-requested']),
    '400': rejectedWith('A body that is not `{ "projections": [names] }` with at least one name, or malformed JSON.', ['rebuild-bad-body']),
    ...guarded('ops'),
    '404': unknownProjection(['rebuild-unknown-projection']),
    '409': { description: 'A rebuild of one of them is already requested or running: none was requested.', headers: correlationHeader, content: json(schemaRef('Conflict'), ['rebuild-conflict']) },
  },
};

const retryOperation: OperationObject = {
  operationId: 'retryProjection',
  summary: 'Start a failed projection again',
  tags: ['operations'],
  description:
    'Scope `ops`. No body. After its code or data was fixed, a `failed` projection starts again from the event that failed, in the process that runs it. A projection waiting for the rebuild of its new version gets the rebuild requested again.',
  security: needs('ops'),
  parameters: [projectionName],
  responses: {
    '202': ok('Asked.', 'RetryRequested', ['projection-retrying']),
    ...guarded('ops'),
    '404': unknownProjection(['projection-not-found']),
    '409': { description: 'The projection has not failed: nothing to retry.', headers: correlationHeader, content: json(schemaRef('Conflict'), ['retry-not-failed']) },
  },
};

const metricsOperation: OperationObject = {
  operationId: 'metrics',
  summary: 'Prometheus metrics',
  tags: ['operations'],
  description:
    'Public, as Prometheus scrapers usually carry no key (the metrics hold no personal data and no ids; an app can require a scope with `MetricsModule.forRoot({ requireScope })`). The text exposition format 0.0.4: ingested events by type and status, append latency, HTTP request durations by route pattern, projection lag, process metrics. Each process has its own registry: scrape every app. See docs/metrics.md.',
  responses: {
    '200': {
      description: 'The metrics (`Cache-Control: no-store`).',
      headers: correlationHeader,
      content: { 'text/plain': { schema: { type: 'string' }, examples: { metrics: ref('examples', 'metrics') } } },
    },
  },
};

// ---------------------------------------------------------------------------------------------
// The part
// ---------------------------------------------------------------------------------------------

/** The read models behind each `not-yet-…` example, and its text (the interceptor's, with positions of the examples' story). */
const notYetSets = [['customer360'], ['journey'], ['satisfaction'], ['complaints', 'satisfaction'], ['changes', 'satisfaction'], ['customerValue'], ['retentionEpisodes']];

const generatedExamples = Object.fromEntries(
  notYetSets.map((projections) => [
    notYetExample(projections),
    {
      summary: `minPosition ahead of ${projections.join(' and ')}`,
      value: {
        status: 'unavailable',
        errors: [{ field: 'minPosition', message: `the read models (${projections.join(', ')}) are at position 48229, not yet at 48231; retry shortly` }],
      },
    },
  ]),
);

export const queryPart: DocumentPart = {
  tags: [
    { name: 'customers', description: 'The 360-degree view of each customer and their journey (scope `read`).' },
    { name: 'analytics', description: 'Satisfaction at every touchpoint and the complaint funnel (scope `read`).' },
    { name: 'changes', description: 'Dated changes to processes and tools (scope `ops`), and their impact on satisfaction (scope `read`).' },
    { name: 'retention', description: 'ABC tiers from value (scope `ops`) and the risk episodes of valuable customers (scope `read`).' },
  ],
  paths: {
    '/v1/customers': { get: customersOperation },
    '/v1/customers/{id}': { get: customerOperation },
    '/v1/customers/{id}/journey': { get: journeyOperation },
    '/v1/metrics/satisfaction': { get: satisfactionOperation },
    '/v1/funnels/complaints': { get: funnelOperation },
    '/v1/changes': { post: recordChangeOperation },
    '/v1/changes/{id}/impact': { get: impactOperation },
    '/v1/retention/tiers/recompute': { post: recomputeOperation },
    '/v1/retention/episodes': { get: episodesOperation },
    '/v1/projections': { get: projectionsOperation },
    '/v1/projections/rebuild': { post: rebuildSeveralOperation },
    '/v1/projections/{name}/rebuild': { post: rebuildOperation },
    '/v1/projections/{name}/retry': { post: retryOperation },
    '/metrics': { get: metricsOperation },
  },
  components: {
    schemas,
    responses,
    parameters,
    headers,
    examples: { ...queryExamples, ...generatedExamples },
  },
};
