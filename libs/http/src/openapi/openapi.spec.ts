import 'reflect-metadata';
import { builtInMomentKinds, channels, type IngestEventType, ingestEventTypes, outcomes, severities, tiers } from '@cx/domain';
import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { loadConfig } from '@cx/platform';
import { MIN_POSITION_WAIT_MS, ReadsProjections } from '@cx/projections';
import { type DynamicModule, type ForwardReference, RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { AppModule } from '../../../../apps/cx/src/app.module.js';
import { IngestAppModule } from '../../../../apps/ingest/src/ingest-app.module.js';
import { ProjectorModule } from '../../../../apps/projector/src/projector.module.js';
import { QueryAppModule } from '../../../../apps/query/src/query-app.module.js';
import { CUSTOMERS_DEFAULT_LIMIT, CUSTOMERS_MAX_LIMIT } from '../../../projections/src/read-models/customer-360/customer-360.query.js';
import { complaintStages } from '../../../projections/src/read-models/customer-360/customer-360.fold.js';
import { funnelGroups, funnelStages } from '../../../projections/src/read-models/complaints/complaint-funnel.query.js';
import { JOURNEY_DEFAULT_LIMIT, JOURNEY_MAX_LIMIT } from '../../../projections/src/read-models/journey/journey.query.js';
import { DEFAULT_IMPACT_WINDOW_DAYS, MAX_IMPACT_WINDOW_DAYS } from '../../../projections/src/read-models/satisfaction/change-impact.query.js';
import { RecordChangeDto } from '../../../projections/src/read-models/satisfaction/changes.controller.js';
import { DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS } from '../../../projections/src/read-models/satisfaction/query-params.js';
import { groupFields, intervals } from '../../../projections/src/read-models/satisfaction/satisfaction.query.js';
import { EPISODES_DEFAULT_LIMIT, EPISODES_MAX_LIMIT } from '../../../projections/src/retention/retention.query.js';
import { RequireScopes } from '../auth/api-key.guard.js';
import { Test } from '@nestjs/testing';
import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dataClasses, piiFields, validateCloudEvent } from '../../../ingest/src/cloud-event.dto.js';
import { MAX_BATCH_EVENTS } from '../../../ingest/src/ingest.controller.js';
import { parseApiKeys } from '../auth/api-keys.config.js';
import { AuthModule } from '../auth/auth.module.js';
import { MAX_BODY_BYTES } from '../http-setup.js';
import { bodyExamplesOf, operationsOf, schemaChecker } from './openapi.check.testing.js';
import { OpenApiModule } from './openapi.controller.js';
import {
  funnelGroupFields,
  funnelStageNames,
  queryLimits,
  satisfactionGroupFields,
  satisfactionIntervals,
} from './openapi.query.js';
import {
  dataSchemaNames,
  DOCUMENTED_MAX_BATCH_EVENTS,
  exampleEvents,
  type JsonSchema,
  openApiDocument,
  type OpenApiDocument,
  type HeaderObject,
  type ParameterObject,
  type ResponseObject,
} from './openapi.document.js';

const document = openApiDocument();
const ingestTypes = Object.keys(ingestEventTypes) as IngestEventType[];

const checker = schemaChecker(document);
const resolvePointer = checker.resolve;
const deref = checker.deref;
const schemaErrors = (schema: JsonSchema, value: unknown): string[] => checker.errors(schema, value);
const operations = operationsOf;

/** Every `$ref` and discriminator mapping target in the document, with where it is. */
function references(node: unknown, path = '#'): Array<{ at: string; ref: string }> {
  if (typeof node !== 'object' || node === null) return [];
  const found: Array<{ at: string; ref: string }> = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string') found.push({ at: path, ref: value });
    else if (key === 'mapping' && typeof value === 'object' && value !== null) {
      for (const target of Object.values(value)) found.push({ at: `${path}/mapping`, ref: String(target) });
    } else if (key !== 'value' && !(key === 'examples' && Array.isArray(value))) {
      // Example values and a schema's `examples` are data, not references.
      found.push(...references(value, `${path}/${key}`));
    }
  }
  return found;
}

