import { channels, type IngestEventType, ingestEventTypes, outcomes, severities, tiers } from '@cx/domain';
import {
  Equals,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsRFC3339,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  getMetadataStorage,
  isBoolean,
  isEmail,
  isIn,
  isInt,
  isNumber,
  isString,
  length,
  matches,
  max,
  maxLength,
  min,
  minLength,
  type ValidationError,
  ValidateIf,
  type ValidationOptions,
  validateSync,
} from 'class-validator';

/** Like @IsOptional, but only an absent field is skipped: `null` is validated, and so refused. */
function Optional(options?: ValidationOptions): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined, options);
}

/** Text with something in it: not empty and not only white space. */
const NOT_BLANK = /\S/;
function NotBlank(field: string): PropertyDecorator {
  return Matches(NOT_BLANK, { message: `${field} must not be blank` });
}

/** A field-level error, as the API reports it: `data.nps`, `subject`, `[3].type`. */
export type FieldError = { field: string; message: string };

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$/;
const ID_MESSAGE = 'must be 1-128 letters, digits or . _ : @ + = -, starting with a letter or digit';
const knownTypes = Object.keys(ingestEventTypes) as IngestEventType[];

/** CloudEvents 1.0 attributes in the JSON format. Extension attributes are kept as metadata. */
export class CloudEventDto {
  @Equals('1.0', { message: 'specversion must be "1.0"' })
  specversion!: string;

  @IsString()
  @Length(1, 256)
  id!: string;

  @IsString()
  @Length(1, 1024)
  source!: string;

  @IsIn(knownTypes, { message: `type must be one of ${knownTypes.join(', ')}` })
  type!: IngestEventType;

  @Matches(ID, { message: `subject must be a customer id: ${ID_MESSAGE.replace('must be ', '')}` })
  subject!: string;

  @Optional()
  @IsRFC3339({ message: 'time must be an RFC 3339 timestamp, such as 2025-01-31T09:30:00Z' })
  time?: string;

  @Optional()
  @IsIn(['application/json'], { message: 'datacontenttype must be application/json when given' })
  datacontenttype?: string;

  @IsObject({ message: 'data must be a JSON object' })
  data!: Record<string, unknown>;
}

const PHONE = /^\+?[0-9 ().-]{4,32}$/;
const CURRENCY = /^[A-Z]{3}$/;
const KIND = /^[a-z][a-z0-9_]*$/;

class CustomerProfileFields {
  @Optional() @IsEmail({}, { message: 'email must be an email address' }) @MaxLength(254) email?: string;
  @Optional() @Matches(PHONE, { message: 'phone must be a phone number such as +34 600 000 000' }) phone?: string;
  @Optional() @IsIn(channels as string[], { message: `preferredChannel must be one of ${channels.join(', ')}` }) preferredChannel?: string;
  @Optional() @Matches(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, { message: 'locale must be a BCP 47 language tag, such as es-ES' }) locale?: string;
  @Optional() @IsIn(tiers as unknown as string[], { message: 'tier must be one of A, B, C' }) tier?: string;
}

export class CustomerRegisteredData extends CustomerProfileFields {
  @IsString() @NotBlank('name') @MaxLength(200) name!: string;
}

export class CustomerUpdatedData extends CustomerProfileFields {
  @Optional() @IsString() @NotBlank('name') @MaxLength(200) name?: string;
}

export class MomentRecordedData {
  @Matches(KIND, { message: 'kind must be a moment kind such as billing or incident' }) kind!: string;
  @IsIn(channels as string[], { message: `channel must be one of ${channels.join(', ')}` }) channel!: string;
  @Optional() @IsString() @Length(1, 200) touchpoint?: string;
  @Optional() @IsIn(outcomes as unknown as string[], { message: 'outcome must be one of positive, neutral, negative' }) outcome?: string;
  @Optional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) waitSeconds?: number;
  @Optional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) expectedWaitSeconds?: number;
  @Optional() @IsBoolean() waitExplained?: boolean;
  @Optional() @IsString() @Length(1, 128) agentId?: string;
  @Optional() @IsString() @Length(1, 128) area?: string;
  @Optional() @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 4 }) amount?: number;
  @Optional() @Matches(CURRENCY, { message: 'currency must be an ISO 4217 code such as EUR' }) currency?: string;
  @Optional() @IsString() @Length(1, 128) orderId?: string;
}

export class FeedbackSubmittedData {
  @Optional() @IsInt() @Min(0) @Max(10) nps?: number;
  @Optional() @IsInt() @Min(1) @Max(5) csat?: number;
  @Optional() @IsInt() @Min(1) @Max(7) ces?: number;
  @Optional() @IsString() @NotBlank('comment') @MaxLength(4000) comment?: string;
  @Optional() @IsString() @Length(1, 256) momentId?: string;
}

class ComplaintRef {
  @Matches(ID, { message: `complaintId ${ID_MESSAGE}` }) complaintId!: string;
}

