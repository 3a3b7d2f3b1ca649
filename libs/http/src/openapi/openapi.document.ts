import {
  builtInMomentKinds,
  channels,
  type ComplaintState,
  type IngestEventType,
  ingestEventTypes,
  outcomes,
  severities,
  tiers,
} from '@cx/domain';
import { API_SCOPES } from '../auth/api-keys.config.js';
import { JSON_TYPES, MAX_BODY_BYTES } from '../http-setup.js';
import { queryPart } from './openapi.query.js';
import {
  correlationHeader,
  type DocumentPart,
  type ExampleObject,
  forbidden,
  type HeaderObject,
  json,
  type JsonSchema,
  type OpenApiDocument,
  type OpenApiOptions,
  type OperationObject,
  type ParameterObject,
  position,
  ref,
  type Reference,
  type ResponseObject,
  schemaRef,
} from './openapi.types.js';

export type {
  ExampleObject,
  HeaderObject,
  JsonSchema,
  MediaTypeObject,
  OpenApiDocument,
  OpenApiOptions,
  OperationObject,
  ParameterObject,
  PathItemObject,
  Reference,
  RequestBodyObject,
  ResponseObject,
  SecuritySchemeObject,
} from './openapi.types.js';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';
/** The ingest API's batch limit (`MAX_BATCH_EVENTS` of @cx/ingest; the spec keeps the two equal). */
export const DOCUMENTED_MAX_BATCH_EVENTS = 1000;

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/** Ids that end up in stream ids (`customer-<id>`, `complaint-<id>`): the event store's id characters. */
const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$';
/** The domain refuses text that is empty or only spaces ("must be a non-empty string"). */
const NON_BLANK = '\\S';
const POSITION_PATTERN = '^[0-9]+$';

const ingestTypes = Object.keys(ingestEventTypes) as IngestEventType[];
const complaintStatusNames: Record<ComplaintState['status'], true> = {
  none: true,
  filed: true,
  acknowledged: true,
  routed: true,
  resolved: true,
  confirmed: true,
  closed: true,
};
export const complaintStatuses = Object.keys(complaintStatusNames) as ComplaintState['status'][];

function text(minLength: number, maxLength: number, description: string): JsonSchema {
  return { type: 'string', minLength, maxLength, pattern: NON_BLANK, description };
}

const channelSchema = (description: string): JsonSchema => ({
  type: 'string',
  enum: [...channels],
  description: `${description} Channel groups: personal (in_person, branch, sales_visit), telephone (phone), print (letter, form), electronic (email, web, chat, app, social).`,
});

const complaintId: JsonSchema = {
  type: 'string',
  pattern: ID_PATTERN,
  description: 'The complaint, chosen by the sending system; every event of the complaint names it. Its stream is `complaint-<complaintId>`.',
  examples: ['CMP-2025-0142'],
};

const momentRef: JsonSchema = {
  ...text(1, 256, 'The CloudEvents `id` of the moment of truth this refers to (`cx.moment.recorded`), when known.'),
  examples: ['call-20250314-000417'],
};

// ---------------------------------------------------------------------------------------------
// `data` of each CloudEvents type: the DTO classes of @cx/ingest (cloud-event.dto.ts), checked
// against their class-validator metadata by openapi.spec.ts.
// ---------------------------------------------------------------------------------------------

/** The name of each type's data schema: the name of its DTO class. */
export const dataSchemaNames: Record<IngestEventType, string> = {
  'cx.customer.registered': 'CustomerRegisteredData',
  'cx.customer.updated': 'CustomerUpdatedData',
  'cx.moment.recorded': 'MomentRecordedData',
  'cx.feedback.submitted': 'FeedbackSubmittedData',
  'cx.complaint.filed': 'ComplaintFiledData',
  'cx.complaint.acknowledged': 'ComplaintAcknowledgedData',
  'cx.complaint.routed': 'ComplaintRoutedData',
  'cx.complaint.resolved': 'ComplaintResolvedData',
  'cx.complaint.confirmed': 'ComplaintConfirmedData',
  'cx.complaint.reopened': 'ComplaintReopenedData',
  'cx.complaint.closed': 'ComplaintClosedData',
};

const eventSchemaName = (type: IngestEventType): string => dataSchemaNames[type].replace(/Data$/, 'Event');

/** What each type means, in customer-experience terms. */
const meaning: Record<IngestEventType, string> = {
  'cx.customer.registered':
    'A customer identity is registered with its profile (identify: one identity across channels). A customer already exists from its first event of any type; registration adds the profile. Sent again for a registered customer, it is stored as a profile update. With `tier`, the customer is placed in the ABC pyramid (stored as a separate `customer.tier-changed.v1` when the tier changes; every customer starts in C).',
  'cx.customer.updated':
    'Profile changes: only the fields sent change, absent fields keep their value. Must carry at least one field. A `tier` different from the current one is stored as `customer.tier-changed.v1` (moving a customer up or down the ABC pyramid).',
  'cx.moment.recorded':
    'A moment of truth: an instant in which the customer was in contact with the company, on any channel. Kind, channel, how it went, how long the customer waited versus what they were told, and whether the wait was explained. The CloudEvents `id` becomes the moment id that answers and complaints refer to.',
  'cx.feedback.submitted':
    'A survey answer: NPS (0-10; promoters 9-10, detractors 0-6), CSAT (1-5; 4 and 5 count as satisfied) and/or CES (1-7, lower is less effort); at least one score. Links to the moment it rates when `momentId` is given.',
  'cx.complaint.filed':
    'A customer voiced a complaint: the start of the complaint process, whose purpose is to turn a negative feeling around. The complaint is `filed`; next it must be acknowledged.',
  'cx.complaint.acknowledged':
    'The customer was thanked for complaining and told the channels available. Allowed only when the complaint is `filed`.',
  'cx.complaint.routed':
    'The complaint was routed to the area responsible for its type. Allowed only when it is `acknowledged`.',
  'cx.complaint.resolved':
    'The harm was repaired (`resolution`), with the root cause fed back so it does not happen again. Allowed only when it is `routed` (also after a reopening).',
  'cx.complaint.confirmed':
    'The customer confirmed the resolution repaired the harm. Allowed only when it is `resolved`.',
  'cx.complaint.reopened':
    'The customer did not accept the resolution: the complaint goes back to its area (`routed`) to be resolved again. Allowed only when it is `resolved`.',
  'cx.complaint.closed':
    'The complaint is closed. Allowed only when the customer `confirmed` it: a complaint the customer never confirmed stays open.',
};

