import { DomainValidationError, type ValidationIssue } from './domain.errors.js';

/** A check of one field: an issue when the value is invalid, undefined when it is fine. */
export type Check = ValidationIssue | undefined;

/** Throws one DomainValidationError listing every failed check, in order. */
export function validate(...checks: readonly Check[]): void {
  const issues = checks.filter((check): check is ValidationIssue => check !== undefined);
  if (issues.length > 0) throw new DomainValidationError(issues as [ValidationIssue, ...ValidationIssue[]]);
}

const issue = (field: string, reason: string): ValidationIssue => ({ field, reason });

/**
 * Ids end up in stream ids (`customer-<id>`, `complaint-<id>`), so they keep to the characters the
 * event store accepts there.
 */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$/;
/** RFC 3339 date-time with an explicit offset, as in CloudEvents `time`. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export function id(field: string, value: unknown): Check {
  if (typeof value !== 'string' || !ID.test(value)) {
    return issue(field, 'must be 1-128 letters, digits or . _ : @ + = -, starting with a letter or digit');
  }
  return undefined;
}

export function text(field: string, value: unknown): Check {
  return typeof value === 'string' && value.trim().length > 0 ? undefined : issue(field, 'must be a non-empty string');
}

export function optionalText(field: string, value: unknown): Check {
  return value === undefined ? undefined : text(field, value);
}

/** Days in a month, as `new Date(Date.UTC(year, month, 0)).getUTCDate()` counts them (it reads years 0-99 as 1900-1999). */
function daysInMonth(year: number, month: number): number {
  const y = year <= 99 ? 1900 + year : year;
  if (month === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function timestamp(field: string, value: unknown): Check {
  const parts = typeof value === 'string' ? TIMESTAMP.exec(value) : null;
  if (parts && !Number.isNaN(Date.parse(value as string))) {
    const year = Number(parts[1]);
    const month = Number(parts[2]);
    const day = Number(parts[3]);
    // Date.parse rolls 2025-02-30 over into March; a calendar date must exist as written.
    if (month >= 1 && month <= 12 && day <= daysInMonth(year, month)) return undefined;
  }
  return issue(field, 'must be an RFC 3339 timestamp with a time zone, such as 2025-01-31T09:30:00Z');
}

export function oneOf(field: string, value: unknown, allowed: readonly string[]): Check {
  return typeof value === 'string' && allowed.includes(value) ? undefined : issue(field, `must be one of ${allowed.join(', ')}`);
}

export function optionalOneOf(field: string, value: unknown, allowed: readonly string[]): Check {
  return value === undefined ? undefined : oneOf(field, value, allowed);
}

export function optionalIntegerIn(field: string, value: unknown, min: number, max: number): Check {
  if (value === undefined) return undefined;
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max
    ? undefined
    : issue(field, `must be an integer from ${min} to ${max}`);
}

export function optionalNonNegative(field: string, value: unknown): Check {
  if (value === undefined) return undefined;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? undefined : issue(field, 'must be a number >= 0');
}

export function optionalNumber(field: string, value: unknown): Check {
  if (value === undefined) return undefined;
  return typeof value === 'number' && Number.isFinite(value) ? undefined : issue(field, 'must be a finite number');
}

export function optionalBoolean(field: string, value: unknown): Check {
  return value === undefined || typeof value === 'boolean' ? undefined : issue(field, 'must be true or false');
}

export function optionalMatch(field: string, value: unknown, pattern: RegExp, reason: string): Check {
  if (value === undefined) return undefined;
  return typeof value === 'string' && pattern.test(value) ? undefined : issue(field, reason);
}

/** An issue on `field` when `condition` holds. */
export function when(condition: boolean, field: string, reason: string): Check {
  return condition ? issue(field, reason) : undefined;
}
