// ---------------------------------------------------------------------------------------------
// The OpenAPI 3.1 shapes the document uses (a subset of the specification, enough to type it),
// and the small helpers every part of the document builds with.
// ---------------------------------------------------------------------------------------------

export type Reference = { $ref: string };

type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

/** A JSON Schema 2020-12 object, as OpenAPI 3.1 uses it, plus `discriminator` and `x-pii`. */
export type JsonSchema = {
  $ref?: string;
  title?: string;
  description?: string;
  type?: JsonType | readonly JsonType[];
  const?: string | number | boolean;
  enum?: readonly (string | number | boolean | null)[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  dependentRequired?: Record<string, readonly string[]>;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  oneOf?: readonly JsonSchema[];
  anyOf?: readonly JsonSchema[];
  allOf?: readonly JsonSchema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  default?: string | number | boolean;
  examples?: readonly unknown[];
  /** Personal data: sealed (AES-256-GCM, the customer's own key) before anything is stored. */
  'x-pii'?: boolean;
};

export type ExampleObject = { summary: string; description?: string; value: unknown };
export type MediaTypeObject = { schema: JsonSchema; examples?: Record<string, ExampleObject | Reference> };
export type HeaderObject = { description: string; required?: boolean; schema: JsonSchema };
export type ParameterObject = {
  name: string;
  in: 'query' | 'header' | 'path';
  description: string;
  required?: boolean;
  schema: JsonSchema;
  example?: string;
};
export type RequestBodyObject = { description: string; required: boolean; content: Record<string, MediaTypeObject> };
export type ResponseObject = {
  description: string;
  headers?: Record<string, HeaderObject | Reference>;
  content?: Record<string, MediaTypeObject>;
};
export type OperationObject = {
  operationId: string;
  summary: string;
  description: string;
  tags: readonly string[];
  /** Absent: public. Each entry is one way to authenticate; the values are the API-key scopes needed. */
  security?: ReadonlyArray<Record<string, readonly string[]>>;
  parameters?: ReadonlyArray<ParameterObject | Reference>;
  requestBody?: RequestBodyObject;
  responses: Record<string, ResponseObject | Reference>;
  /**
   * The read models the route reads: `minPosition` / `X-Cx-Min-Position` wait for these
   * (`@ReadsProjections` of the controller; openapi.spec.ts keeps the two equal).
   */
  'x-reads-projections'?: readonly string[];
};
export type PathItemObject = { get?: OperationObject; post?: OperationObject };
export type SecuritySchemeObject =
  | { type: 'http'; scheme: 'bearer'; description: string }
  | { type: 'apiKey'; in: 'header'; name: string; description: string };

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; summary: string; description: string };
  servers?: ReadonlyArray<{ url: string; description?: string }>;
  tags: ReadonlyArray<{ name: string; description: string }>;
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, ResponseObject>;
    parameters: Record<string, ParameterObject>;
    headers: Record<string, HeaderObject>;
    examples: Record<string, ExampleObject>;
    securitySchemes: Record<string, SecuritySchemeObject>;
  };
};

export type OpenApiOptions = {
  /** The API's base URL (`https://cx.example.com`). Without it the document names no server: clients use its own origin. */
  serverUrl?: string;
};

export type ComponentKind = 'schemas' | 'responses' | 'parameters' | 'headers' | 'examples';

export const ref = (kind: ComponentKind, name: string): Reference => ({ $ref: `#/components/${kind}/${name}` });
export const schemaRef = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
/** A schema that also allows null: `anyOf` the schema and null. */
export const nullable = (schema: JsonSchema, description?: string): JsonSchema => ({
  anyOf: [schema, { type: 'null' }],
  ...(description ? { description } : {}),
});
export const position = (description: string): JsonSchema => ({ ...schemaRef('Position'), description });

export const correlationHeader = { 'X-Correlation-Id': ref('headers', 'X-Correlation-Id') };

/** `application/json` content with the schema and the named examples of `components.examples`. */
export const json = (schema: JsonSchema, names: readonly string[] = []): Record<string, MediaTypeObject> => ({
  'application/json': {
    schema,
    ...(names.length > 0 ? { examples: Object.fromEntries(names.map((name) => [name, ref('examples', name)])) } : {}),
  },
});

/** Both ways to send a key, each with the scopes the route needs. */
export const needs = (...scopes: readonly string[]): ReadonlyArray<Record<string, readonly string[]>> => [{ bearer: scopes }, { apiKey: scopes }];

/** The parts one area of the API adds to the document. */
export type DocumentPart = {
  tags: ReadonlyArray<{ name: string; description: string }>;
  paths: Record<string, PathItemObject>;
  components: Omit<OpenApiDocument['components'], 'securitySchemes'>;
};

/** 403 of a route that needs `scope`, with the example of its message. */
export const forbidden = (scope: string, example: string): ResponseObject => ({
  description: `A valid key without the scope \`${scope}\`.`,
  headers: {
    ...correlationHeader,
    'WWW-Authenticate': {
      description: `Names the scopes the route needs: \`Bearer realm="cx", error="insufficient_scope", scope="${scope}"\`.`,
      required: true,
      schema: { type: 'string' },
    },
  },
  content: json(schemaRef('Rejection'), [example]),
});
