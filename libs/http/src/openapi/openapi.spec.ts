import 'reflect-metadata';
import { builtInMomentKinds, channels, type IngestEventType, ingestEventTypes, outcomes, severities, tiers } from '@cx/domain';
import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dataClasses, piiFields, validateCloudEvent } from '../../../ingest/src/cloud-event.dto.js';
import { MAX_BATCH_EVENTS } from '../../../ingest/src/ingest.controller.js';
import { parseApiKeys } from '../auth/api-keys.config.js';
import { AuthModule } from '../auth/auth.module.js';
import { MAX_BODY_BYTES } from '../http-setup.js';
import { OpenApiModule } from './openapi.controller.js';
import {
  dataSchemaNames,
  DOCUMENTED_MAX_BATCH_EVENTS,
  exampleEvents,
  type JsonSchema,
  type MediaTypeObject,
  openApiDocument,
  type OpenApiDocument,
  type OperationObject,
  type ResponseObject,
} from './openapi.document.js';

const document = openApiDocument();
const ingestTypes = Object.keys(ingestEventTypes) as IngestEventType[];

/** Follows a local JSON pointer (`#/components/schemas/X`); undefined when it leads nowhere. */
function resolvePointer(pointer: string): unknown {
  if (!pointer.startsWith('#/')) return undefined;
  let node: unknown = document;
  for (const raw of pointer.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function deref<T>(value: T | { $ref: string }): T {
  if (typeof value === 'object' && value !== null && '$ref' in value && typeof value.$ref === 'string') {
    const target = resolvePointer(value.$ref);
    if (target === undefined) throw new Error(`unresolved ${value.$ref}`);
    return deref(target as T | { $ref: string });
  }
  return value as T;
}

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

/**
 * A JSON Schema check of the subset the document uses, enough to prove its examples conform.
 * Returns the problems found, empty when the value is valid.
 */
function schemaErrors(schema: JsonSchema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  if (schema.$ref) errors.push(...schemaErrors(deref<JsonSchema>({ $ref: schema.$ref }), value, path));
  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    const is = (type: string): boolean =>
      type === 'integer' ? Number.isInteger(value)
      : type === 'number' ? typeof value === 'number' && Number.isFinite(value)
      : type === 'array' ? Array.isArray(value)
      : type === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
      : type === 'null' ? value === null
      : typeof value === type;
    if (!types.some(is)) return [...errors, `${path}: not ${types.join(' or ')}`];
  }
  if (schema.const !== undefined && value !== schema.const) errors.push(`${path}: not ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value as string)) errors.push(`${path}: ${JSON.stringify(value)} not in the enum`);
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) errors.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && length > schema.maxLength) errors.push(`${path}: longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${path}: does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) errors.push(`${path}: not a date-time`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((item, i) => errors.push(...schemaErrors(schema.items!, item, `${path}[${i}]`)));
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!Object.hasOwn(object, name)) errors.push(`${path}: ${name} is required`);
    for (const [name, needs] of Object.entries(schema.dependentRequired ?? {})) {
      if (Object.hasOwn(object, name)) for (const other of needs) if (!Object.hasOwn(object, other)) errors.push(`${path}: ${name} needs ${other}`);
    }
    for (const [name, property] of Object.entries(object)) {
      if (schema.propertyNames) errors.push(...schemaErrors(schema.propertyNames, name, `${path} key ${name}`));
      const known = schema.properties?.[name];
      if (known) errors.push(...schemaErrors(known, property, `${path}.${name}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: ${name} is not allowed`);
      else if (typeof schema.additionalProperties === 'object') errors.push(...schemaErrors(schema.additionalProperties, property, `${path}.${name}`));
    }
  }
  for (const part of schema.allOf ?? []) errors.push(...schemaErrors(part, value, path));
  if (schema.anyOf && !schema.anyOf.some((part) => schemaErrors(part, value, path).length === 0)) errors.push(`${path}: matches none of anyOf`);
  if (schema.oneOf) {
    const matching = schema.oneOf.filter((part) => schemaErrors(part, value, path).length === 0).length;
    if (matching !== 1) errors.push(`${path}: matches ${matching} of oneOf, not exactly 1`);
  }
  return errors;
}

const operations = (doc: OpenApiDocument): Array<[string, OperationObject]> =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation as OperationObject] as [string, OperationObject]),
  );

/** Every example of a request or response body, with the schema it must satisfy. */
function bodyExamples(): Array<{ where: string; schema: JsonSchema; value: unknown }> {
  const found: Array<{ where: string; schema: JsonSchema; value: unknown }> = [];
  const collect = (where: string, content: Record<string, MediaTypeObject> | undefined) => {
    for (const [mediaType, media] of Object.entries(content ?? {})) {
      for (const [name, example] of Object.entries(media.examples ?? {})) {
        found.push({ where: `${where} ${mediaType} ${name}`, schema: media.schema, value: deref(example).value });
      }
    }
  };
  for (const [name, operation] of operations(document)) {
    collect(`${name} request`, operation.requestBody?.content);
    for (const [status, response] of Object.entries(operation.responses)) collect(`${name} ${status}`, deref<ResponseObject>(response).content);
  }
  return found;
}

const dataSchema = (type: IngestEventType): JsonSchema => document.components.schemas[dataSchemaNames[type]];

type Rule = { property: string; name: string; optional: boolean; constraints: unknown[] };

/** The class-validator rules of a DTO class, its parents' included. */
function rulesOf(target: new () => object): Rule[] {
  return getMetadataStorage()
    .getTargetValidationMetadatas(target, '', true, false)
    .map((metadata) => ({
      property: metadata.propertyName,
      name: metadata.name ?? metadata.type,
      // @IsOptional, or the DTOs' Optional(): a ValidateIf that skips only absent fields.
      optional: metadata.name === 'isOptional' || metadata.type === 'conditionalValidation',
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
    default:
      throw new Error(`openapi.spec.ts does not know the class-validator rule ${rule.name} (on ${rule.property}): map it in facetsOf`);
  }
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the four routes', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(Object.keys(document.paths).sort()).toEqual(['/docs', '/health', '/openapi.json', '/v1/events']);
    expect(JSON.parse(JSON.stringify(document))).toEqual(document);
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

  it('requires the ingest scope via Bearer or X-API-Key on POST /v1/events and nothing on the other routes', () => {
    const { securitySchemes } = document.components;
    expect(securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    expect(document.paths['/v1/events'].post?.security).toEqual([{ bearer: ['ingest'] }, { apiKey: ['ingest'] }]);
    for (const [name, operation] of operations(document)) if (name !== 'POST /v1/events') expect({ name, security: operation.security }).toEqual({ name, security: undefined });
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
        const properties = [...new Set(rules.map((rule) => rule.property))].sort();
        const optional = new Set(rules.filter((rule) => rule.optional).map((rule) => rule.property));
        expect(Object.keys(schema.properties ?? {}).sort()).toEqual(properties);
        expect([...(schema.required ?? [])].sort()).toEqual(properties.filter((property) => !optional.has(property)));
      });

      it("states each rule of the DTO: type, enum, pattern, range and length", () => {
        for (const rule of rules) {
          const property = schema.properties?.[rule.property] ?? {};
          for (const [facet, value] of Object.entries(facetsOf(rule))) {
            expect({ property: rule.property, rule: rule.name, [facet]: property[facet as keyof JsonSchema] }).toEqual({
              property: rule.property,
              rule: rule.name,
              [facet]: value,
            });
          }
        }
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