/** Every example of a request or response body, with the schema it must satisfy. */
const bodyExamples = () => bodyExamplesOf(document, checker);

const dataSchema = (type: IngestEventType): JsonSchema => document.components.schemas[dataSchemaNames[type]];

type Rule = { property: string; name: string; optional: boolean; each: boolean; constraints: unknown[] };

/** The class-validator rules of a DTO class, its parents' included. */
function rulesOf(target: new () => object): Rule[] {
  return getMetadataStorage()
    .getTargetValidationMetadatas(target, '', true, false)
    .map((metadata) => ({
      property: metadata.propertyName,
      name: metadata.name ?? metadata.type,
      // @IsOptional, or the DTOs' Optional(): a ValidateIf that skips only absent fields.
      optional: metadata.name === 'isOptional' || metadata.type === 'conditionalValidation',
      // `{ each: true }`: the rule applies to every item of an array.
      each: metadata.each === true,
      constraints: metadata.constraints ?? [],
    }));
}

/** What a class-validator rule means in JSON Schema terms. Fails on a rule it does not know, so a new one gets mapped. */
function facetsOf(rule: Rule): Partial<JsonSchema> {
  const [first, second] = rule.constraints;
  switch (rule.name) {
    case 'isOptional':
    case 'conditionalValidation':
      return {};
    case 'isString':
      return { type: 'string' };
    case 'isInt':
      return { type: 'integer' };
    case 'isNumber':
      return { type: 'number' };
    case 'isBoolean':
      return { type: 'boolean' };
    case 'isEmail':
      return { type: 'string', format: 'email' };
    case 'matches':
      return { type: 'string', pattern: (first as RegExp).source };
    case 'isIn':
      return { type: 'string', enum: first as string[] };
    case 'min':
      return { minimum: first as number };
    case 'max':
      return { maximum: first as number };
    case 'isLength':
      return { minLength: first as number, ...(second === undefined ? {} : { maxLength: second as number }) };
    case 'minLength':
      return { minLength: first as number };
    case 'maxLength':
      return { maxLength: first as number };
    case 'isArray':
      return { type: 'array' };
    case 'arrayNotEmpty':
      return { minItems: 1 };
    case 'arrayMaxSize':
      return { maxItems: first as number };
    case 'arrayUnique':
      return { uniqueItems: true };
    case 'isRFC3339':
      return { type: 'string', format: 'date-time' };
    default:
      throw new Error(`openapi.spec.ts does not know the class-validator rule ${rule.name} (on ${rule.property}): map it in facetsOf`);
  }
}


// ---------------------------------------------------------------------------------------------
// The routes the apps register, read from Nest's metadata of their controllers: the document
// must have exactly these, each with the scopes the key guard asks for.
// ---------------------------------------------------------------------------------------------

/** The metadata key a decorator writes, found by applying it to a probe (the keys are private to their modules). */
function metadataKeyOf(decorator: ClassDecorator): string {
  class Probe {}
  decorator(Probe);
  const [key] = Reflect.getMetadataKeys(Probe) as string[];
  return key;
}
const SCOPES_KEY = metadataKeyOf(RequireScopes('read'));
const READS_KEY = metadataKeyOf(ReadsProjections('probe'));

type ModuleEntry = Type | DynamicModule | Promise<DynamicModule> | ForwardReference;

