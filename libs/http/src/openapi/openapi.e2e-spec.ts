import { type CloudEventJson, generateJourneys, startTestApp, type TestApp, testBackend } from '@cx/testing';
import { writeFileSync } from 'node:fs';
import { operationsOf, schemaChecker } from './openapi.check.testing.js';
import { exampleEvents, openApiDocument } from './openapi.document.js';
import type { ExampleObject, OperationObject, ResponseObject } from './openapi.types.js';

/**
 * The query and ops API against its OpenAPI document: the app is loaded with the examples' story
 * (the customer of the ingest examples among forty generated ones), every documented example is
 * asked for and compared with the real answer, and every answer must have a documented status and
 * fit its schema strictly (no field the document does not describe).
 *
 * The examples of openapi.query-examples.ts are these answers. To capture them again after a change:
 *   CX_OPENAPI_CAPTURE=/tmp/answers.json npm test -- libs/http/src/openapi/openapi.e2e-spec.ts
 */

const document = openApiDocument();
const checker = schemaChecker(document);
const capture = process.env.CX_OPENAPI_CAPTURE;

const KEYS = { ingest: 'openapi-e2e-ingest-0123456789', read: 'openapi-e2e-read-0123456789', ops: 'openapi-e2e-ops-0123456789' };
type Key = keyof typeof KEYS | 'unknown' | null;

/** Forty generated customers over six weeks around the story; deterministic for the seed. */
const background: CloudEventJson[] = generateJourneys({ customers: 40, days: 45, seed: 7, start: new Date('2025-02-15T00:00:00Z') });

const ce = (type: string, id: string, time: string, data: Record<string, unknown>, source = 'urn:cx:web') => ({
  specversion: '1.0',
  id,
  source,
  type,
  subject: 'cust-10482',
  time,
  data,
});

/** Ana's March: the ingest examples' customer, her earlier contacts, the bad call and the complaint it caused (reopened). */
const story = [
  exampleEvents['cx.customer.registered'],
  ce('cx.moment.recorded', 'web-20250305-88213', '2025-03-05T18:30:00Z', {
    kind: 'payment',
    channel: 'web',
    touchpoint: 'checkout',
    outcome: 'positive',
    amount: 30.6,
    currency: 'EUR',
    orderId: 'ORD-2025-03-5521',
  }),
  ce('cx.feedback.submitted', 'survey-51c7e0', '2025-03-05T19:02:00Z', { nps: 9, csat: 5, momentId: 'web-20250305-88213' }, 'urn:cx:surveys'),
  ce(
    'cx.moment.recorded',
    'branch-20250308-0042',
    '2025-03-08T11:10:00Z',
    { kind: 'advice', channel: 'branch', touchpoint: 'counter 3', outcome: 'positive', waitSeconds: 180, expectedWaitSeconds: 300, waitExplained: true, agentId: 'agent-031', area: 'sales' },
    'urn:cx:branch:madrid-centro',
  ),
  ce('cx.feedback.submitted', 'survey-6a90b4', '2025-03-08T12:00:00Z', { nps: 10, csat: 5, momentId: 'branch-20250308-0042' }, 'urn:cx:surveys'),
  ce('cx.moment.recorded', 'web-20250312-90117', '2025-03-12T09:45:00Z', {
    kind: 'payment',
    channel: 'web',
    touchpoint: 'checkout',
    outcome: 'neutral',
    amount: 120,
    currency: 'EUR',
    orderId: 'ORD-2025-03-6104',
  }),
  ce('cx.feedback.submitted', 'survey-7d22f1', '2025-03-12T10:30:00Z', { nps: 8, momentId: 'web-20250312-90117' }, 'urn:cx:surveys'),
  ce('cx.feedback.submitted', 'survey-7e01a9', '2025-03-13T08:00:00Z', { nps: 9 }, 'urn:cx:surveys'),
  exampleEvents['cx.moment.recorded'],
  exampleEvents['cx.complaint.filed'],
  exampleEvents['cx.feedback.submitted'],
  exampleEvents['cx.complaint.acknowledged'],
  exampleEvents['cx.complaint.routed'],
  exampleEvents['cx.complaint.resolved'],
  exampleEvents['cx.complaint.reopened'],
];