const profileProperties: Record<string, JsonSchema> = {
  email: { type: 'string', format: 'email', maxLength: 254, 'x-pii': true, description: 'Personal data, sealed before it is stored.' },
  phone: {
    type: 'string',
    pattern: '^\\+?[0-9 ().-]{4,32}$',
    'x-pii': true,
    description: 'Personal data, sealed before it is stored. Digits, spaces, ( ) . - and an optional leading +.',
    examples: ['+34 600 111 222'],
  },
  preferredChannel: channelSchema('The channel the customer prefers to be contacted on.'),
  locale: { type: 'string', pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$', description: 'A BCP 47 language tag.', examples: ['es-ES'] },
  tier: {
    type: 'string',
    enum: [...tiers],
    description: 'The ABC pyramid: A = VIP, B = active/medium, C = the rest (every customer starts in C). A change is stored as `customer.tier-changed.v1`.',
  },
};

const amountCurrency = { amount: ['currency'], currency: ['amount'] } as const;

const dataSchemas: Record<IngestEventType, JsonSchema> = {
  'cx.customer.registered': {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S', 'x-pii': true, description: 'Personal data, sealed before it is stored.' },
      ...profileProperties,
    },
  },
  'cx.customer.updated': {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S', 'x-pii': true, description: 'Personal data, sealed before it is stored.' },
      ...profileProperties,
    },
    anyOf: ['name', 'email', 'phone', 'preferredChannel', 'locale', 'tier'].map((field) => ({ required: [field] })),
  },
  'cx.moment.recorded': {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'channel'],
    properties: {
      kind: {
        type: 'string',
        pattern: '^[a-z][a-z0-9_]*$',
        maxLength: 64,
        description: `The kind of moment: one of the built-in kinds (${builtInMomentKinds.join(', ')}) or one this deployment configured in CX_MOMENT_KINDS. Any other kind is rejected with the list of known kinds.`,
        examples: [...builtInMomentKinds],
      },
      channel: channelSchema('Where the moment happened.'),
      touchpoint: text(1, 200, 'The point of contact within the channel (a queue, a counter, a page).'),
      outcome: { type: 'string', enum: [...outcomes], description: 'How the moment went for the customer.' },
      waitSeconds: { type: 'number', minimum: 0, description: 'How long the customer waited.' },
      expectedWaitSeconds: { type: 'number', minimum: 0, description: 'The wait the customer was told to expect, if they were told.' },
      waitExplained: { type: 'boolean', description: 'Whether the customer was given reasons for the wait.' },
      agentId: text(1, 128, 'The employee who attended the customer.'),
      area: text(1, 128, 'The area of the company responsible for the moment.'),
      amount: { type: 'number', description: 'Money involved (an invoice, a payment); at most 4 decimal places; requires `currency`.' },
      currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code; requires `amount`.', examples: ['EUR'] },
      orderId: text(1, 128, 'The order, invoice or case the moment is about.'),
    },
    dependentRequired: amountCurrency,
  },
  'cx.feedback.submitted': {
    type: 'object',
    additionalProperties: false,
    properties: {
      nps: { type: 'integer', minimum: 0, maximum: 10, description: 'Net Promoter answer: promoters 9-10, passives 7-8, detractors 0-6.' },
      csat: { type: 'integer', minimum: 1, maximum: 5, description: 'Customer satisfaction: 4 and 5 count as satisfied.' },
      ces: { type: 'integer', minimum: 1, maximum: 7, description: 'Customer effort: lower is less effort.' },
      comment: { type: 'string', minLength: 1, maxLength: 4000, pattern: '\\S', 'x-pii': true, description: 'Free text; personal data, sealed before it is stored.' },
      momentId: momentRef,
    },
    anyOf: [{ required: ['nps'] }, { required: ['csat'] }, { required: ['ces'] }],
  },
  'cx.complaint.filed': {
    type: 'object',
    additionalProperties: false,
    required: ['complaintId', 'category', 'channel', 'severity'],
    properties: {
      complaintId,
      category: text(1, 128, 'The type of complaint; decides the area it is routed to.'),
      channel: channelSchema('Where the complaint was voiced (print, letters and forms, is the classic channel for formal complaints).'),
      severity: { type: 'string', enum: [...severities], description: 'How serious the harm is.' },
      description: { type: 'string', minLength: 1, maxLength: 4000, pattern: '\\S', 'x-pii': true, description: "The customer's account; sealed before it is stored." },
      momentId: momentRef,
    },
  },
  'cx.complaint.acknowledged': {
    type: 'object',
    additionalProperties: false,
    required: ['complaintId'],
    properties: { complaintId },
  },
  'cx.complaint.routed': {
    type: 'object',
    additionalProperties: false,
    required: ['complaintId', 'area'],
    properties: { complaintId, area: text(1, 128, 'The area responsible for this type of complaint.') },
  },
  'cx.complaint.resolved': {
    type: 'object',
    additionalProperties: false,
    required: ['complaintId', 'resolution'],
    properties: {
      complaintId,
      resolution: text(1, 4000, 'What was done to repair the harm.'),
      rootCause: text(1, 1000, 'Why it happened, fed back so it does not happen again.'),
    },
  },
  'cx.complaint.confirmed': {
    type: 'object',
    additionalProperties: false,
    required: ['complaintId'],
    properties: { complaintId },
  },
  'cx.complaint.reopened': {
    type: 'object',
    additionalProperties: false,
    required: ['complaintId'],
    properties: { complaintId, reason: text(1, 1000, 'Why the customer did not accept the resolution.') },
  },
  'cx.complaint.closed': {
    type: 'object',
    additionalProperties: false,
    required: ['complaintId'],
    properties: { complaintId },
  },
};

// ---------------------------------------------------------------------------------------------
// Examples: one customer's story, from registration to a closed complaint.
// ---------------------------------------------------------------------------------------------

const CUSTOMER = 'cust-10482';
const CALL = 'call-20250314-000417';
const COMPLAINT = 'CMP-2025-0142';