export class ComplaintFiledData extends ComplaintRef {
  @IsString() @Length(1, 128) category!: string;
  @IsIn(channels as string[], { message: `channel must be one of ${channels.join(', ')}` }) channel!: string;
  @IsIn(severities as unknown as string[], { message: 'severity must be one of low, medium, high, critical' }) severity!: string;
  @Optional() @IsString() @NotBlank('description') @MaxLength(4000) description?: string;
  @Optional() @IsString() @Length(1, 256) momentId?: string;
}

export class ComplaintAcknowledgedData extends ComplaintRef {}
export class ComplaintRoutedData extends ComplaintRef {
  @IsString() @Length(1, 128) area!: string;
}
export class ComplaintResolvedData extends ComplaintRef {
  @IsString() @Length(1, 4000) resolution!: string;
  @Optional() @IsString() @Length(1, 1000) rootCause?: string;
}
export class ComplaintConfirmedData extends ComplaintRef {}
export class ComplaintReopenedData extends ComplaintRef {
  @Optional() @IsString() @Length(1, 1000) reason?: string;
}
export class ComplaintClosedData extends ComplaintRef {}

type DataClass = new () => object;

/** The data class of each CloudEvents type the ingest API accepts. */
export const dataClasses: Record<IngestEventType, DataClass> = {
  'cx.customer.registered': CustomerRegisteredData,
  'cx.customer.updated': CustomerUpdatedData,
  'cx.moment.recorded': MomentRecordedData,
  'cx.feedback.submitted': FeedbackSubmittedData,
  'cx.complaint.filed': ComplaintFiledData,
  'cx.complaint.acknowledged': ComplaintAcknowledgedData,
  'cx.complaint.routed': ComplaintRoutedData,
  'cx.complaint.resolved': ComplaintResolvedData,
  'cx.complaint.confirmed': ComplaintConfirmedData,
  'cx.complaint.reopened': ComplaintReopenedData,
  'cx.complaint.closed': ComplaintClosedData,
};

/** Personal data: sealed with the customer's key before anything is stored. */
export const piiFields: Partial<Record<IngestEventType, readonly string[]>> = {
  'cx.customer.registered': ['name', 'email', 'phone'],
  'cx.customer.updated': ['name', 'email', 'phone'],
  'cx.feedback.submitted': ['comment'],
  'cx.complaint.filed': ['description'],
};

/** The extensions of an event that has none: one shared frozen object, not one per event. */
const NO_EXTENSIONS: ValidCloudEvent['extensions'] = Object.freeze({});