type Answer = { status: number; headers: Headers; body: unknown };
type Request = { method?: 'GET' | 'POST'; path: string; key?: Key; headers?: Record<string, string>; body?: unknown; raw?: string };

type Call = {
  /** What is asked, for the test's name. */
  name: string;
  /** The documented operation, `GET /v1/customers/{id}`. */
  operation: string;
  status: number;
  request: (seen: Map<string, Answer>) => Request;
  /** The component example the answer must equal (after `volatile`), or that only its schema checks (`schemaOnly`). */
  example?: string;
  /** The request body example sent (components.examples). */
  requestExample?: string;
  /** Keys whose values differ from run to run (ids, times of the run, log positions), anywhere in the answer. */
  volatile?: readonly string[];
  schemaOnly?: boolean;
};

/** Log positions differ between the backends (sequences) and runs; these keys hold them, or times of the run. */
const ALWAYS_VOLATILE = ['position', 'headPosition', 'recordedAt', 'updatedAt', 'lagSeconds', 'uptimeSeconds'];

let app: TestApp;
const seen = new Map<string, Answer>();
const captured: Record<string, { status: number; body: unknown }> = {};
let storyPosition = '0';

async function ask(request: Request): Promise<Answer> {
  const headers: Record<string, string> = { ...request.headers };
  const key = request.key === undefined ? 'read' : request.key;
  if (key === 'unknown') headers.authorization = 'Bearer not-a-key-of-this-platform-0123';
  else if (key !== null) headers.authorization = `Bearer ${KEYS[key]}`;
  if ((request.body !== undefined || request.raw !== undefined) && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await fetch(`${app.url}${request.path}`, {
    method: request.method ?? 'GET',
    headers,
    body: request.raw ?? (request.body === undefined ? undefined : JSON.stringify(request.body)),
  });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json');
  return { status: response.status, headers: response.headers, body: isJson && text ? JSON.parse(text) : text };
}

function normalized(value: unknown, volatile: ReadonlySet<string>, digits: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => normalized(item, volatile, digits));
  if (typeof value === 'string') return digits ? value.replace(/\d+/g, 'N') : value;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, volatile.has(key) ? '<varies>' : normalized(item, volatile, digits)]));
}

const operationOf = (name: string): OperationObject => {
  const [method, path] = name.split(' ');
  const operation = document.paths[path]?.[method.toLowerCase() as 'get' | 'post'];
  if (!operation) throw new Error(`${name} is not in the document`);
  return operation;
};

const exampleValue = (name: string): unknown => {
  const example = document.components.examples[name] as ExampleObject | undefined;
  if (!example) throw new Error(`no example ${name} in the document`);
  return example.value;
};

const q = (path: string, key?: Key): Request => ({ path, key });
const post = (path: string, body: unknown, key: Key = 'ops', extra: Partial<Request> = {}): Request => ({ method: 'POST', path, body, key, ...extra });
const min = () => `minPosition=${storyPosition}`;