type ExampleEvent = {
  specversion: '1.0';
  id: string;
  source: string;
  type: IngestEventType;
  subject: string;
  time: string;
  data: Record<string, unknown>;
};

const event = (type: IngestEventType, source: string, id: string, time: string, data: Record<string, unknown>): ExampleEvent => ({
  specversion: '1.0',
  id,
  source,
  type,
  subject: CUSTOMER,
  time,
  data,
});

const complaintDesk = 'urn:cx:complaints-desk';

/** One example CloudEvent per type, each accepted by the API (openapi.spec.ts validates them). */
export const exampleEvents: Record<IngestEventType, ExampleEvent> = {
  'cx.customer.registered': event('cx.customer.registered', 'urn:cx:crm', 'crm-cust-10482-1', '2025-03-03T08:15:00Z', {
    name: 'Ana García Pérez',
    email: 'ana.garcia@example.com',
    phone: '+34 600 111 222',
    preferredChannel: 'phone',
    locale: 'es-ES',
    tier: 'B',
  }),
  'cx.customer.updated': event('cx.customer.updated', 'urn:cx:crm', 'crm-cust-10482-2', '2025-03-20T09:00:00Z', {
    email: 'ana.garcia@example.org',
    preferredChannel: 'email',
    tier: 'A',
  }),
  'cx.moment.recorded': event('cx.moment.recorded', 'urn:cx:callcentre:madrid', CALL, '2025-03-14T10:22:05Z', {
    kind: 'billing',
    channel: 'phone',
    touchpoint: 'billing queue',
    outcome: 'negative',
    waitSeconds: 540,
    expectedWaitSeconds: 120,
    waitExplained: false,
    agentId: 'agent-207',
    area: 'billing',
    amount: 89.9,
    currency: 'EUR',
    orderId: 'INV-2025-03-7781',
  }),
  'cx.feedback.submitted': event('cx.feedback.submitted', 'urn:cx:surveys', 'survey-8f3a2c', '2025-03-14T10:40:12Z', {
    nps: 3,
    csat: 2,
    ces: 6,
    comment: 'Nine minutes on hold and nobody told me why.',
    momentId: CALL,
  }),
  'cx.complaint.filed': event('cx.complaint.filed', 'urn:cx:callcentre:madrid', 'cmp-2025-0142-filed', '2025-03-14T10:31:40Z', {
    complaintId: COMPLAINT,
    category: 'billing',
    channel: 'phone',
    severity: 'high',
    description: 'Charged twice for the March invoice.',
    momentId: CALL,
  }),
  'cx.complaint.acknowledged': event('cx.complaint.acknowledged', complaintDesk, 'cmp-2025-0142-ack', '2025-03-14T11:05:00Z', {
    complaintId: COMPLAINT,
  }),
  'cx.complaint.routed': event('cx.complaint.routed', complaintDesk, 'cmp-2025-0142-routed', '2025-03-14T11:06:30Z', {
    complaintId: COMPLAINT,
    area: 'billing',
  }),
  'cx.complaint.resolved': event('cx.complaint.resolved', 'urn:cx:billing', 'cmp-2025-0142-resolved-1', '2025-03-15T16:20:00Z', {
    complaintId: COMPLAINT,
    resolution: 'The duplicate charge of 89.90 EUR was refunded to the customer’s card.',
    rootCause: 'The payment gateway retried a timed-out charge without an idempotency key.',
  }),
  'cx.complaint.confirmed': event('cx.complaint.confirmed', complaintDesk, 'cmp-2025-0142-confirmed', '2025-03-27T10:00:00Z', {
    complaintId: COMPLAINT,
  }),
  'cx.complaint.reopened': event('cx.complaint.reopened', complaintDesk, 'cmp-2025-0142-reopened-1', '2025-03-25T09:12:00Z', {
    complaintId: COMPLAINT,
    reason: 'The refund has not arrived after ten days.',
  }),
  'cx.complaint.closed': event('cx.complaint.closed', complaintDesk, 'cmp-2025-0142-closed', '2025-03-27T10:05:00Z', {
    complaintId: COMPLAINT,
  }),
};

const exampleKey = (type: IngestEventType): string => type.replace(/^cx\./, '').replace(/\./g, '-');

const rejected = (field: string, message: string) => ({ status: 'rejected', errors: [{ field, message }] });
const contentTypeMessage = 'send application/json, application/cloudevents+json or application/cloudevents-batch+json';

