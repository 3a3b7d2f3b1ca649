import type { AsOf } from '@cx/domain';

export const JOURNEY_DEFAULT_LIMIT = 100;
export const JOURNEY_MAX_LIMIT = 1000;

export type FieldError = { field: string; message: string };

/** A journey page request, validated: `from` inclusive, `to` exclusive, events after log position `after`. */
export type JourneyQuery = {
  from?: Date;
  to?: Date;
  after: bigint;
  limit: number;
  /** Replay: the customer's events and state as of this point, folded from the log. */
  asOf?: AsOf;
};

const CUSTOMER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2})))?$/;
const CURSOR_VERSION = 'j1';
const POSITION = /^\d{1,19}$/;
const MAX_POSITION = 2n ** 63n - 1n;

export function customerIdError(id: string): FieldError | undefined {
  return CUSTOMER_ID.test(id) ? undefined : { field: 'id', message: 'must be a customer id: 1-128 letters, digits or . _ : @ + = -, starting with a letter or digit' };
}

/** An RFC 3339 date-time with an offset, or a date (midnight UTC); undefined when it is neither or names no real day. */
export function parseInstant(value: string): Date | undefined {
  const match = DATE_TIME.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', , , oh = '00', om = '00'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59 || Number(oh) > 23 || Number(om) > 59) return undefined;
  const time = Date.parse(match[4] === undefined ? `${y}-${mo}-${d}T00:00:00Z` : value.toUpperCase());
  return Number.isNaN(time) ? undefined : new Date(time);
}

export const AS_OF_MESSAGE =
  'must be a log position (digits, as the ingest API returns them) or an RFC 3339 date-time with a time zone (2025-03-14T10:22:05Z) or a date (2025-03-14, midnight UTC)';

/** `asOf`: digits are a log position, anything else must be an instant; undefined when it is neither. */
export function parseAsOf(value: string): AsOf | undefined {
  if (POSITION.test(value)) {
    const position = BigInt(value);
    return position <= MAX_POSITION ? { position } : undefined;
  }
  const time = parseInstant(value);
  return time ? { time: time.getTime() } : undefined;
}

/** The opaque cursor of a page that ends at `position`: the next page starts after it. */
export function encodeCursor(position: bigint | string): string {
  return Buffer.from(`${CURSOR_VERSION}:${position}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): bigint | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return undefined;
  const [version, position, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (version !== CURSOR_VERSION || rest.length > 0 || position === undefined || !POSITION.test(position)) return undefined;
  const value = BigInt(position);
  return value <= MAX_POSITION ? value : undefined;
}

/** Validates the query string of `GET /v1/customers/{id}/journey`; every bad parameter is named. */
export function parseJourneyQuery(raw: Record<string, unknown>): { query: JourneyQuery } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const single = (field: string): string | undefined => {
    const value = raw[field];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') {
      errors.push({ field, message: 'must be given once, as a plain value' });
      return undefined;
    }
    return value;
  };

  const instant = (field: string): Date | undefined => {
    const value = single(field);
    if (value === undefined) return undefined;
    const parsed = parseInstant(value);
    if (!parsed) errors.push({ field, message: 'must be an RFC 3339 date-time with a time zone (2025-03-14T10:22:05Z) or a date (2025-03-14)' });
    return parsed;
  };
  const from = instant('from');
  const to = instant('to');
  if (from && to && to.getTime() <= from.getTime()) errors.push({ field: 'to', message: 'must be later than from' });

  let limit = JOURNEY_DEFAULT_LIMIT;
  const rawLimit = single('limit');
  if (rawLimit !== undefined) {
    if (/^\d{1,7}$/.test(rawLimit) && Number(rawLimit) >= 1 && Number(rawLimit) <= JOURNEY_MAX_LIMIT) limit = Number(rawLimit);
    else errors.push({ field: 'limit', message: `must be an integer from 1 to ${JOURNEY_MAX_LIMIT}` });
  }

  let after = 0n;
  const rawCursor = single('cursor');
  if (rawCursor !== undefined) {
    const decoded = decodeCursor(rawCursor);
    if (decoded === undefined) errors.push({ field: 'cursor', message: 'is not a cursor this API returned: pass the nextCursor of the previous page unchanged' });
    else after = decoded;
  }

  let asOf: AsOf | undefined;
  const rawAsOf = single('asOf');
  if (rawAsOf !== undefined) {
    asOf = parseAsOf(rawAsOf);
    if (!asOf) errors.push({ field: 'asOf', message: AS_OF_MESSAGE });
  }

  if (errors.length > 0) return { errors };
  return { query: { ...(from ? { from } : {}), ...(to ? { to } : {}), after, limit, ...(asOf ? { asOf } : {}) } };
}
