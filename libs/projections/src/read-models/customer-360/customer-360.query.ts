import { isTier, type Tier } from '@cx/domain';

export const CUSTOMERS_DEFAULT_LIMIT = 50;
export const CUSTOMERS_MAX_LIMIT = 500;

export type FieldError = { field: string; message: string };

export type CustomerListQuery = {
  tier?: Tier;
  atRisk?: boolean;
  /** The page starts after this customer id. */
  after?: string;
  limit: number;
  asOf: Date;
};

const CUSTOMER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))?$/;

export const isCustomerId = (id: string): boolean => CUSTOMER_ID.test(id);

/** The opaque cursor of a page that ends with this customer: base64url of the id. */
export const encodeCursor = (customerId: string): string => Buffer.from(customerId, 'utf8').toString('base64url');

export function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,172}$/.test(cursor)) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  // Only the canonical encoding of a valid id: a cursor is ours or it is refused.
  return isCustomerId(id) && encodeCursor(id) === cursor ? id : undefined;
}

/** An RFC 3339 date-time with an offset, or a date (midnight UTC); undefined when it is neither. */
export function parseInstant(value: string): Date | undefined {
  const match = DATE_TIME.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = match;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(Number(y), month, 0)).getUTCDate()) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const time = Date.parse(match[4] === undefined ? `${y}-${mo}-${d}T00:00:00Z` : value.toUpperCase());
  return Number.isNaN(time) ? undefined : new Date(time);
}

type Reader = { single(field: string): string | undefined; errors: FieldError[] };

function reader(raw: Record<string, unknown>): Reader {
  const errors: FieldError[] = [];
  return {
    errors,
    single(field) {
      const value = raw[field];
      if (value === undefined || value === '') return undefined;
      if (typeof value !== 'string') {
        errors.push({ field, message: 'must be given once, as a plain value' });
        return undefined;
      }
      return value;
    },
  };
}

function asOfOf(params: Reader, now: Date): Date {
  const value = params.single('asOf');
  if (value === undefined) return now;
  const parsed = parseInstant(value);
  if (!parsed) params.errors.push({ field: 'asOf', message: 'must be an RFC 3339 date-time with a time zone (2025-03-14T10:22:05Z) or a date (2025-03-14)' });
  return parsed ?? now;
}

/** `GET /v1/customers/{id}?asOf=`: the instant the SLA rule is evaluated at (default: now). */
export function parseCustomerQuery(raw: Record<string, unknown>, now: Date): { asOf: Date } | { errors: FieldError[] } {
  const params = reader(raw);
  const asOf = asOfOf(params, now);
  return params.errors.length > 0 ? { errors: params.errors } : { asOf };
}

/** `GET /v1/customers?tier=&atRisk=&cursor=&limit=&asOf=`; every bad parameter is named. */
export function parseCustomerListQuery(raw: Record<string, unknown>, now: Date): { query: CustomerListQuery } | { errors: FieldError[] } {
  const params = reader(raw);
  const query: CustomerListQuery = { limit: CUSTOMERS_DEFAULT_LIMIT, asOf: asOfOf(params, now) };

  const tier = params.single('tier');
  if (tier !== undefined) {
    if (isTier(tier)) query.tier = tier;
    else params.errors.push({ field: 'tier', message: 'must be A, B or C' });
  }
  const atRisk = params.single('atRisk');
  if (atRisk !== undefined) {
    if (atRisk === 'true' || atRisk === 'false') query.atRisk = atRisk === 'true';
    else params.errors.push({ field: 'atRisk', message: 'must be true or false' });
  }
  const limit = params.single('limit');
  if (limit !== undefined) {
    if (/^\d{1,4}$/.test(limit) && Number(limit) >= 1 && Number(limit) <= CUSTOMERS_MAX_LIMIT) query.limit = Number(limit);
    else params.errors.push({ field: 'limit', message: `must be an integer from 1 to ${CUSTOMERS_MAX_LIMIT}` });
  }
  const cursor = params.single('cursor');
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    if (after !== undefined) query.after = after;
    else params.errors.push({ field: 'cursor', message: 'must be the nextCursor of a previous page' });
  }
  return params.errors.length > 0 ? { errors: params.errors } : { query };
}