const examples: Record<string, ExampleObject> = {
  ...Object.fromEntries(
    ingestTypes.map((type) => [
      exampleKey(type),
      { summary: `${type}`, description: meaning[type], value: exampleEvents[type] } satisfies ExampleObject,
    ]),
  ),
  'moment-recorded': {
    summary: 'A moment of truth at the call centre',
    description:
      'A billing call: nine minutes on hold against the two announced, the wait not explained, the outcome negative. A poor phone moment is a retention risk signal.',
    value: exampleEvents['cx.moment.recorded'],
  },
  'feedback-submitted': {
    summary: 'An NPS answer rating that call',
    description: 'A detractor (NPS 3), unsatisfied (CSAT 2) and high effort (CES 6), linked to the call by `momentId`.',
    value: exampleEvents['cx.feedback.submitted'],
  },
  'complaint-filed': {
    summary: 'A complaint filed during the call',
    description: 'A high-severity billing complaint about a double charge; the complaint process starts in `filed`.',
    value: exampleEvents['cx.complaint.filed'],
  },
  batch: {
    summary: 'A batch: the call, the complaint and the survey answer',
    value: [exampleEvents['cx.moment.recorded'], exampleEvents['cx.complaint.filed'], exampleEvents['cx.feedback.submitted']],
  },
  accepted: { summary: 'Stored', value: { id: CALL, status: 'accepted', position: '48213' } },
  duplicate: {
    summary: 'Sent before (same source and id): not stored again',
    value: { id: CALL, status: 'duplicate', position: '48213' },
  },
  'batch-accepted': {
    summary: 'The batch above, stored',
    value: {
      accepted: 3,
      duplicates: 0,
      rejected: 0,
      position: '48216',
      results: [
        { id: CALL, status: 'accepted', position: '48214' },
        { id: 'cmp-2025-0142-filed', status: 'accepted', position: '48215' },
        { id: 'survey-8f3a2c', status: 'accepted', position: '48216' },
      ],
    },
  },
  'batch-resent': {
    summary: 'The same batch sent again: nothing stored twice',
    value: {
      accepted: 0,
      duplicates: 3,
      rejected: 0,
      position: '48216',
      results: [
        { id: CALL, status: 'duplicate', position: '48214' },
        { id: 'cmp-2025-0142-filed', status: 'duplicate', position: '48215' },
        { id: 'survey-8f3a2c', status: 'duplicate', position: '48216' },
      ],
    },
  },
  'batch-mixed': {
    summary: 'A batch with one invalid event: the others are stored',
    value: {
      accepted: 2,
      duplicates: 0,
      rejected: 1,
      position: '48218',
      results: [
        { id: 'call-20250314-000418', status: 'accepted', position: '48217' },
        { id: 'survey-9b41d0', status: 'rejected', errors: [{ field: 'data.nps', message: 'must not be greater than 10' }] },
        { id: 'call-20250314-000419', status: 'accepted', position: '48218' },
      ],
    },
  },
  'batch-conflict': {
    summary: 'A batch with a complaint transition out of order (not atomic)',
    value: {
      accepted: 1,
      duplicates: 0,
      rejected: 1,
      position: '48219',
      results: [
        { id: 'cmp-2025-0142-ack', status: 'accepted', position: '48219' },
        {
          id: 'cmp-2025-0142-confirmed',
          status: 'rejected',
          errors: [{ field: 'type', message: `cx.complaint.confirmed is not allowed: complaint ${COMPLAINT} is acknowledged` }],
          current: { stream: `complaint-${COMPLAINT}`, status: 'acknowledged' },
        },
      ],
    },
  },
  'atomic-aborted': {
    summary: '?atomic=true and one event invalid: nothing stored',
    value: {
      accepted: 0,
      duplicates: 0,
      rejected: 1,
      position: '0',
      results: [
        { id: 'call-20250314-000420', status: 'aborted' },
        {
          id: 'call-20250314-000421',
          status: 'rejected',
          errors: [{ field: 'data.channel', message: `must be one of ${channels.join(', ')}` }],
        },
      ],
    },
  },
  'atomic-conflict': {
    summary: '?atomic=true and one transition out of order: nothing stored',
    value: {
      accepted: 0,
      duplicates: 0,
      rejected: 1,
      position: '0',
      results: [
        { id: 'call-20250314-000422', status: 'aborted' },
        {
          id: 'cmp-2025-0177-routed',
          status: 'rejected',
          errors: [{ field: 'type', message: 'cx.complaint.routed is not allowed: complaint CMP-2025-0177 is none' }],
          current: { stream: 'complaint-CMP-2025-0177', status: 'none' },
        },
      ],
    },
  },
  invalid: {
    summary: 'Invalid fields: each one named',
    value: {
      status: 'rejected',
      errors: [
        { field: 'subject', message: 'must be a customer id: 1-128 letters, digits or . _ : @ + = -, starting with a letter or digit' },
        { field: 'time', message: 'must be an RFC 3339 timestamp, such as 2025-01-31T09:30:00Z' },
        { field: 'data.nps', message: 'must not be greater than 10' },
        { field: 'data.surprise', message: 'property surprise should not exist' },
      ],
    },
  },
  'no-score': { summary: 'An answer without a score', value: rejected('data', 'must contain at least one of nps, csat, ces') },
  'unknown-type': { summary: 'An unknown type', value: rejected('type', `must be one of ${ingestTypes.join(', ')}`) },
  'wrong-customer': {
    summary: "A complaint event whose subject is not the complaint's customer",
    value: rejected('subject', "does not match the complaint's customer"),
  },
  'bad-specversion': { summary: 'specversion other than 1.0', value: rejected('specversion', 'must be "1.0"') },
  'malformed-json': {
    summary: 'Malformed JSON',
    value: rejected('body', 'malformed JSON: Expected double-quoted property name in JSON at position 22'),
  },
  'not-an-event': {
    summary: 'A body that is neither an object nor an array',
    value: rejected('body', 'the body must be a CloudEvent (a JSON object) or a batch (a JSON array)'),
  },
  'empty-batch': { summary: 'An empty batch', value: rejected('body', 'the batch is empty') },
  'batch-as-one': {
    summary: 'An array sent as application/cloudevents+json',
    value: rejected('body', 'application/cloudevents+json carries one event; send a batch as application/cloudevents-batch+json'),
  },
  'bad-atomic': { summary: 'atomic other than true or false', value: rejected('atomic', 'must be true or false') },
  'no-key': {
    summary: 'No key sent',
    value: rejected('authorization', 'an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>'),
  },
  'bad-key': { summary: 'An unknown or revoked key', value: rejected('authorization', 'the API key is not valid') },
  'missing-scope': { summary: 'A key without the ingest scope', value: rejected('authorization', 'this API key lacks the scope ingest needed here') },
  conflict: {
    summary: 'A complaint resolved before it was routed',
    value: {
      status: 'rejected',
      errors: [{ field: 'type', message: `cx.complaint.resolved is not allowed: complaint ${COMPLAINT} is filed` }],
      current: { stream: `complaint-${COMPLAINT}`, status: 'filed' },
    },
  },
  'body-too-large': {
    summary: 'A body over 1 MiB',
    value: rejected('body', `the body is larger than ${MAX_BODY_BYTES} bytes (1 MiB); send smaller batches`),
  },
  'batch-too-large': {
    summary: `More than ${DOCUMENTED_MAX_BATCH_EVENTS} events`,
    value: rejected('body', `a batch takes at most ${DOCUMENTED_MAX_BATCH_EVENTS} events, got 1500`),
  },
  'unsupported-media-type': { summary: 'Another media type', value: rejected('content-type', contentTypeMessage) },
  healthy: {
    summary: 'Up, the projections caught up',
    value: {
      status: 'ok',
      database: 'embedded',
      store: { status: 'up', adapter: 'postgres (embedded PGlite)', headPosition: '48256' },
      projections: {
        status: 'up',
        list: [
          { name: 'changes', version: 1, position: '48256', status: 'running', lagEvents: 0, lagSeconds: 0 },
          { name: 'complaints', version: 1, position: '48256', status: 'running', lagEvents: 0, lagSeconds: 0 },
          { name: 'customer360', version: 1, position: '48256', status: 'running', lagEvents: 0, lagSeconds: 0 },
          { name: 'customerValue', version: 1, position: '48256', status: 'running', lagEvents: 0, lagSeconds: 0 },
          { name: 'journey', version: 2, position: '48256', status: 'running', lagEvents: 0, lagSeconds: 0 },
          { name: 'retentionEpisodes', version: 1, position: '48256', status: 'running', lagEvents: 0, lagSeconds: 0 },
          { name: 'satisfaction', version: 1, position: '48256', status: 'running', lagEvents: 0, lagSeconds: 0 },
        ],
      },
      uptimeSeconds: 8130,
    },
  },  unhealthy: {
    summary: 'The event store does not answer',
    value: {
      status: 'unavailable',
      database: 'postgres',
      store: { status: 'down', adapter: 'postgres', error: 'connect ECONNREFUSED 10.0.4.12:5432' },
      projections: { status: 'down', error: 'connect ECONNREFUSED 10.0.4.12:5432' },
      uptimeSeconds: 8131,
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

const cloudEventAttributes: JsonSchema = {
  type: 'object',
  description:
    'CloudEvents 1.0 attributes in the JSON format. Other attributes are CloudEvents extensions (such as `traceparent`): names of 1-20 lower-case letters or digits, values string, number or boolean; they are kept in the stored event\'s metadata.',
  required: ['specversion', 'id', 'source', 'type', 'subject', 'data'],
  properties: {
    specversion: { type: 'string', const: '1.0' },
    id: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: 'Unique per `source`. The same `source` and `id` sent again is a duplicate: answered, never stored twice.',
    },
    source: { type: 'string', minLength: 1, maxLength: 1024, description: 'The sending system, as a URI reference.', examples: ['urn:cx:callcentre:madrid'] },
    type: { type: 'string', enum: ingestTypes, description: 'Any other type is rejected with the list of known types.' },
    subject: { type: 'string', pattern: ID_PATTERN, description: 'The customer id. A customer exists from its first event of any type.', examples: [CUSTOMER] },
    time: {
      type: 'string',
      format: 'date-time',
      description: 'RFC 3339 with a time zone, when it happened. Absent: the time the platform received it.',
    },
    datacontenttype: { type: 'string', const: 'application/json', description: 'Accepted when `application/json`; not stored.' },
    dataschema: { type: 'string', description: 'Accepted and not stored.' },
    data: { type: 'object', description: 'The fields of the event type (see the schema of each type).' },
  },
  propertyNames: { pattern: '^[a-z0-9]{1,20}$' },
  additionalProperties: { type: ['string', 'number', 'boolean'] },
};

const eventSchemas: Record<string, JsonSchema> = Object.fromEntries(
  ingestTypes.map((type) => [
    eventSchemaName(type),
    {
      title: type,
      description: `${meaning[type]} Stored as \`${ingestEventTypes[type].storedType}\` in the stream ${
        { complaint: '`complaint-<data.complaintId>`', customer: '`customer-<subject>`', moment: 'of its own, `moment-<stored event id>`', feedback: 'of its own, `feedback-<stored event id>`' }[ingestEventTypes[type].stream]
      }.`,
      allOf: [
        schemaRef('CloudEventAttributes'),
        {
          type: 'object',
          properties: { type: { type: 'string', const: type }, data: schemaRef(dataSchemaNames[type]) },
        },
      ],
    } satisfies JsonSchema,
  ]),
);

const fieldError: JsonSchema = {
  type: 'object',
  required: ['field', 'message'],
  properties: {
    field: {
      type: 'string',
      description: 'The bad field: a CloudEvents attribute (`subject`, `time`), a data field (`data.nps`), `data`, `body`, `content-type`, `atomic`, `authorization`; a query parameter (`limit`, `minPosition`), a path parameter (`id`) or a body field of the query and ops API.',
      examples: ['data.nps'],
    },
    message: { type: 'string', examples: ['must not be greater than 10'] },
  },
};

const complaintStateSchema: JsonSchema = {
  type: 'object',
  description: 'The complaint as it is now: the transition asked for is not allowed from this status.',
  required: ['stream', 'status'],
  properties: {
    stream: { type: 'string', examples: [`complaint-${COMPLAINT}`] },
    status: { type: 'string', enum: complaintStatuses, description: '`none`: no complaint with this id was filed.' },
  },
};

const schemas: Record<string, JsonSchema> = {
  Position: {
    type: 'string',
    pattern: POSITION_PATTERN,
    description: 'A position in the global event log: a 64-bit integer, as a string of digits. Compare as integers, not as text.',
    examples: ['48213'],
  },
  CloudEventAttributes: cloudEventAttributes,
  ...Object.fromEntries(ingestTypes.map((type) => [dataSchemaNames[type], { title: `data of ${type}`, description: meaning[type], ...dataSchemas[type] }])),
  ...eventSchemas,
  CloudEvent: {
    description: 'One CloudEvent; `type` decides the schema of `data`.',
    oneOf: ingestTypes.map((type) => schemaRef(eventSchemaName(type))),
    discriminator: {
      propertyName: 'type',
      mapping: Object.fromEntries(ingestTypes.map((type) => [type, `#/components/schemas/${eventSchemaName(type)}`])),
    },
  },
  CloudEventBatch: {
    type: 'array',
    description: `Up to ${DOCUMENTED_MAX_BATCH_EVENTS} events, each validated and answered on its own, in input order.`,
    minItems: 1,
    maxItems: DOCUMENTED_MAX_BATCH_EVENTS,
    items: schemaRef('CloudEvent'),
  },
  IngestResult: {
    type: 'object',
    description: 'The answer to one event.',
    required: ['id', 'status', 'position'],
    properties: {
      id: { type: 'string', description: 'The CloudEvents `id` sent.' },
      status: { type: 'string', enum: ['accepted', 'duplicate'], description: '`duplicate`: this `source` and `id` were stored before; nothing was stored now.' },
      position: position('The log position of the stored event (for a duplicate, of the event stored the first time): wait for projections to reach it.'),
    },
  },
  FieldError: fieldError,
  Rejection: {
    type: 'object',
    required: ['status', 'errors'],
    properties: { status: { type: 'string', const: 'rejected' }, errors: { type: 'array', minItems: 1, items: schemaRef('FieldError') } },
  },
  ComplaintState: complaintStateSchema,
  ConflictRejection: {
    description: 'A complaint event out of order, with the complaint\'s current state.',
    allOf: [schemaRef('Rejection'), { type: 'object', required: ['current'], properties: { current: schemaRef('ComplaintState') } }],
  },
  StoredItemResult: {
    type: 'object',
    required: ['id', 'status', 'position'],
    properties: {
      id: { type: 'string' },
      status: { type: 'string', enum: ['accepted', 'duplicate'] },
      position: position('The log position of this event.'),
    },
  },
  RejectedItemResult: {
    type: 'object',
    required: ['status', 'errors'],
    properties: {
      id: { type: 'string', description: 'Absent when the event had no string `id`.' },
      status: { type: 'string', const: 'rejected' },
      errors: { type: 'array', minItems: 1, items: schemaRef('FieldError') },
      current: { ...schemaRef('ComplaintState'), description: 'Present when a complaint transition was out of order.' },
    },
  },
  AbortedItemResult: {
    type: 'object',
    description: 'Valid, but not stored: the batch was atomic and another event was rejected.',
    required: ['id', 'status'],
    properties: { id: { type: 'string' }, status: { type: 'string', const: 'aborted' } },
  },
  BatchItemResult: {
    oneOf: [schemaRef('StoredItemResult'), schemaRef('RejectedItemResult'), schemaRef('AbortedItemResult')],
    discriminator: {
      propertyName: 'status',
      mapping: {
        accepted: '#/components/schemas/StoredItemResult',
        duplicate: '#/components/schemas/StoredItemResult',
        rejected: '#/components/schemas/RejectedItemResult',
        aborted: '#/components/schemas/AbortedItemResult',
      },
    },
  },
  BatchOutcome: {
    type: 'object',
    required: ['accepted', 'duplicates', 'rejected', 'position', 'results'],
    properties: {
      accepted: { type: 'integer', minimum: 0, description: 'Events stored now.' },
      duplicates: { type: 'integer', minimum: 0, description: 'Events stored before (or earlier in this batch), not stored again.' },
      rejected: { type: 'integer', minimum: 0 },
      position: position('The highest log position among the batch\'s stored events (new or duplicate); "0" when none.'),
      results: { type: 'array', description: 'One per event sent, in input order.', items: schemaRef('BatchItemResult') },
    },
  },
  HealthCheck: {
    type: 'object',
    description: 'What a module reports (the Kafka relay, later ones): `degraded` keeps 200, `down` makes it 503.',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'degraded', 'down'] }, error: { type: 'string', description: 'Why the check failed, when it threw.' } },
    additionalProperties: true,
  },
  Health: {
    type: 'object',
    required: ['status', 'database', 'store', 'uptimeSeconds'],
    properties: {
      status: {
        type: 'string',
        enum: ['ok', 'degraded', 'unavailable'],
        description: '`unavailable` (503): the event store or a check is down; `degraded` (200): the app serves, but a check needs someone to look (a failed projection).',
      },
      database: { type: 'string', enum: ['embedded', 'postgres'], description: 'embedded: the built-in PGlite database; postgres: a PostgreSQL server (DATABASE_URL).' },
      store: {
        type: 'object',
        required: ['status', 'adapter'],
        properties: {
          status: { type: 'string', enum: ['up', 'down'] },
          adapter: { type: 'string' },
          headPosition: position('The position of the last event in the log, when up.'),
          error: { type: 'string', description: 'Why the store did not answer, when down.' },
        },
      },
      projections: {
        type: 'object',
        description: 'In the apps that serve or fold the read models: `degraded` when a projection failed; `down` with `error` when their checkpoints cannot be read.',
        required: ['status'],
        properties: {
          status: { type: 'string', enum: ['up', 'degraded', 'down'] },
          list: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'version', 'position', 'status', 'lagEvents', 'lagSeconds'],
              properties: {
                name: { type: 'string' },
                version: { type: 'integer', minimum: 1 },
                position: position('Its checkpoint.'),
                status: { type: 'string', enum: ['starting', 'running', 'standby', 'failed', 'stopped', 'rebuilding'] },
                lagEvents: { type: 'integer', minimum: 0 },
                lagSeconds: { type: 'number', minimum: 0 },
                error: { type: 'object', required: ['message', 'position'], properties: { message: { type: 'string' }, position: position('The event it failed on.') } },
              },
            },
          },
          error: { type: 'string', description: 'Why the check failed, when it threw.' },
        },
      },
      uptimeSeconds: { type: 'integer', minimum: 0 },
    },
    additionalProperties: schemaRef('HealthCheck'),
  },
  InternalError: {
    type: 'object',
    description: 'An unexpected failure (the database unreachable, say); nothing of the request was stored.',
    properties: { statusCode: { type: 'integer', const: 500 }, message: { type: 'string', const: 'Internal server error' } },
  },
};