const calls: Call[] = [
  // Customer 360
  { name: 'a customer', operation: 'GET /v1/customers/{id}', status: 200, example: 'customer-360', request: () => q(`/v1/customers/cust-10482?asOf=2025-03-26T00:00:00Z&${min()}`) },
  { name: 'a bad asOf', operation: 'GET /v1/customers/{id}', status: 400, example: 'customer-bad-as-of', request: () => q('/v1/customers/cust-10482?asOf=2025-13-01') },
  { name: 'an unknown customer', operation: 'GET /v1/customers/{id}', status: 404, example: 'customer-not-found', request: () => q('/v1/customers/cust-99999') },
  { name: 'no key', operation: 'GET /v1/customers/{id}', status: 401, example: 'no-key', request: () => q('/v1/customers/cust-10482', null) },
  { name: 'an unknown key', operation: 'GET /v1/customers/{id}', status: 401, example: 'bad-key', request: () => q('/v1/customers/cust-10482', 'unknown') },
  { name: 'a key without read', operation: 'GET /v1/customers/{id}', status: 403, example: 'missing-read-scope', request: () => q('/v1/customers/cust-10482', 'ingest') },
  {
    name: 'a page of customers',
    operation: 'GET /v1/customers',
    status: 200,
    example: 'customers-page',
    request: () => q(`/v1/customers?tier=B&atRisk=true&limit=2&asOf=2025-03-26T00:00:00Z&${min()}`),
  },
  { name: 'bad list parameters', operation: 'GET /v1/customers', status: 400, example: 'customers-bad-query', request: () => q('/v1/customers?tier=Z&limit=0&atRisk=yes') },
  {
    name: 'a foreign cursor, a bad asOf, a repeated tier',
    operation: 'GET /v1/customers',
    status: 400,
    example: 'customers-bad-cursor',
    request: () => q('/v1/customers?cursor=bm90LW91cnM!&asOf=yesterday&tier=A&tier=B'),
  },
  { name: 'a bad minPosition', operation: 'GET /v1/customers', status: 400, example: 'bad-min-position', request: () => q('/v1/customers?minPosition=latest') },
  // Journey
  {
    name: 'a journey page',
    operation: 'GET /v1/customers/{id}/journey',
    status: 200,
    example: 'journey-page',
    volatile: ['nextCursor'],
    request: () => q(`/v1/customers/cust-10482/journey?from=2025-03-14&limit=3&${min()}`),
  },
  {
    name: 'the next journey page',
    operation: 'GET /v1/customers/{id}/journey',
    status: 200,
    example: 'journey-next-page',
    volatile: ['nextCursor'],
    request: (s) => q(`/v1/customers/cust-10482/journey?from=2025-03-14&limit=3&cursor=${(s.get('journey-page')!.body as { nextCursor: string }).nextCursor}`),
  },
  {
    name: 'bad journey parameters',
    operation: 'GET /v1/customers/{id}/journey',
    status: 400,
    example: 'journey-bad-query',
    request: () => q('/v1/customers/cust-10482/journey?from=2025-03-20&to=2025-03-10&limit=5000&cursor=xyz'),
  },
  {
    name: 'a journey replayed as of the bad call',
    operation: 'GET /v1/customers/{id}/journey',
    status: 200,
    example: 'journey-replay',
    // Where the log was then (its position, when it got there) differs from run to run.
    volatile: ['asOf'],
    request: (s) => {
      const call = (s.get('journey-page')!.body as { events: Array<{ position: string }> }).events[0].position;
      return q(`/v1/customers/cust-10482/journey?asOf=${call}&from=2025-03-13`);
    },
  },
  { name: 'a bad asOf on the journey', operation: 'GET /v1/customers/{id}/journey', status: 400, example: 'journey-bad-as-of', request: () => q('/v1/customers/cust-10482/journey?asOf=last-week') },
  {
    name: 'a replay of an unknown customer',
    operation: 'GET /v1/customers/{id}/journey',
    status: 404,
    example: 'journey-replay-not-found',
    request: () => q('/v1/customers/cust-99999/journey?asOf=2025-03-31'),
  },
  { name: 'a bad customer id', operation: 'GET /v1/customers/{id}/journey', status: 400, example: 'journey-bad-id', request: () => q('/v1/customers/cust%2010482/journey') },
  { name: 'an unknown journey', operation: 'GET /v1/customers/{id}/journey', status: 404, example: 'journey-not-found', request: () => q('/v1/customers/cust-99999/journey') },
  // Satisfaction
  {
    name: 'weekly satisfaction by channel group',
    operation: 'GET /v1/metrics/satisfaction',
    status: 200,
    example: 'satisfaction-weekly',
    request: () => q(`/v1/metrics/satisfaction?from=2025-03-03&to=2025-03-17&interval=week&groupBy=channelGroup&${min()}`),
  },
  {
    name: 'a month of satisfaction',
    operation: 'GET /v1/metrics/satisfaction',
    status: 200,
    example: 'satisfaction-monthly',
    request: () => q('/v1/metrics/satisfaction?from=2025-03-01&to=2025-04-01&interval=month'),
  },
  {
    name: 'bad satisfaction parameters',
    operation: 'GET /v1/metrics/satisfaction',
    status: 400,
    example: 'satisfaction-bad-query',
    request: () => q('/v1/metrics/satisfaction?from=2025-03-01&to=2025-02-01&interval=hour&groupBy=kind,agent'),
  },
  {
    name: 'a repeated parameter',
    operation: 'GET /v1/metrics/satisfaction',
    status: 400,
    example: 'satisfaction-repeated-parameter',
    request: () => q('/v1/metrics/satisfaction?from=2025-03-01&from=2025-03-08'),
  },
  // Complaint funnel
  { name: 'the funnel', operation: 'GET /v1/funnels/complaints', status: 200, example: 'funnel', request: () => q(`/v1/funnels/complaints?from=2025-03-01&to=2025-04-01&${min()}`) },
  {
    name: 'the funnel by category',
    operation: 'GET /v1/funnels/complaints',
    status: 200,
    example: 'funnel-by-category',
    request: () => q('/v1/funnels/complaints?from=2025-03-01&to=2025-04-01&groupBy=category'),
  },
  { name: 'bad funnel parameters', operation: 'GET /v1/funnels/complaints', status: 400, example: 'funnel-bad-query', request: () => q('/v1/funnels/complaints?from=2025-03-32&groupBy=severity') },
  // Changes
  {
    name: 'record a change',
    operation: 'POST /v1/changes',
    status: 201,
    requestExample: 'change-callback',
    example: 'change-recorded',
    volatile: ['id'],
    request: () => post('/v1/changes', exampleValue('change-callback')),
  },
  {
    name: 'record a change that touches everything',
    operation: 'POST /v1/changes',
    status: 201,
    requestExample: 'change-everywhere',
    example: 'change-recorded-everywhere',
    volatile: ['id'],
    request: () => post('/v1/changes', exampleValue('change-everywhere')),
  },
  {
    name: 'an invalid change',
    operation: 'POST /v1/changes',
    status: 400,
    example: 'change-invalid',
    request: () => post('/v1/changes', { name: ' ', effectiveAt: '10 March', kinds: ['billing', 'teleport'], channels: [], colour: 'red' }),
  },
  { name: 'a change that is not an object', operation: 'POST /v1/changes', status: 400, example: 'change-not-an-object', request: () => post('/v1/changes', ['Callback instead of hold']) },
  {
    name: 'a change cut short',
    operation: 'POST /v1/changes',
    status: 400,
    example: 'change-malformed-json',
    request: () => post('/v1/changes', undefined, 'ops', { raw: '{"name": "Callback instead of hold", ' }),
  },
  {
    name: 'a change too large',
    operation: 'POST /v1/changes',
    status: 413,
    example: 'body-too-large',
    request: () => post('/v1/changes', { name: 'x', effectiveAt: '2025-03-10T00:00:00Z', description: 'x'.repeat(1_100_000) }),
  },
  {
    name: 'a change without the ops scope',
    operation: 'POST /v1/changes',
    status: 403,
    example: 'missing-ops-scope',
    request: () => post('/v1/changes', exampleValue('change-callback'), 'read'),
  },
  {
    name: 'the impact of a change',
    operation: 'GET /v1/changes/{id}/impact',
    status: 200,
    example: 'change-impact',
    volatile: ['id'],
    request: (s) => {
      const change = s.get('change-recorded')!.body as { id: string; position: string };
      return q(`/v1/changes/${change.id}/impact?windowDays=14&minPosition=${change.position}`);
    },
  },
  {
    name: 'a bad window',
    operation: 'GET /v1/changes/{id}/impact',
    status: 400,
    example: 'change-impact-bad-window',
    request: (s) => q(`/v1/changes/${(s.get('change-recorded')!.body as { id: string }).id}/impact?windowDays=400`),
  },
  {
    name: 'an unknown change',
    operation: 'GET /v1/changes/{id}/impact',
    status: 404,
    example: 'change-impact-not-found',
    request: () => q('/v1/changes/3f0b2a4e-8c1d-4c55-9a57-0f4f3f1d2b6e/impact'),
  },
  // Retention (episodes before the tier job, which moves tiers and so ends or opens episodes)
  { name: "a customer's risk episodes", operation: 'GET /v1/retention/episodes', status: 200, example: 'episodes', request: () => q('/v1/retention/episodes?customerId=cust-10482') },
  { name: 'bad episode parameters', operation: 'GET /v1/retention/episodes', status: 400, example: 'episodes-bad-query', request: () => q('/v1/retention/episodes?open=maybe&limit=1000') },
  { name: 'the tier job', operation: 'POST /v1/retention/tiers/recompute', status: 200, example: 'tier-run', schemaOnly: true, request: () => post(`/v1/retention/tiers/recompute?${min()}`, undefined) },
  { name: 'the tier job again', operation: 'POST /v1/retention/tiers/recompute', status: 200, example: 'tier-run-unchanged', schemaOnly: true, request: () => post('/v1/retention/tiers/recompute', undefined) },
  {
    name: 'the tier job with a bad minPosition',
    operation: 'POST /v1/retention/tiers/recompute',
    status: 400,
    example: 'bad-min-position',
    request: () => post('/v1/retention/tiers/recompute', undefined, 'ops', { headers: { 'x-cx-min-position': '-1' } }),
  },
  { name: 'the tier job without ops', operation: 'POST /v1/retention/tiers/recompute', status: 403, example: 'missing-ops-scope', request: () => post('/v1/retention/tiers/recompute', undefined, 'read') },
  // Operations
  { name: 'the projections', operation: 'GET /v1/projections', status: 200, example: 'projections', volatile: ['lagEvents'], request: () => q('/v1/projections') },
  { name: 'health', operation: 'GET /health', status: 200, example: 'healthy', volatile: ['database', 'adapter', 'lagEvents'], request: () => q('/health', null) },
  { name: 'the metrics', operation: 'GET /metrics', status: 200, example: 'metrics', schemaOnly: true, request: () => q('/metrics', null) },
  // Rebuilds and retries (last: a rebuild swaps the tables of the read models it rebuilds)
  {
    name: 'rebuild a projection',
    operation: 'POST /v1/projections/{name}/rebuild',
    status: 202,
    example: 'rebuild-requested',
    volatile: ['id', 'requestedAt'],
    request: () => post('/v1/projections/changes/rebuild', undefined),
  },
  {
    // Whether the first is still requested or already running when this one arrives varies: the message says which.
    name: 'rebuild it again at once',
    operation: 'POST /v1/projections/{name}/rebuild',
    status: 409,
    example: 'rebuild-conflict',
    schemaOnly: true,
    request: () => post('/v1/projections/changes/rebuild', undefined),
  },
  { name: 'rebuild an unknown projection', operation: 'POST /v1/projections/{name}/rebuild', status: 404, example: 'projection-not-found', request: () => post('/v1/projections/nps/rebuild', undefined) },
  { name: 'rebuild without ops', operation: 'POST /v1/projections/{name}/rebuild', status: 403, example: 'missing-ops-scope', request: () => post('/v1/projections/changes/rebuild', undefined, 'read') },
  {
    name: 'rebuild several',
    operation: 'POST /v1/projections/rebuild',
    status: 202,
    requestExample: 'rebuild-several',
    example: 'rebuilds-requested',
    volatile: ['id', 'requestedAt'],
    request: () => post('/v1/projections/rebuild', exampleValue('rebuild-several')),
  },
  { name: 'rebuild an empty list', operation: 'POST /v1/projections/rebuild', status: 400, example: 'rebuild-bad-body', request: () => post('/v1/projections/rebuild', { projections: [] }) },
  {
    name: 'rebuild a list with an unknown name',
    operation: 'POST /v1/projections/rebuild',
    status: 404,
    example: 'rebuild-unknown-projection',
    request: () => post('/v1/projections/rebuild', { projections: ['customer360', 'nps'] }),
  },
  { name: 'retry a projection that runs', operation: 'POST /v1/projections/{name}/retry', status: 409, example: 'retry-not-failed', request: () => post('/v1/projections/journey/retry', undefined) },
  { name: 'retry an unknown projection', operation: 'POST /v1/projections/{name}/retry', status: 404, example: 'projection-not-found', request: () => post('/v1/projections/nps/retry', undefined) },
  { name: 'the projections while they rebuild', operation: 'GET /v1/projections', status: 200, example: 'projections-rebuilding', schemaOnly: true, request: () => q('/v1/projections') },
];

