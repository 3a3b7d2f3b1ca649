import { ConfigError } from '@cx/platform';
import { loadRetentionConfig } from './retention.config.js';

describe('retention configuration', () => {
  it('defaults to Pareto 80/95 on a year of EUR payments, tiers hourly, alerts every 15 s for a week', () => {
    expect(loadRetentionConfig({})).toEqual({
      currency: 'EUR',
      windowDays: 365,
      rule: { mode: 'pareto', aShare: 0.8, bShare: 0.95 },
      tierIntervalMinutes: 60,
      alertIntervalSeconds: 15,
      alertMaxAgeHours: 168,
    });
  });

  it('takes shares, window, currency and intervals from the environment; 0 disables a loop', () => {
    const config = loadRetentionConfig({
      CX_CURRENCY: 'USD',
      CX_TIER_WINDOW_DAYS: '90',
      CX_TIER_A_SHARE: '0.7',
      CX_TIER_B_SHARE: '1',
      CX_TIER_INTERVAL_MINUTES: '0',
      CX_RETENTION_ALERT_INTERVAL_SECONDS: '0',
      CX_RETENTION_ALERT_MAX_AGE_HOURS: '0',
    });
    expect(config).toEqual({
      currency: 'USD',
      windowDays: 90,
      rule: { mode: 'pareto', aShare: 0.7, bShare: 1 },
      tierIntervalMinutes: 0,
      alertIntervalSeconds: 0,
      alertMaxAgeHours: 0,
    });
  });

  it('switches to absolute thresholds when minimum values are given, in ten-thousandths', () => {
    expect(loadRetentionConfig({ CX_TIER_A_MIN_VALUE: '1000', CX_TIER_B_MIN_VALUE: '250.5' }).rule).toEqual({
      mode: 'absolute',
      aMinUnits: 10_000_000,
      bMinUnits: 2_505_000,
    });
  });

  it.each([
    [{ CX_CURRENCY: 'eur' }, 'CX_CURRENCY'],
    [{ CX_TIER_A_SHARE: '80' }, 'CX_TIER_A_SHARE'],
    [{ CX_TIER_A_SHARE: '0' }, 'CX_TIER_A_SHARE'],
    [{ CX_TIER_A_SHARE: '0.9', CX_TIER_B_SHARE: '0.8' }, 'CX_TIER_B_SHARE'],
    [{ CX_TIER_A_MIN_VALUE: '1000' }, 'CX_TIER_B_MIN_VALUE'],
    [{ CX_TIER_A_MIN_VALUE: '100', CX_TIER_B_MIN_VALUE: '200' }, 'CX_TIER_B_MIN_VALUE'],
    [{ CX_TIER_A_MIN_VALUE: '1000', CX_TIER_B_MIN_VALUE: '0.00001' }, 'CX_TIER_B_MIN_VALUE'],
    [{ CX_TIER_A_MIN_VALUE: '1000', CX_TIER_B_MIN_VALUE: '100', CX_TIER_A_SHARE: '0.8' }, 'CX_TIER_A_SHARE'],
    [{ CX_TIER_WINDOW_DAYS: '0' }, 'CX_TIER_WINDOW_DAYS'],
    [{ CX_TIER_INTERVAL_MINUTES: '1.5' }, 'CX_TIER_INTERVAL_MINUTES'],
  ])('refuses %j, naming %s', (env, variable) => {
    expect(() => loadRetentionConfig(env)).toThrow(ConfigError);
    expect(() => loadRetentionConfig(env)).toThrow(expect.objectContaining({ variable }));
  });
});