// ---------------------------------------------------------------------------------------------
// Responses, headers, parameters
// ---------------------------------------------------------------------------------------------

const responses: Record<string, ResponseObject> = {
  Unauthorized: {
    description: 'No API key, an unknown or revoked key, another Authorization scheme without X-API-Key, or two different keys in the two headers.',
    headers: {
      ...correlationHeader,
      'WWW-Authenticate': {
        description: '`Bearer realm="cx"` when no key was sent; `Bearer realm="cx", error="invalid_token"` when the key was not accepted.',
        required: true,
        schema: { type: 'string' },
      },
    },
    content: json(schemaRef('Rejection'), ['no-key', 'bad-key']),
  },
  ForbiddenIngest: forbidden('ingest', 'missing-scope'),
  PayloadTooLarge: {
    description: `The body is over ${MAX_BODY_BYTES} bytes (1 MiB), or a batch has more than ${DOCUMENTED_MAX_BATCH_EVENTS} events. Nothing was stored.`,
    headers: correlationHeader,
    content: json(schemaRef('Rejection'), ['body-too-large', 'batch-too-large']),
  },
  UnsupportedMediaType: {
    description: `Content-Type is missing or not one of ${JSON_TYPES.join(', ')}.`,
    headers: correlationHeader,
    content: json(schemaRef('Rejection'), ['unsupported-media-type']),
  },
  InternalError: {
    description: 'An unexpected failure; nothing of the request was stored. Safe to retry: events already stored come back as duplicates.',
    headers: correlationHeader,
    content: json(schemaRef('InternalError')),
  },
};