/** Routes that read projections, asked for a position the log never reaches: each waits 5 s, so they go together. */
const FAR = '9000000';
const notYet: Call[] = [
  { name: '360', operation: 'GET /v1/customers/{id}', status: 503, example: 'not-yet-customer360', request: () => q(`/v1/customers/cust-10482?minPosition=${FAR}`) },
  { name: 'list', operation: 'GET /v1/customers', status: 503, example: 'not-yet-customer360', request: () => q(`/v1/customers?minPosition=${FAR}`) },
  { name: 'journey', operation: 'GET /v1/customers/{id}/journey', status: 503, example: 'not-yet-journey', request: () => q(`/v1/customers/cust-10482/journey?minPosition=${FAR}`) },
  { name: 'satisfaction', operation: 'GET /v1/metrics/satisfaction', status: 503, example: 'not-yet-satisfaction', request: () => q(`/v1/metrics/satisfaction?minPosition=${FAR}`) },
  {
    name: 'funnel, by header',
    operation: 'GET /v1/funnels/complaints',
    status: 503,
    example: 'not-yet-complaints-satisfaction',
    request: () => ({ path: '/v1/funnels/complaints', headers: { 'x-cx-min-position': FAR } }),
  },
  {
    name: 'impact',
    operation: 'GET /v1/changes/{id}/impact',
    status: 503,
    example: 'not-yet-changes-satisfaction',
    request: () => q(`/v1/changes/3f0b2a4e-8c1d-4c55-9a57-0f4f3f1d2b6e/impact?minPosition=${FAR}`),
  },
  { name: 'tier job', operation: 'POST /v1/retention/tiers/recompute', status: 503, example: 'not-yet-customerValue', request: () => post(`/v1/retention/tiers/recompute?minPosition=${FAR}`, undefined) },
  { name: 'episodes', operation: 'GET /v1/retention/episodes', status: 503, example: 'not-yet-retentionEpisodes', request: () => q(`/v1/retention/episodes?minPosition=${FAR}`) },
];

