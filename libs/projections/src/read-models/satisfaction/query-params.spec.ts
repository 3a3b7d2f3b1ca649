import { parseFunnelQuery } from '../complaints/complaint-funnel.query.js';
import { type FieldError, parseInstant, rounded, timeWindow } from './query-params.js';
import { parseSatisfactionQuery } from './satisfaction.query.js';

const NOW = new Date('2025-03-31T12:00:00Z');

function parse<T>(parser: (query: Record<string, unknown>, now: Date, errors: FieldError[]) => T, query: Record<string, unknown>) {
  const errors: FieldError[] = [];
  const value = parser(query, NOW, errors);
  return { value, errors };
}

describe('query parameters', () => {
  it('reads RFC 3339 timestamps with an offset and calendar dates, and refuses impossible ones', () => {
    expect(parseInstant('2025-03-14T10:22:05Z')?.toISOString()).toBe('2025-03-14T10:22:05.000Z');
    expect(parseInstant('2025-03-14T10:22:05.5+01:00')?.toISOString()).toBe('2025-03-14T09:22:05.500Z');
    expect(parseInstant('2025-03-14')?.toISOString()).toBe('2025-03-14T00:00:00.000Z');
    for (const bad of ['2025-02-30', '2025-02-30T00:00:00Z', '2025-03-14T10:22:05', 'yesterday', '1710411725', '2025-13-01']) {
      expect(parseInstant(bad)).toBeUndefined();
    }
  });

  it('defaults to the 30 days before now', () => {
    const { value, errors } = parse(timeWindow, {});
    expect(errors).toEqual([]);
    expect(value).toEqual({ from: new Date('2025-03-01T12:00:00Z'), to: NOW });
    // With only `to`, `from` is 30 days before it.
    expect(parse(timeWindow, { to: '2025-01-31' }).value.from).toEqual(new Date('2025-01-01T00:00:00Z'));
  });

  it('refuses to <= from, a range over two years, a malformed date and a repeated parameter', () => {
    expect(parse(timeWindow, { from: '2025-03-02', to: '2025-03-01' }).errors).toEqual([{ field: 'to', message: 'must be after from' }]);
    expect(parse(timeWindow, { from: '2025-03-01', to: '2025-03-01' }).errors).toEqual([{ field: 'to', message: 'must be after from' }]);
    expect(parse(timeWindow, { from: '2023-01-01', to: '2025-01-02' }).errors).toEqual([
      { field: 'to', message: 'the range from..to may span at most 731 days' },
    ]);
    expect(parse(timeWindow, { from: '2023-01-01', to: '2025-01-01' }).errors).toEqual([]); // exactly 731 days
    expect(parse(timeWindow, { from: 'last week' }).errors).toEqual([{ field: 'from', message: expect.stringContaining('RFC 3339') }]);
    expect(parse(timeWindow, { to: ['2025-01-01', '2025-02-01'] }).errors).toEqual([{ field: 'to', message: 'must be given once' }]);
  });

  it('parses interval and a comma-separated groupBy, refusing unknown values', () => {
    expect(parse(parseSatisfactionQuery, { interval: 'week', groupBy: 'kind, channelGroup,kind' }).value).toMatchObject({
      interval: 'week',
      groupBy: ['kind', 'channelGroup'],
    });
    expect(parse(parseSatisfactionQuery, {}).value).toMatchObject({ interval: 'day', groupBy: [] });
    const { errors } = parse(parseSatisfactionQuery, { interval: 'hour', groupBy: 'kind,agent' });
    expect(errors).toEqual([
      { field: 'interval', message: 'must be one of day, week, month' },
      { field: 'groupBy', message: 'unknown field "agent": groupBy takes any of kind, channel, channelGroup, area, comma-separated' },
    ]);
  });

  it('takes one funnel groupBy of category, channel or area', () => {
    expect(parse(parseFunnelQuery, { groupBy: 'area' }).value.groupBy).toBe('area');
    expect(parse(parseFunnelQuery, {}).value.groupBy).toBeNull();
    expect(parse(parseFunnelQuery, { groupBy: 'category,channel' }).errors).toEqual([
      { field: 'groupBy', message: 'must be one of category, channel, area' },
    ]);
  });

  it('rounds half away from zero', () => {
    expect(rounded(100 / 3, 1)).toBe(33.3);
    expect(rounded(-100 / 3, 1)).toBe(-33.3);
    expect(rounded(2 / 3, 4)).toBe(0.6667);
    expect(rounded(0.125, 2)).toBe(0.13);
    expect(rounded(-0.00001, 1)).toBe(0);
    expect(rounded(null, 1)).toBeNull();
  });
});