const headers: Record<string, HeaderObject> = {
  'X-Correlation-Id': {
    description: 'The correlation id of the request: the X-Correlation-Id sent, else the trace id of the traceparent sent, else a new UUID. Stored in the metadata of every event of the request and on every log line.',
    required: true,
    schema: { type: 'string' },
  },
};

const parameters: Record<string, ParameterObject> = {
  'X-Correlation-Id': {
    name: 'X-Correlation-Id',
    in: 'header',
    description: 'Your correlation id, echoed in the response and stored with each event. Ignored unless it matches the pattern.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' },
    example: 'order-7781-retry-2',
  },
  traceparent: {
    name: 'traceparent',
    in: 'header',
    description: 'W3C Trace Context. Without X-Correlation-Id, its trace id becomes the correlation id.',
    schema: { type: 'string', pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' },
    example: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  },
  atomic: {
    name: 'atomic',
    in: 'query',
    description: 'Batches only. `true`: all or nothing; if any event is rejected none is stored, the valid ones are answered `aborted`, and the status is 409 when a complaint transition was out of order, 400 otherwise.',
    required: false,
    schema: { type: 'string', enum: ['true', 'false'], default: 'false' },
  },
};

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

const singleExamples = (): Record<string, Reference> =>
  Object.fromEntries(
    ['moment-recorded', 'feedback-submitted', 'complaint-filed', ...ingestTypes.map(exampleKey)]
      .filter((name, index, all) => all.indexOf(name) === index)
      .map((name) => [name, ref('examples', name)]),
  );