/** Documented statuses no call here produces, and why. */
const notAsked: Record<string, string> = {
  'GET /health 503': 'the event store would have to go down; covered by the platform health tests',
  'POST /v1/projections/{name}/retry 202': 'needs a failed projection; the runner\'s tests fail one',
  'POST /v1/projections/rebuild 409': 'the same conflict as one projection\'s, asked there',
  'POST /v1/retention/tiers/recompute 503': 'asked (minPosition); the other cause, the read model behind the head after 5 s, needs a stalled projector',
};
/** Examples no call here reproduces, and why. */
const notReproduced: Record<string, string> = {
  unhealthy: 'needs the event store down',
  'projection-retrying': 'needs a failed projection',
  'tier-job-behind': 'needs a stalled projector',
};

/** Checks one answer against the document: a documented status, its schema (strictly), its headers, and its example. */
function verify(call: Call, answer: Answer): void {
  const context = `${call.name}: ${call.operation} -> ${answer.status}`;
  expect({ context, status: answer.status }).toEqual({ context, status: call.status });
  const documented = operationOf(call.operation).responses[String(answer.status)];
  expect({ context, documented: documented !== undefined }).toEqual({ context, documented: true });
  const response = checker.deref<ResponseObject>(documented);
  const contentType = (answer.headers.get('content-type') ?? '').split(';')[0];
  const media = response.content?.[contentType];
  expect({ context, contentType, documented: media !== undefined }).toEqual({ context, contentType, documented: true });
  expect({ context, errors: checker.errors(media!.schema, answer.body, { strict: true }) }).toEqual({ context, errors: [] });
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    if (checker.deref(header).required) expect({ context, header: name, sent: answer.headers.has(name) }).toEqual({ context, header: name, sent: true });
  }
  if (call.example === undefined) return;
  expect({ context, example: call.example, listed: Object.hasOwn(media!.examples ?? {}, call.example) }).toEqual({ context, example: call.example, listed: true });
  if (call.requestExample !== undefined) {
    const body = operationOf(call.operation).requestBody?.content['application/json'];
    expect({ context, requestExample: call.requestExample, listed: Object.hasOwn(body?.examples ?? {}, call.requestExample) }).toEqual({
      context,
      requestExample: call.requestExample,
      listed: true,
    });
  }
  if (call.schemaOnly) {
    expect({ context, errors: checker.errors(media!.schema, exampleValue(call.example)) }).toEqual({ context, errors: [] });
    return;
  }
  const volatile = new Set([...ALWAYS_VOLATILE, ...(call.volatile ?? [])]);
  // A 503 names the positions reached and wanted: they differ from run to run.
  const digits = answer.status === 503;
  expect({ context, body: normalized(answer.body, volatile, digits) }).toEqual({ context, body: normalized(exampleValue(call.example), volatile, digits) });
}

