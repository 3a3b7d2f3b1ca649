import { HttpException, HttpStatus } from '@nestjs/common';

/** A problem with one query parameter or body field, as the API reports it. */
export type FieldError = { field: string; message: string };

export function rejected(errors: readonly FieldError[]): never {
  throw new HttpException({ status: 'rejected', errors }, HttpStatus.BAD_REQUEST);
}

export const DAY_MS = 86_400_000;
export const DEFAULT_WINDOW_DAYS = 30;
/** Two years (one of them leap): longer ranges are an export, not a query. */
export const MAX_WINDOW_DAYS = 731;

/** A half-open time range [from, to). */
export type TimeWindow = { from: Date; to: Date };

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** One value of a query parameter; Express turns `?a=1&a=2` into an array, which is refused. */
export function single(query: Record<string, unknown>, name: string, errors: FieldError[]): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') {
    errors.push({ field: name, message: 'must be given once' });
    return undefined;
  }
  return value;
}

/**
 * An instant from an RFC 3339 timestamp with its offset (`2025-03-14T10:22:05Z`) or a calendar
 * date (`2025-03-14`, midnight UTC). Impossible dates (`2025-02-30`) are refused, not rolled over.
 */
export function parseInstant(raw: string): Date | undefined {
  const date = DATE_ONLY.exec(raw);
  if (date) {
    const parsed = new Date(`${raw}T00:00:00Z`);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === raw ? parsed : undefined;
  }
  if (!DATE_TIME.test(raw)) return undefined;
  const [day] = raw.split(/[Tt]/);
  const calendar = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(calendar.getTime()) || calendar.toISOString().slice(0, 10) !== day) return undefined;
  const parsed = new Date(raw);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

/**
 * `from` and `to` of a query: `to` defaults to now, `from` to 30 days before `to`; `to` must be
 * after `from` and the range at most two years. Problems are added to `errors`.
 */
export function timeWindow(query: Record<string, unknown>, now: Date, errors: FieldError[]): TimeWindow {
  const instant = (name: 'from' | 'to'): Date | undefined | null => {
    const raw = single(query, name, errors);
    if (raw === undefined) return undefined;
    const parsed = parseInstant(raw);
    if (!parsed) errors.push({ field: name, message: 'must be an RFC 3339 timestamp such as 2025-03-14T10:22:05Z, or a date such as 2025-03-14' });
    return parsed ?? null;
  };
  const givenFrom = instant('from');
  const givenTo = instant('to');
  const to = givenTo ?? now;
  const from = givenFrom ?? new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS);
  if (givenFrom !== null && givenTo !== null) {
    if (to.getTime() <= from.getTime()) errors.push({ field: 'to', message: 'must be after from' });
    else if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
      errors.push({ field: 'to', message: `the range from..to may span at most ${MAX_WINDOW_DAYS} days` });
    }
  }
  return { from, to };
}

/** Rounds half away from zero to `digits` decimals; keeps null. */
export function rounded(value: number | null, digits: number): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  const factor = 10 ** digits;
  const result = Math.sign(value) * (Math.round((Math.abs(value) + Number.EPSILON) * factor) / factor);
  return Object.is(result, -0) ? 0 : result;
}