/** Every controller class of a module tree: the modules' own (static metadata and dynamic) and their imports'. */
function controllersOf(entry: ModuleEntry, seen = new Set<unknown>()): Array<Type> {
  if (seen.has(entry) || entry instanceof Promise) return [];
  seen.add(entry);
  if ('forwardRef' in entry) return controllersOf(entry.forwardRef() as ModuleEntry, seen);
  const dynamic = 'module' in entry ? entry : undefined;
  const moduleClass = dynamic ? dynamic.module : (entry as Type);
  const own = [...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, moduleClass) as Type[] | undefined) ?? []), ...((dynamic?.controllers as Type[] | undefined) ?? [])];
  const imports = [...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, moduleClass) as ModuleEntry[] | undefined) ?? []), ...((dynamic?.imports as ModuleEntry[] | undefined) ?? [])];
  return [...own, ...imports.flatMap((child) => controllersOf(child, seen))];
}

type AppRoute = { name: string; app: string; controller: string; scopes: string[]; reads: string[] | undefined };

const segments = (path: string | string[] | undefined): string[] =>
  (Array.isArray(path) ? path : [path ?? '']).flatMap((p) => p.split('/')).filter((part) => part !== '');

/** `GET /v1/customers/{id}` for each handler of a controller (its parents' included), with the scopes of class and handler. */
function routesOf(app: string, controller: Type): AppRoute[] {
  const base = segments(Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined);
  const classScopes = (Reflect.getMetadata(SCOPES_KEY, controller) as string[] | undefined) ?? [];
  const classReads = Reflect.getMetadata(READS_KEY, controller) as string[] | undefined;
  const found: AppRoute[] = [];
  const names = new Set<string>();
  for (let proto = controller.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) if (key !== 'constructor') names.add(key);
  }
  for (const key of names) {
    const handler = controller.prototype[key] as unknown;
    if (typeof handler !== 'function') continue;
    const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
    if (method === undefined) continue;
    const path = [...base, ...segments(Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined)]
      .map((part) => part.replace(/^:(.+)$/, '{$1}'))
      .join('/');
    const scopes = [...new Set([...classScopes, ...((Reflect.getMetadata(SCOPES_KEY, handler) as string[] | undefined) ?? [])])];
    const reads = (Reflect.getMetadata(READS_KEY, handler) as string[] | undefined) ?? classReads;
    found.push({ name: `${RequestMethod[method]} /${path}`, app, controller: controller.name, scopes, reads });
  }
  return found;
}

// Each app as configured by default, and with Kafka (the relay, the ingest topic, the projector folding the topic):
// modules that only some settings bring in may bring routes.
const config = loadConfig({});
const withKafka = loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', CX_PROJECTOR_SOURCE: 'kafka' });
const apps = {
  cx: AppModule.forRoot(config),
  ingest: IngestAppModule.forRoot(config),
  query: QueryAppModule.forRoot(config),
  projector: ProjectorModule.forRoot(config),
  'cx with Kafka': AppModule.forRoot(withKafka),
  'ingest with Kafka': IngestAppModule.forRoot(withKafka),
  'query with Kafka': QueryAppModule.forRoot(withKafka),
  'projector with Kafka': ProjectorModule.forRoot(withKafka),
};
const routesByApp = Object.entries(apps).map(([app, root]) => ({ app, routes: [...new Set(controllersOf(root))].flatMap((controller) => routesOf(app, controller)) }));
/** Each route once (the apps share controllers). */
const appRoutes: AppRoute[] = [...new Map(routesByApp.flatMap(({ routes }) => routes).map((route) => [route.name, route])).values()];