const ingestOperation: OperationObject = {
  operationId: 'ingestEvents',
  summary: 'Send CloudEvents: one event, or a batch',
  tags: ['ingest'],
  description: [
    'CloudEvents 1.0 in the JSON format, from channel systems: moments of truth, survey answers, complaints and customer profiles.',
    '',
    '- **One event** (a JSON object) as `application/json` or `application/cloudevents+json`: `202` with its result, or `400`/`409` when rejected.',
    '- **A batch** (a JSON array) as `application/cloudevents-batch+json` or `application/json`: `200` with one result per event, in input order. Valid events are stored even when others are rejected; with `?atomic=true` the batch is all or nothing.',
    '',
    `Limits: the body up to ${MAX_BODY_BYTES} bytes (1 MiB), a batch up to ${DOCUMENTED_MAX_BATCH_EVENTS} events (413 beyond).`,
    '',
    'Idempotent: the same `source` and `id` sent again is answered `duplicate` with the position it was stored at, and never stored twice, so a timed-out request can be retried as it is.',
    '',
    'Personal data (customer `name`, `email`, `phone`, feedback `comment`, complaint `description`, marked `x-pii`) is encrypted with the customer\'s own key before it is stored.',
    '',
    'The body is parsed before the key is checked: a malformed or oversized body is answered 400/413 even without a key.',
  ].join('\n'),
  security: [{ bearer: ['ingest'] }, { apiKey: ['ingest'] }],
  parameters: [ref('parameters', 'atomic'), ref('parameters', 'X-Correlation-Id'), ref('parameters', 'traceparent')],
  requestBody: {
    required: true,
    description: 'One CloudEvent, or an array of them.',
    content: {
      'application/cloudevents+json': { schema: schemaRef('CloudEvent'), examples: singleExamples() },
      'application/cloudevents-batch+json': { schema: schemaRef('CloudEventBatch'), examples: { batch: ref('examples', 'batch') } },
      'application/json': {
        schema: { oneOf: [schemaRef('CloudEvent'), schemaRef('CloudEventBatch')] },
        examples: { ...singleExamples(), batch: ref('examples', 'batch') },
      },
    },
  },
  responses: {
    '200': {
      description: 'A batch was processed (not atomic, or atomic with every event valid): one result per event, in input order.',
      headers: correlationHeader,
      content: json(schemaRef('BatchOutcome'), ['batch-accepted', 'batch-resent', 'batch-mixed', 'batch-conflict']),
    },
    '202': {
      description: 'One event, stored (`accepted`) or stored before (`duplicate`).',
      headers: correlationHeader,
      content: json(schemaRef('IngestResult'), ['accepted', 'duplicate']),
    },
    '400': {
      description:
        'Rejected, nothing stored: invalid fields (each one named), an unknown `type`, malformed JSON, a body that is neither object nor array, an empty batch, a batch sent as `application/cloudevents+json` or one event as `application/cloudevents-batch+json`, a bad `atomic`; or an atomic batch with an invalid event (then the batch outcome).',
      headers: correlationHeader,
      content: json({ oneOf: [schemaRef('Rejection'), schemaRef('BatchOutcome')] }, [
        'invalid',
        'no-score',
        'unknown-type',
        'wrong-customer',
        'bad-specversion',
        'malformed-json',
        'not-an-event',
        'empty-batch',
        'batch-as-one',
        'bad-atomic',
        'atomic-aborted',
      ]),
    },
    '401': ref('responses', 'Unauthorized'),
    '403': ref('responses', 'ForbiddenIngest'),
    '409': {
      description:
        'A complaint event out of order (resolved before routed, anything after closed, filed twice with another id…): rejected with the complaint\'s current state. For an atomic batch, the batch outcome (the item carries `current`).',
      headers: correlationHeader,
      content: json({ oneOf: [schemaRef('ConflictRejection'), schemaRef('BatchOutcome')] }, ['conflict', 'atomic-conflict']),
    },
    '413': ref('responses', 'PayloadTooLarge'),
    '415': ref('responses', 'UnsupportedMediaType'),
    '500': ref('responses', 'InternalError'),
  },
};