describe(`the query and ops API answers as its OpenAPI document says, on ${testBackend}`, () => {
  beforeAll(async () => {
    app = await startTestApp({
      CX_API_KEYS: `${KEYS.ingest}:ingest,${KEYS.read}:read,${KEYS.ops}:ops`,
      // The tier job only when asked, over a window that holds the story's payments; alerts for old episodes too.
      CX_TIER_INTERVAL_MINUTES: '0',
      CX_TIER_WINDOW_DAYS: '3660',
      CX_RETENTION_ALERT_INTERVAL_SECONDS: '1',
      CX_RETENTION_ALERT_MAX_AGE_HOURS: '0',
    });
    for (let i = 0; i < background.length; i += 500) {
      const answer = await ask({
        method: 'POST',
        path: '/v1/events',
        key: 'ingest',
        headers: { 'content-type': 'application/cloudevents-batch+json', 'x-correlation-id': 'seed-openapi-examples' },
        body: background.slice(i, i + 500),
      });
      expect({ status: answer.status, rejected: (answer.body as { rejected: number }).rejected }).toEqual({ status: 200, rejected: 0 });
    }
    // One batch, one transaction: the alert dispatcher cannot slip an event in between, so the journey's order is fixed.
    const answer = await ask({
      method: 'POST',
      path: '/v1/events',
      key: 'ingest',
      headers: { 'content-type': 'application/cloudevents-batch+json', 'x-correlation-id': 'crm-sync-cust-10482-march' },
      body: story,
    });
    expect({ status: answer.status, accepted: (answer.body as { accepted: number }).accepted }).toEqual({ status: 200, accepted: story.length });
    storyPosition = (answer.body as { position: string }).position;
    // The alert of Ana's risk episode is appended by the dispatcher, once a second: wait for its position.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const episodes = await ask(q(`/v1/retention/episodes?customerId=cust-10482&minPosition=${storyPosition}`));
      const alerted = (episodes.body as { episodes?: Array<{ alert: { position: string | null } }> }).episodes?.every((e) => e.alert.position !== null);
      if (alerted || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 90_000);

  afterAll(async () => {
    if (capture) writeFileSync(capture, `${JSON.stringify(captured, null, 2)}\n`);
    await app?.close();
  });

  it.each(calls.map((call) => [call.name, call] as const))('%s', async (_name, call) => {
    const answer = await ask(call.request(seen));
    if (call.example) {
      seen.set(call.example, answer);
      captured[call.example] = { status: answer.status, body: answer.body };
    }
    verify(call, answer);
  });

  it('answers 503 with Retry-After while the read models are short of minPosition, on every route that reads them', async () => {
    const answers = await Promise.all(notYet.map(async (call) => [call, await ask(call.request(seen))] as const));
    for (const [call, answer] of answers) {
      captured[call.example!] ??= { status: answer.status, body: answer.body };
      expect({ route: call.operation, retryAfter: answer.headers.get('retry-after') }).toEqual({ route: call.operation, retryAfter: '1' });
      verify(call, answer);
    }
  }, 30_000);

  const queryOperations = operationsOf(document).filter(([name]) => !/^(POST \/v1\/events|GET \/openapi\.json|GET \/docs)/.test(name));
  const asked = [...calls, ...notYet];

  it('asks every query and ops route for every status it documents', () => {
    const shared = new Set<string>();
    for (const call of asked) {
      const response = operationOf(call.operation).responses[String(call.status)];
      if ('$ref' in response) shared.add(response.$ref);
    }
    const missing = queryOperations.flatMap(([name, operation]) =>
      Object.entries(operation.responses)
        .filter(([status, response]) => !asked.some((call) => call.operation === name && String(call.status) === status))
        // A shared response (401, 403) asked for on one route is the same guard answering on all.
        .filter(([, response]) => !('$ref' in response && shared.has(response.$ref)))
        .map(([status]) => `${name} ${status}`)
        .filter((key) => !Object.hasOwn(notAsked, key)),
    );
    expect(missing).toEqual([]);
  });

  it('reproduces every example of the query and ops routes', () => {
    const reproduced = new Set(asked.flatMap((call) => [call.example, call.requestExample]).filter((name) => name !== undefined));
    const examples = new Set<string>();
    for (const [, operation] of queryOperations) {
      const contents = [operation.requestBody?.content, ...Object.values(operation.responses).map((r) => checker.deref<ResponseObject>(r).content)];
      for (const content of contents) {
        for (const media of Object.values(content ?? {})) {
          for (const example of Object.values(media.examples ?? {})) if ('$ref' in example) examples.add(example.$ref.split('/').pop()!);
        }
      }
    }
    expect([...examples].filter((name) => !reproduced.has(name) && !Object.hasOwn(notReproduced, name)).sort()).toEqual([]);
  });

  it('documents the schemas strictly enough to catch an undocumented field', () => {
    const media = checker.deref<ResponseObject>(operationOf('GET /v1/customers/{id}').responses['200']).content!['application/json'];
    const answer = seen.get('customer-360')!.body as Record<string, unknown>;
    expect(checker.errors(media.schema, answer, { strict: true })).toEqual([]);
    expect(checker.errors(media.schema, { ...answer, loyaltyPoints: 120 }, { strict: true })).toEqual(['$: loyaltyPoints is not in the document']);
    expect(checker.errors(media.schema, { ...answer, loyaltyPoints: 120 })).toEqual([]);
  });
});