describe('the routes of the apps', () => {
  it('are found in every app module', () => {
    const names = Object.fromEntries(routesByApp.map(({ app, routes }) => [app, routes.map((route) => route.name).sort()]));
    expect(names.cx).toEqual(expect.arrayContaining(['POST /v1/events', 'GET /v1/customers/{id}', 'GET /metrics', 'GET /health', 'GET /openapi.json']));
    // The ingest app serves no query, the projector no API at all: health and metrics only.
    expect(names.ingest).not.toContain('GET /v1/customers/{id}');
    expect(names.projector).toEqual(['GET /health', 'GET /metrics']);
    expect(names['projector with Kafka']).toEqual(['GET /health', 'GET /metrics']);
    expect(appRoutes.length).toBeGreaterThan(15);
    expect(appRoutes.filter((route) => route.scopes.length > 0).length).toBeGreaterThan(10);
  });

  it.each(appRoutes.map((route) => [route.name, route] as const))('%s is documented with the scopes its controller requires', (name, route) => {
    const [method, path] = name.split(' ');
    const operation = document.paths[path]?.[method.toLowerCase() as 'get' | 'post'];
    expect({ name, documented: operation !== undefined }).toEqual({ name, documented: true });
    const scopes = route.scopes.length === 0 ? undefined : [{ bearer: route.scopes }, { apiKey: route.scopes }];
    expect({ name, security: operation!.security }).toEqual({ name, security: scopes });
  });

  it.each(appRoutes.map((route) => [route.name, route] as const))('%s documents the read models minPosition waits for', (name, route) => {
    const [method, path] = name.split(' ');
    const operation = document.paths[path]?.[method.toLowerCase() as 'get' | 'post'];
    expect({ name, reads: operation?.['x-reads-projections'] }).toEqual({ name, reads: route.reads });
    const parameters = (operation?.parameters ?? []).map((parameter) => deref<ParameterObject>(parameter).name);
    const takesMinPosition = route.reads !== undefined;
    expect({ name, minPosition: parameters.includes('minPosition'), header: parameters.includes('X-Cx-Min-Position') }).toEqual({
      name,
      minPosition: takesMinPosition,
      header: takesMinPosition,
    });
    const statuses = Object.keys(operation?.responses ?? {});
    expect({ name, has503: statuses.includes('503') }).toEqual({ name, has503: takesMinPosition || path === '/health' });
    if (takesMinPosition) {
      const unavailable = deref<ResponseObject>(operation!.responses['503']);
      expect({ name, retryAfter: Object.keys(unavailable.headers ?? {}) }).toEqual({ name, retryAfter: ['X-Correlation-Id', 'Retry-After'] });
      const examples = Object.values(unavailable.content!['application/json'].examples!).map((example) => deref(example).value as { errors: Array<{ message: string }> });
      expect({ name, message: examples[0].errors[0].message }).toEqual({ name, message: expect.stringContaining(`the read models (${route.reads!.join(', ')}) are at position`) });
    }
  });
});

describe('the query API in the document', () => {
  it('states the limits the query parsers enforce', () => {
    expect(queryLimits).toEqual({
      customersDefaultLimit: CUSTOMERS_DEFAULT_LIMIT,
      customersMaxLimit: CUSTOMERS_MAX_LIMIT,
      journeyDefaultLimit: JOURNEY_DEFAULT_LIMIT,
      journeyMaxLimit: JOURNEY_MAX_LIMIT,
      windowDefaultDays: DEFAULT_WINDOW_DAYS,
      windowMaxDays: MAX_WINDOW_DAYS,
      impactDefaultWindowDays: DEFAULT_IMPACT_WINDOW_DAYS,
      impactMaxWindowDays: MAX_IMPACT_WINDOW_DAYS,
      episodesDefaultLimit: EPISODES_DEFAULT_LIMIT,
      episodesMaxLimit: EPISODES_MAX_LIMIT,
      minPositionWaitSeconds: MIN_POSITION_WAIT_MS / 1000,
    });
    expect(satisfactionIntervals).toEqual(intervals);
    expect(satisfactionGroupFields).toEqual(groupFields);
    expect(funnelGroupFields).toEqual(funnelGroups);
    expect(funnelStageNames).toEqual(funnelStages);
    expect(document.components.schemas.OpenComplaint.properties?.stage.enum).toEqual(complaintStages);
  });

  describe('POST /v1/changes takes the RecordChangeDto', () => {
    const rules = rulesOf(RecordChangeDto);
    const schema = document.components.schemas.ChangeRequest;

    it("with exactly the DTO's validated properties, requiring the ones without Optional", () => {
      const { properties, required } = propertiesOf(rules);
      expect(Object.keys(schema.properties ?? {}).sort()).toEqual(properties);
      expect([...(schema.required ?? [])].sort()).toEqual(required);
      expect(schema.additionalProperties).toBe(false);
    });

    it('stating each rule of the DTO', () => {
      expectRulesStated(rules, schema);
    });
  });
});