const CE_ATTRIBUTES = new Set(['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'data', 'dataschema']);
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;

export type ValidCloudEvent = {
  specversion: '1.0';
  id: string;
  source: string;
  type: IngestEventType;
  subject: string;
  time?: string;
  data: Record<string, unknown>;
  /** CloudEvents extension attributes (such as traceparent), kept in the event's metadata. */
  extensions: Record<string, string | number | boolean>;
};

function flatten(errors: readonly ValidationError[], prefix: string): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      // class-validator starts messages with the property name; keep the full path instead.
      message: message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

const RFC3339 = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const knownTypeSet = new Set<string>(knownTypes);

/**
 * A quick test that an envelope is certainly valid, so the common case skips class-validator
 * (whose per-call overhead dominates ingest). It accepts a subset of what CloudEventDto accepts;
 * anything else goes through CloudEventDto, which stays the rule and writes the error messages.
 */
function certainlyValidEnvelope(input: Record<string, unknown>): boolean {
  const { specversion, id, source, type, subject, time, datacontenttype, data } = input;
  return (
    specversion === '1.0' &&
    typeof id === 'string' && id.length >= 1 && id.length <= 256 &&
    typeof source === 'string' && source.length >= 1 && source.length <= 1024 &&
    typeof type === 'string' && knownTypeSet.has(type) &&
    typeof subject === 'string' && ID.test(subject) &&
    (time === undefined || (typeof time === 'string' && RFC3339.test(time))) &&
    (datacontenttype === undefined || datacontenttype === 'application/json') &&
    typeof data === 'object' && data !== null && !Array.isArray(data)
  );
}

type Check = (value: unknown, constraints: readonly unknown[]) => boolean;

/** class-validator's own checks, by rule name, for the rules the data classes use. */
const checks: Record<string, Check> = {
  isString: (v) => isString(v),
  isIn: (v, [values]) => isIn(v, values as unknown[]),
  matches: (v, [pattern, modifiers]) =>
    typeof v === 'string' && (modifiers === undefined ? matches(v, pattern as RegExp) : matches(v, pattern as string, modifiers as string)),
  min: (v, [bound]) => min(v, bound as number),
  max: (v, [bound]) => max(v, bound as number),
  isInt: (v) => isInt(v),
  isNumber: (v, [options]) => isNumber(v, options as Parameters<typeof isNumber>[1]),
  isBoolean: (v) => isBoolean(v),
  isLength: (v, [low, high]) => typeof v === 'string' && length(v, low as number, high as number | undefined),
  minLength: (v, [bound]) => typeof v === 'string' && minLength(v, bound as number),
  maxLength: (v, [bound]) => typeof v === 'string' && maxLength(v, bound as number),
  isEmail: (v, [options]) => typeof v === 'string' && isEmail(v, options as Parameters<typeof isEmail>[1]),
};

/**
 * A data class's class-validator rules compiled once into one function, for the common case: true
 * means valid by exactly those rules, and class-validator (its per-call overhead is most of ingest's
 * validation cost) then need not run; false, or a class with a rule not mapped here, falls back to
 * class-validator, which writes the messages.
 */
function compiledCheck(dataClass: DataClass): ((data: Record<string, unknown>) => boolean) | undefined {
  const byProperty = new Map<string, { optional: boolean; rules: Array<{ check: Check; constraints: readonly unknown[] }> }>();
  for (const metadata of getMetadataStorage().getTargetValidationMetadatas(dataClass, '', true, false)) {
    if (metadata.each || metadata.always || (metadata.groups?.length ?? 0) > 0) return undefined;
    const entry = byProperty.get(metadata.propertyName) ?? { optional: false, rules: [] };
    if (metadata.type === 'conditionalValidation') {
      entry.optional = true; // the DTOs' Optional(): skip only an absent field
    } else {
      const check = metadata.name ? checks[metadata.name] : undefined;
      if (metadata.type !== 'customValidation' || !check) return undefined;
      entry.rules.push({ check, constraints: metadata.constraints ?? [] });
    }
    byProperty.set(metadata.propertyName, entry);
  }
  const properties = [...byProperty.entries()].map(([property, { optional, rules }]) => ({
    property,
    optional,
    checks: rules.map((rule) => rule.check),
    constraints: rules.map((rule) => rule.constraints),
  }));
  return (data) => {
    for (let p = 0; p < properties.length; p++) {
      const { property, optional, checks, constraints } = properties[p];
      const value = data[property];
      if (optional && value === undefined) continue;
      for (let r = 0; r < checks.length; r++) if (!checks[r](value, constraints[r])) return false;
    }
    return true;
  };
}

const fastChecks = new Map(Object.values(dataClasses).map((dataClass) => [dataClass, compiledCheck(dataClass)] as const));

/** The properties each data class validates: anything else in `data` is refused, not silently stored. */
const allowedProperties = new Map<DataClass, ReadonlySet<string>>(
  Object.values(dataClasses).map((dataClass) => [
    dataClass,
    new Set(getMetadataStorage().getTargetValidationMetadatas(dataClass, '', true, false).map((m) => m.propertyName)),
  ]),
);

/** Validates one CloudEvent in JSON form: the envelope, then the data for its type. */
export function validateCloudEvent(raw: unknown): { event: ValidCloudEvent } | { errors: FieldError[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { errors: [{ field: '', message: 'an event must be a JSON object' }] };
  }
  const input = raw as Record<string, unknown>;
  // The DTOs transform nothing, so plain assignment builds the instances (class-transformer costs ~25 µs an event).
  const errors = certainlyValidEnvelope(input)
    ? []
    : flatten(validateSync(Object.assign(new CloudEventDto(), input), { forbidUnknownValues: false }), '');

  let extensions: ValidCloudEvent['extensions'] = NO_EXTENSIONS;
  const names = Object.keys(input);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (CE_ATTRIBUTES.has(name)) continue;
    const value = input[name];
    const kind = typeof value;
    if (!EXTENSION_NAME.test(name)) {
      errors.push({ field: name, message: 'is not a CloudEvents attribute (extension names are 1-20 lower-case letters or digits)' });
    } else if (kind !== 'string' && kind !== 'number' && kind !== 'boolean') {
      errors.push({ field: name, message: 'an extension attribute must be a string, number or boolean' });
    } else {
      if (extensions === NO_EXTENSIONS) extensions = {};
      extensions[name] = value as string | number | boolean;
    }
  }

  const dataClass = typeof input.type === 'string' ? dataClasses[input.type as IngestEventType] : undefined;
  if (dataClass && typeof input.data === 'object' && input.data !== null && !Array.isArray(input.data)) {
    const data = input.data as Record<string, unknown>;
    const allowed = allowedProperties.get(dataClass)!;
    const keys = Object.keys(data);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (!allowed.has(key)) errors.push({ field: `data.${key}`, message: `property ${key} should not exist` });
    }
    if (!fastChecks.get(dataClass)?.(data)) errors.push(...flatten(validateSync(Object.assign(new dataClass(), data)), 'data'));
  }
  if (errors.length > 0) return { errors };
  const event: ValidCloudEvent = {
    specversion: '1.0',
    id: input.id as string,
    source: input.source as string,
    type: input.type as IngestEventType,
    subject: input.subject as string,
    data: input.data as Record<string, unknown>,
    extensions,
  };
  if (input.time !== undefined) event.time = input.time as string;
  return { event };
}