const healthOperation: OperationObject = {
  operationId: 'health',
  summary: 'Whether the platform can serve',
  description: 'Public. 200 while the event store answers and no module check is down, 503 otherwise, with what was checked: the store, and what the modules report (the projections\' progress in the apps that have them). A failed projection makes it `degraded`, still 200. Positions are strings (64-bit).',
  tags: ['operations'],
  responses: {
    '200': { description: 'Up.', headers: correlationHeader, content: json(schemaRef('Health'), ['healthy']) },
    '503': { description: 'The event store does not answer, or a module check is down.', headers: correlationHeader, content: json(schemaRef('Health'), ['unhealthy']) },
  },
};

const openApiOperation: OperationObject = {
  operationId: 'openApiDocument',
  summary: 'This document',
  description: 'Public. The OpenAPI 3.1 description of the HTTP API.',
  tags: ['documentation'],
  responses: {
    '200': { description: 'The document.', headers: correlationHeader, content: { 'application/json': { schema: { type: 'object' } } } },
  },
};

const docsOperation: OperationObject = {
  operationId: 'apiDocsPage',
  summary: 'Browsable API documentation',
  description: `Public. An HTML page (Swagger UI, served by the app itself; works offline) that shows ${OPENAPI_PATH}.`,
  tags: ['documentation'],
  responses: {
    '200': { description: 'The page.', headers: correlationHeader, content: { 'text/html': { schema: { type: 'string' } } } },
  },
};

const initializerOperation: OperationObject = {
  operationId: 'apiDocsInitializer',
  summary: 'The script that starts Swagger UI on the page',
  description: `Public. Points Swagger UI at ${OPENAPI_PATH}; a file of its own so a Content-Security-Policy without 'unsafe-inline' does not break the page.`,
  tags: ['documentation'],
  responses: {
    '200': { description: 'The script.', headers: correlationHeader, content: { 'text/javascript': { schema: { type: 'string' } } } },
  },
};

const assetOperation: OperationObject = {
  operationId: 'apiDocsAsset',
  summary: 'A file of Swagger UI',
  description: 'Public. Only the listed files of the swagger-ui-dist package, with `Cache-Control: public, max-age=86400` and an ETag; any other name is 404.',
  tags: ['documentation'],
  parameters: [
    {
      name: 'file',
      in: 'path',
      required: true,
      description: 'The file.',
      schema: { type: 'string', enum: ['swagger-ui.css', 'index.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png'] },
    },
  ],
  responses: {
    '200': {
      description: 'The file, with its media type.',
      headers: correlationHeader,
      content: { 'text/css': { schema: { type: 'string' } }, 'text/javascript': { schema: { type: 'string' } }, 'image/png': { schema: { type: 'string' } } },
    },
    '404': { description: 'Not one of the listed files.', headers: correlationHeader },
  },
};

const scopeList = API_SCOPES.map((scope) => `\`${scope}\``).join(', ');

/** The ingest API, health and this documentation: the part written first. */
const basePart: DocumentPart = {
  tags: [
    { name: 'ingest', description: 'Events from channel systems (scope `ingest`).' },
    { name: 'operations', description: 'Health, the projections\' progress, metrics.' },
    { name: 'documentation', description: 'This document and its page.' },
  ],
  paths: {
    '/v1/events': { post: ingestOperation },
    '/health': { get: healthOperation },
    [OPENAPI_PATH]: { get: openApiOperation },
    [DOCS_PATH]: { get: docsOperation },
    [`${DOCS_PATH}/assets/swagger-initializer.js`]: { get: initializerOperation },
    [`${DOCS_PATH}/assets/{file}`]: { get: assetOperation },
  },
  components: { schemas, responses, parameters, headers, examples },
};

/** Joins the parts; a name two parts both define would silently lose one, so it throws. */
function joined<T>(what: string, ...records: ReadonlyArray<Record<string, T>>): Record<string, T> {
  const result: Record<string, T> = {};
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) {
      if (Object.hasOwn(result, name)) throw new Error(`the OpenAPI document defines ${what} ${name} twice`);
      result[name] = value;
    }
  }
  return result;
}

const parts = [basePart, queryPart];
const components = {
  schemas: joined('the schema', ...parts.map((part) => part.components.schemas)),
  responses: joined('the response', ...parts.map((part) => part.components.responses)),
  parameters: joined('the parameter', ...parts.map((part) => part.components.parameters)),
  headers: joined('the header', ...parts.map((part) => part.components.headers)),
  examples: joined('the example', ...parts.map((part) => part.components.examples)),
};
const paths = joined('the path', ...parts.map((part) => part.paths));
const tagOrder = ['ingest', 'customers', 'analytics', 'changes', 'retention', 'operations', 'documentation'];
const documentTags = parts.flatMap((part) => part.tags).sort((a, b) => tagOrder.indexOf(a.name) - tagOrder.indexOf(b.name));

/** The OpenAPI 3.1 description of the platform's HTTP API. */
export function openApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'CX platform API',
      version: '0.1.0',
      summary: 'Event-sourced customer experience: moments of truth, survey answers, complaints and customers.',
      description: [
        'Channel systems send what happens to customers as CloudEvents; the platform stores every event and builds its views from them: the 360-degree view and journey of each customer, satisfaction at every touchpoint, the complaint funnel, the impact of changes, ABC tiers and risk alerts.',
        '',
        `Authentication: an API key as \`Authorization: Bearer <key>\` or \`X-API-Key: <key>\`. Keys have scopes (${scopeList}); a route lists the scopes it needs. No key: 401; a key without the scope: 403.`,
        '',
        'Every response carries `X-Correlation-Id`. Log positions are 64-bit integers sent as strings of digits.',
        '',
        'Read-your-writes: the queries take the `position` an ingest call returned as `minPosition` (or `X-Cx-Min-Position`) and wait, up to 5 s, until the read models they read have reached it; otherwise 503 with `Retry-After`.',
        '',
        'Errors: `{ "status": "rejected", "errors": [ { "field", "message" } ] }` (400, 401, 403, 409, 413, 415); `"not_found"` (404) and `"unavailable"` (503) have the same shape.',
      ].join('\n'),
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl.replace(/\/+$/, '') }] } : {}),
    tags: documentTags,
    paths,
    components: {
      ...components,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: `An API key as \`Authorization: Bearer <key>\`. Scopes: ${scopeList}.`,
        },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: `An API key as \`X-API-Key: <key>\`. Scopes: ${scopeList}.` },
      },
    },
  };
}