/** Each class-validator rule is stated by the schema's property (by its items, for `{ each: true }`). */
function expectRulesStated(rules: readonly Rule[], schema: JsonSchema): void {
  for (const rule of rules) {
    const property = schema.properties?.[rule.property] ?? {};
    const target = rule.each ? (property.items ?? {}) : property;
    for (const [facet, value] of Object.entries(facetsOf(rule))) {
      expect({ property: rule.property, rule: rule.name, each: rule.each, [facet]: target[facet as keyof JsonSchema] }).toEqual({
        property: rule.property,
        rule: rule.name,
        each: rule.each,
        [facet]: value,
      });
    }
  }
}

/** The properties a DTO validates, and those it requires (the ones without an Optional rule). */
function propertiesOf(rules: readonly Rule[]): { properties: string[]; required: string[] } {
  const properties = [...new Set(rules.map((rule) => rule.property))].sort();
  const optional = new Set(rules.filter((rule) => rule.optional).map((rule) => rule.property));
  return { properties, required: properties.filter((property) => !optional.has(property)) };
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the routes of every app', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(operations(document).map(([name]) => name).sort()).toEqual(appRoutes.map((route) => route.name).sort());
    expect(JSON.parse(JSON.stringify(document))).toEqual(document);
  });

  it('declares each path template parameter, required, and has unique operation ids', () => {
    const ids = operations(document).map(([, operation]) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [name, operation] of operations(document)) {
      const path = name.split(' ')[1];
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      const declared = (operation.parameters ?? []).map((parameter) => deref<ParameterObject>(parameter)).filter((parameter) => parameter.in === 'path');
      expect({ name, path: declared.map((parameter) => parameter.name).sort() }).toEqual({ name, path: templated });
      for (const parameter of declared) expect({ name, parameter: parameter.name, required: parameter.required }).toEqual({ name, parameter: parameter.name, required: true });
    }
  });

  it('names a server only when given one', () => {
    expect(document.servers).toBeUndefined();
    expect(openApiDocument({ serverUrl: 'https://cx.example.com/' }).servers).toEqual([{ url: 'https://cx.example.com' }]);
  });

  it('resolves every $ref and discriminator mapping', () => {
    const refs = references(document);
    expect(refs.length).toBeGreaterThan(50);
    expect(refs.filter(({ ref }) => resolvePointer(ref) === undefined)).toEqual([]);
  });

  it('uses every component it defines', () => {
    const used = new Set(references(document).map(({ ref }) => ref));
    for (const [kind, entries] of Object.entries(document.components)) {
      if (kind === 'securitySchemes') continue;
      for (const name of Object.keys(entries)) {
        const pointer = `#/components/${kind}/${name}`;
        expect({ pointer, used: used.has(pointer) }).toEqual({ pointer, used: true });
      }
    }
  });

  it('offers Bearer and X-API-Key with the same scopes on every route that needs a key', () => {
    const { securitySchemes } = document.components;
    expect(securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    expect(document.paths['/v1/events'].post?.security).toEqual([{ bearer: ['ingest'] }, { apiKey: ['ingest'] }]);
    for (const [name, operation] of operations(document)) {
      if (operation.security === undefined) continue;
      const [bearer, apiKey] = operation.security;
      expect({ name, schemes: operation.security.map((entry) => Object.keys(entry)) }).toEqual({ name, schemes: [['bearer'], ['apiKey']] });
      expect({ name, apiKey: apiKey.apiKey }).toEqual({ name, apiKey: bearer.bearer });
    }
  });

  it('answers 401 and 403 on the routes that need a key, and only there', () => {
    for (const [name, operation] of operations(document)) {
      const guarded = operation.security !== undefined;
      const statuses = Object.keys(operation.responses);
      expect({ name, guarded, has401: statuses.includes('401'), has403: statuses.includes('403') }).toEqual({ name, guarded, has401: guarded, has403: guarded });
      if (!guarded) continue;
      const scopes = operation.security![0].bearer;
      const forbidden = deref<ResponseObject>(operation.responses['403']);
      const header = deref<HeaderObject>(forbidden.headers!['WWW-Authenticate']);
      expect({ name, header: header.description }).toEqual({ name, header: expect.stringContaining(`scope="${scopes.join(' ')}"`) });
      const example = deref(Object.values(forbidden.content!['application/json'].examples!)[0]);
      expect({ name, message: (example.value as { errors: Array<{ message: string }> }).errors[0].message }).toEqual({
        name,
        message: `this API key lacks the scope ${scopes.join(', ')} needed here`,
      });
    }
  });
  it('answers POST /v1/events with every status the controller, the guard and the body parser use', () => {
    const responses = document.paths['/v1/events'].post!.responses;
    expect(Object.keys(responses).sort()).toEqual(['200', '202', '400', '401', '403', '409', '413', '415', '500']);
    for (const status of ['401', '403']) {
      expect(Object.keys(deref<ResponseObject>(responses[status]).headers ?? {})).toEqual(['X-Correlation-Id', 'WWW-Authenticate']);
    }
    const atomic = document.components.parameters.atomic;
    expect(atomic).toMatchObject({ in: 'query', schema: { enum: ['true', 'false'] } });
  });

  it('states the limits the code enforces', () => {
    expect(DOCUMENTED_MAX_BATCH_EVENTS).toBe(MAX_BATCH_EVENTS);
    expect(document.components.schemas.CloudEventBatch).toMatchObject({ minItems: 1, maxItems: MAX_BATCH_EVENTS });
    expect(deref<ResponseObject>(document.components.responses.PayloadTooLarge).description).toContain(String(MAX_BODY_BYTES));
  });

  it('writes positions as strings of digits', () => {
    expect(document.components.schemas.Position).toMatchObject({ type: 'string', pattern: '^[0-9]+$' });
    const { IngestResult, BatchOutcome, StoredItemResult } = document.components.schemas;
    for (const schema of [IngestResult, BatchOutcome, StoredItemResult]) expect(schema.properties?.position.$ref).toBe('#/components/schemas/Position');
  });

  describe('CloudEvents types', () => {
    it('has a data schema and an event schema for every type the ingest API accepts, and no other', () => {
      const { schemas } = document.components;
      expect(Object.keys(dataSchemaNames).sort()).toEqual([...ingestTypes].sort());
      for (const type of ingestTypes) {
        expect(dataSchema(type)).toMatchObject({ type: 'object', additionalProperties: false });
        expect(schemas[dataSchemaNames[type].replace(/Data$/, 'Event')].allOf?.[1].properties).toEqual({
          type: { type: 'string', const: type },
          data: { $ref: `#/components/schemas/${dataSchemaNames[type]}` },
        });
      }
      expect(schemas.CloudEventAttributes.properties?.type.enum).toEqual(ingestTypes);
      expect(Object.keys(schemas.CloudEvent.discriminator?.mapping ?? {})).toEqual(ingestTypes);
      expect(schemas.CloudEvent.discriminator?.propertyName).toBe('type');
      expect(schemas.CloudEvent.oneOf).toHaveLength(ingestTypes.length);
    });

    it('takes its enums from the domain constants', () => {
      expect(dataSchema('cx.moment.recorded').properties?.channel.enum).toEqual(channels);
      expect(dataSchema('cx.complaint.filed').properties?.channel.enum).toEqual(channels);
      expect(dataSchema('cx.customer.registered').properties?.preferredChannel.enum).toEqual(channels);
      expect(dataSchema('cx.moment.recorded').properties?.outcome.enum).toEqual(outcomes);
      expect(dataSchema('cx.complaint.filed').properties?.severity.enum).toEqual(severities);
      expect(dataSchema('cx.customer.updated').properties?.tier.enum).toEqual(tiers);
      expect(dataSchema('cx.moment.recorded').properties?.kind.examples).toEqual(builtInMomentKinds);
    });

    describe.each(ingestTypes)('%s', (type) => {
      const target = dataClasses[type];
      const rules = rulesOf(target);
      const schema = dataSchema(type);

      it('is named after its DTO class', () => {
        expect(dataSchemaNames[type]).toBe(target.name);
      });

      it("has exactly the DTO's validated properties and requires the ones without @IsOptional", () => {
        const { properties, required } = propertiesOf(rules);
        expect(Object.keys(schema.properties ?? {}).sort()).toEqual(properties);
        expect([...(schema.required ?? [])].sort()).toEqual(required);
      });

      it("states each rule of the DTO: type, enum, pattern, range and length", () => {
        expectRulesStated(rules, schema);
      });

      it('marks the personal data the ingest API seals, and only that', () => {
        const marked = Object.entries(schema.properties ?? {})
          .filter(([, property]) => property['x-pii'] === true)
          .map(([name]) => name);
        expect(marked.sort()).toEqual([...(piiFields[type] ?? [])].sort());
      });

      it('has an example the ingest API accepts', () => {
        const example = exampleEvents[type];
        expect(example.type).toBe(type);
        expect(validateCloudEvent(example)).toEqual({ event: expect.objectContaining({ type }) });
        expect(schemaErrors(document.components.schemas.CloudEvent, example)).toEqual([]);
      });
    });
  });

  describe('examples', () => {
    const examples = bodyExamples();

    it('covers the single event, the batch and every response of POST /v1/events', () => {
      const where = examples.map((example) => example.where);
      for (const status of ['request application/cloudevents+json', 'request application/cloudevents-batch+json', '200', '202', '400', '401', '403', '409', '413', '415']) {
        expect({ status, found: where.some((w) => w.startsWith(`POST /v1/events ${status}`)) }).toEqual({ status, found: true });
      }
    });

    it.each(examples.map((example) => [example.where, example] as const))('%s conforms to its schema', (_where, example) => {
      expect(schemaErrors(example.schema, example.value)).toEqual([]);
    });

    it('sends only events the ingest API accepts', () => {
      const requests = examples.filter((example) => example.where.startsWith('POST /v1/events request'));
      expect(requests.length).toBeGreaterThan(ingestTypes.length);
      for (const { where, value } of requests) {
        for (const event of Array.isArray(value) ? value : [value]) expect({ where, result: validateCloudEvent(event) }).toEqual({ where, result: { event: expect.anything() } });
      }
    });

    it('would catch a bad example: the checker rejects what the API rejects', () => {
      const moment = exampleEvents['cx.moment.recorded'];
      const bad = [
        { ...moment, data: { ...moment.data, channel: 'carrier_pigeon' } },
        { ...moment, data: { ...moment.data, surprise: true } },
        { ...moment, data: { ...moment.data, currency: undefined } },
        { ...moment, subject: 'not a customer id' },
        { ...moment, type: 'cx.moment.teleported' },
        { ...moment, specversion: '0.3' },
        { ...exampleEvents['cx.feedback.submitted'], data: { comment: 'no score' } },
        { ...exampleEvents['cx.feedback.submitted'], data: { nps: 11 } },
      ].map((event) => JSON.parse(JSON.stringify(event)) as unknown);
      for (const event of bad) expect(schemaErrors(document.components.schemas.CloudEvent, event)).not.toEqual([]);
    });
  });

  describe('docs/events.md', () => {
    const markdown = readFileSync(new URL('../../../../docs/events.md', import.meta.url), 'utf8');
    const blocks = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => JSON.parse(match[1]) as Record<string, unknown>);
    const cloudEvents = blocks.filter((block) => block.specversion !== undefined);

    it('has exactly one example CloudEvent per type', () => {
      expect(cloudEvents.map((event) => event.type).sort()).toEqual([...ingestTypes].sort());
    });

    it.each(cloudEvents.map((event) => [String(event.type), event] as const))('its %s example is accepted', (_type, event) => {
      expect(validateCloudEvent(event)).toEqual({ event: expect.anything() });
      expect(schemaErrors(document.components.schemas.CloudEvent, event)).toEqual([]);
    });
  });
});

