import type { JsonSchema, MediaTypeObject, OpenApiDocument, OperationObject, Reference, ResponseObject } from './openapi.types.js';

/**
 * A JSON Schema check of the subset the OpenAPI document uses: enough to prove its examples, and
 * the answers the running app gives, conform. Shared by openapi.spec.ts and openapi.e2e-spec.ts.
 */
export type SchemaChecker = {
  /** Follows a local JSON pointer (`#/components/schemas/X`); undefined when it leads nowhere. */
  resolve(pointer: string): unknown;
  deref<T>(value: T | Reference): T;
  /**
   * The problems found, empty when the value is valid. `strict`: an object may carry only the
   * properties its schema names unless `additionalProperties` says otherwise, so an answer with
   * a field the document does not describe fails (for the app's real answers, not for clients).
   */
  errors(schema: JsonSchema, value: unknown, options?: { strict?: boolean }): string[];
};

export function schemaChecker(document: OpenApiDocument): SchemaChecker {
  function resolve(pointer: string): unknown {
    if (!pointer.startsWith('#/')) return undefined;
    let node: unknown = document;
    for (const raw of pointer.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node;
  }

  function deref<T>(value: T | Reference): T {
    if (typeof value === 'object' && value !== null && '$ref' in value && typeof value.$ref === 'string') {
      const target = resolve(value.$ref);
      if (target === undefined) throw new Error(`unresolved ${value.$ref}`);
      return deref(target as T | Reference);
    }
    return value as T;
  }

  /** The properties a schema names, through `$ref` and `allOf` (for the strict check). */
  function named(schema: JsonSchema): Set<string> {
    const names = new Set(Object.keys(schema.properties ?? {}));
    if (schema.$ref) for (const name of named(deref<JsonSchema>({ $ref: schema.$ref }))) names.add(name);
    for (const part of schema.allOf ?? []) for (const name of named(part)) names.add(name);
    return names;
  }

  function errors(schema: JsonSchema, value: unknown, options: { strict?: boolean } = {}, path = '$', known?: Set<string>): string[] {
    const found: string[] = [];
    const check = (part: JsonSchema, item: unknown, at: string, siblings?: Set<string>) => errors(part, item, options, at, siblings);
    if (schema.$ref) found.push(...check(deref<JsonSchema>({ $ref: schema.$ref }), value, path, known));
    if (schema.type !== undefined) {
      const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
      const is = (type: string): boolean =>
        type === 'integer' ? Number.isInteger(value)
        : type === 'number' ? typeof value === 'number' && Number.isFinite(value)
        : type === 'array' ? Array.isArray(value)
        : type === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
        : type === 'null' ? value === null
        : typeof value === type;
      if (!types.some(is)) return [...found, `${path}: not ${types.join(' or ')}`];
    }
    if (schema.const !== undefined && value !== schema.const) found.push(`${path}: not ${JSON.stringify(schema.const)}`);
    if (schema.enum && !schema.enum.includes(value as string)) found.push(`${path}: ${JSON.stringify(value)} not in the enum`);
    if (typeof value === 'string') {
      const length = [...value].length;
      if (schema.minLength !== undefined && length < schema.minLength) found.push(`${path}: shorter than ${schema.minLength}`);
      if (schema.maxLength !== undefined && length > schema.maxLength) found.push(`${path}: longer than ${schema.maxLength}`);
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) found.push(`${path}: does not match ${schema.pattern}`);
      if (schema.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
        found.push(`${path}: not an RFC 3339 date-time`);
      }
      if (schema.format === 'uuid' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)) found.push(`${path}: not a UUID`);
    }
    if (typeof value === 'number') {
      if (schema.minimum !== undefined && value < schema.minimum) found.push(`${path}: below ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) found.push(`${path}: above ${schema.maximum}`);
    }
    if (Array.isArray(value)) {
      if (schema.minItems !== undefined && value.length < schema.minItems) found.push(`${path}: fewer than ${schema.minItems} items`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) found.push(`${path}: more than ${schema.maxItems} items`);
      if (schema.uniqueItems && new Set(value.map((item) => JSON.stringify(item))).size !== value.length) found.push(`${path}: items repeat`);
      if (schema.items) value.forEach((item, i) => found.push(...check(schema.items!, item, `${path}[${i}]`)));
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const object = value as Record<string, unknown>;
      // allOf parts see each other's properties: a strict part must not refuse its siblings'.
      const everyName = new Set([...named(schema), ...(known ?? [])]);
      for (const name of schema.required ?? []) if (!Object.hasOwn(object, name)) found.push(`${path}: ${name} is required`);
      for (const [name, needs] of Object.entries(schema.dependentRequired ?? {})) {
        if (Object.hasOwn(object, name)) for (const other of needs) if (!Object.hasOwn(object, other)) found.push(`${path}: ${name} needs ${other}`);
      }
      const describesObject = schema.properties !== undefined || schema.additionalProperties !== undefined;
      for (const [name, property] of Object.entries(object)) {
        if (schema.propertyNames) found.push(...check(schema.propertyNames, name, `${path} key ${name}`));
        const own = schema.properties?.[name];
        if (own) found.push(...check(own, property, `${path}.${name}`));
        else if (schema.additionalProperties === false) found.push(`${path}: ${name} is not allowed`);
        else if (typeof schema.additionalProperties === 'object') found.push(...check(schema.additionalProperties, property, `${path}.${name}`));
        else if (options.strict && describesObject && schema.additionalProperties === undefined && !everyName.has(name)) {
          found.push(`${path}: ${name} is not in the document`);
        }
      }
      for (const part of schema.allOf ?? []) found.push(...check(part, value, path, everyName));
    } else {
      for (const part of schema.allOf ?? []) found.push(...check(part, value, path));
    }
    if (schema.anyOf && !schema.anyOf.some((part) => check(part, value, path, known).length === 0)) found.push(`${path}: matches none of anyOf`);
    if (schema.oneOf) {
      const matching = schema.oneOf.filter((part) => check(part, value, path, known).length === 0).length;
      if (matching !== 1) found.push(`${path}: matches ${matching} of oneOf, not exactly 1`);
    }
    return found;
  }

  return { resolve, deref, errors: (schema, value, options) => errors(schema, value, options) };
}

/** Every operation of the document as `METHOD /path`. */
export const operationsOf = (document: OpenApiDocument): Array<[string, OperationObject]> =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation as OperationObject] as [string, OperationObject]),
  );

/** Every example of a request or response body, with the schema it must satisfy and where it is used. */
export function bodyExamplesOf(
  document: OpenApiDocument,
  checker: SchemaChecker,
): Array<{ where: string; operation: string; status: string; name: string; schema: JsonSchema; value: unknown }> {
  const found: Array<{ where: string; operation: string; status: string; name: string; schema: JsonSchema; value: unknown }> = [];
  const collect = (operation: string, status: string, content: Record<string, MediaTypeObject> | undefined) => {
    for (const [mediaType, media] of Object.entries(content ?? {})) {
      for (const [name, example] of Object.entries(media.examples ?? {})) {
        found.push({ where: `${operation} ${status} ${mediaType} ${name}`, operation, status, name, schema: media.schema, value: checker.deref(example).value });
      }
    }
  };
  for (const [name, operation] of operationsOf(document)) {
    collect(name, 'request', operation.requestBody?.content);
    for (const [status, response] of Object.entries(operation.responses)) collect(name, status, checker.deref<ResponseObject>(response).content);
  }
  return found;
}
