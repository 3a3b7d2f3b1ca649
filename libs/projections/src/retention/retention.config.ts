import { ConfigError } from '@cx/platform';

/**
 * How tiers are cut from value. `pareto`: rank customers by value; the top customers who together
 * make `aShare` of the total are A, the next ones up to `bShare` are B. `absolute`: fixed
 * minimum values, in ten-thousandths of the platform currency.
 */
export type TierRule = { mode: 'pareto'; aShare: number; bShare: number } | { mode: 'absolute'; aMinUnits: number; bMinUnits: number };

export type RetentionConfig = {
  /** ISO 4217: the only currency whose payments count for tiers (no exchange rates on the platform). */
  currency: string;
  /** The rolling window of payments that make a customer's value. */
  windowDays: number;
  rule: TierRule;
  /** Minutes between two tier recomputations in a process that runs projections; 0: only on demand. */
  tierIntervalMinutes: number;
  /** Seconds between two rounds of the alert dispatcher (outbox, then the SLA check); 0: never. */
  alertIntervalSeconds: number;
  /** Alerts of episodes that began longer ago than this are not sent (a replay of history); 0: no limit. */
  alertMaxAgeHours: number;
};

/** Injection token of the RetentionConfig. */
export const RETENTION_CONFIG = Symbol('RetentionConfig');

const CURRENCY = /^[A-Z]{3}$/;
/** An amount with at most 4 decimals, as the platform keeps them. */
const AMOUNT = /^\d{1,15}(\.\d{1,4})?$/;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function share(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(raw.trim()) || !(value > 0 && value <= 1)) {
    throw new ConfigError(name, `must be a share greater than 0 and at most 1, such as 0.8, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function minValueUnits(env: NodeJS.ProcessEnv, name: string): number {
  const raw = (env[name] ?? '').trim();
  const [whole, decimals = ''] = raw.split('.');
  const units = Number(whole) * 10_000 + Number(decimals.padEnd(4, '0'));
  if (!AMOUNT.test(raw) || !(units > 0) || !Number.isSafeInteger(units)) {
    throw new ConfigError(name, `must be an amount greater than 0 with at most 4 decimals, such as 1000 or 250.50, got ${JSON.stringify(env[name])}`);
  }
  return units;
}

const isSet = (env: NodeJS.ProcessEnv, name: string) => env[name] !== undefined && env[name] !== '';

/** Reads the retention settings from the environment; a bad value stops the process at start. */
export function loadRetentionConfig(env: NodeJS.ProcessEnv = process.env): RetentionConfig {
  const currency = env.CX_CURRENCY || 'EUR';
  if (!CURRENCY.test(currency)) throw new ConfigError('CX_CURRENCY', `must be an ISO 4217 code of three capital letters, such as EUR, got ${JSON.stringify(currency)}`);

  const absolute = isSet(env, 'CX_TIER_A_MIN_VALUE') || isSet(env, 'CX_TIER_B_MIN_VALUE');
  let rule: TierRule;
  if (absolute) {
    for (const name of ['CX_TIER_A_SHARE', 'CX_TIER_B_SHARE']) {
      if (isSet(env, name)) throw new ConfigError(name, 'the Pareto shares and CX_TIER_A_MIN_VALUE/CX_TIER_B_MIN_VALUE are alternatives: set one or the other');
    }
    const aMinUnits = minValueUnits(env, 'CX_TIER_A_MIN_VALUE');
    const bMinUnits = minValueUnits(env, 'CX_TIER_B_MIN_VALUE');
    if (bMinUnits > aMinUnits) throw new ConfigError('CX_TIER_B_MIN_VALUE', 'must not be greater than CX_TIER_A_MIN_VALUE');
    rule = { mode: 'absolute', aMinUnits, bMinUnits };
  } else {
    const aShare = share(env, 'CX_TIER_A_SHARE', 0.8);
    const bShare = share(env, 'CX_TIER_B_SHARE', 0.95);
    if (bShare < aShare) throw new ConfigError('CX_TIER_B_SHARE', `must not be less than CX_TIER_A_SHARE (${aShare})`);
    rule = { mode: 'pareto', aShare, bShare };
  }

  return {
    currency,
    windowDays: integer(env, 'CX_TIER_WINDOW_DAYS', 365, 1, 3660),
    rule,
    tierIntervalMinutes: integer(env, 'CX_TIER_INTERVAL_MINUTES', 60, 0, 10_080),
    alertIntervalSeconds: integer(env, 'CX_RETENTION_ALERT_INTERVAL_SECONDS', 15, 0, 86_400),
    alertMaxAgeHours: integer(env, 'CX_RETENTION_ALERT_MAX_AGE_HOURS', 168, 0, 87_600),
  };
}