describe('OpenApiModule over HTTP', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    // With the app-wide key guard: these routes must stay public.
    const auth = AuthModule.forRoot({ apiKeys: { mode: 'configured', ...parseApiKeys('openapi-spec-key-0123456789:ingest') } });
    const moduleRef = await Test.createTestingModule({ imports: [auth, OpenApiModule] })
      .setLogger(new ConsoleLogger({ logLevels: ['error'], colors: false }))
      .compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('serves the document at /openapi.json without a key', async () => {
    const response = await fetch(`${url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as OpenApiDocument;
    expect(body.openapi).toMatch(/^3\.1\.\d+$/);
    expect(body.paths['/v1/events'].post?.operationId).toBe('ingestEvents');
    expect(body).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('puts the server URL of forRoot in the document', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [OpenApiModule.forRoot({ serverUrl: 'https://cx.example.com' })] }).compile();
    const other = moduleRef.createNestApplication({ logger: ['error'] });
    await other.listen(0, '127.0.0.1');
    try {
      const response = await fetch(`http://127.0.0.1:${(other.getHttpServer().address() as AddressInfo).port}/openapi.json`);
      expect(((await response.json()) as OpenApiDocument).servers).toEqual([{ url: 'https://cx.example.com' }]);
    } finally {
      await other.close();
    }
  });

  it('serves /docs as an HTML page that loads Swagger UI from the app, not from a CDN', async () => {
    const response = await fetch(`${url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-initializer.js']) expect(html).toContain(`"/docs/assets/${asset}"`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);

    const initializer = await fetch(`${url}/docs/assets/swagger-initializer.js`);
    expect(initializer.status).toBe(200);
    expect(initializer.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await initializer.text()).toContain('"/openapi.json"');
  });

  it('serves the whitelisted assets with their media types and cache headers', async () => {
    const bundle = await fetch(`${url}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(bundle.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(bundle.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await bundle.text()).length).toBeGreaterThan(100_000);

    const css = await fetch(`${url}/docs/assets/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    await css.arrayBuffer();

    const etag = bundle.headers.get('etag');
    expect(etag).toBeTruthy();
    // fetch adds `Cache-Control: no-cache` to a conditional request unless one is given; a browser revalidates like this.
    const revalidated = await fetch(`${url}/docs/assets/swagger-ui-bundle.js`, { headers: { 'if-none-match': etag!, 'cache-control': 'max-age=0' } });
    expect(revalidated.status).toBe(304);
  });

  it.each([
    '/docs/assets/..%2Fpackage.json',
    '/docs/assets/..%2F..%2Fswagger-ui-dist%2Fpackage.json',
    '/docs/assets/%2e%2e%2fpackage.json',
    '/docs/assets/..%5Cpackage.json',
    '/docs/assets/package.json',
    '/docs/assets/swagger-ui-bundle.js.map',
    '/docs/assets/index.html',
    '/docs/assets/constructor',
    '/docs/assets/__proto__',
    '/docs/assets/',
  ])('answers 404 to %s', async (path) => {
    const response = await fetch(`${url}${path}`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('swagger-ui-dist');
  });
});
