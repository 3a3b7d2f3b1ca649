import { AS_OF_MESSAGE, decodeCursor, encodeCursor, parseAsOf, parseInstant, parseJourneyQuery } from './journey.query.js';

describe('journey query parameters', () => {
  it('defaults to the whole journey from the start, 100 a page', () => {
    expect(parseJourneyQuery({})).toEqual({ query: { after: 0n, limit: 100 } });
    expect(parseJourneyQuery({ from: '', limit: '' })).toEqual({ query: { after: 0n, limit: 100 } });
  });

  it('reads RFC 3339 instants with any offset and plain dates as midnight UTC', () => {
    expect(parseInstant('2025-03-14T10:22:05+02:00')?.toISOString()).toBe('2025-03-14T08:22:05.000Z');
    expect(parseInstant('2025-03-14t10:22:05.5z')?.toISOString()).toBe('2025-03-14T10:22:05.500Z');
    expect(parseInstant('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    for (const bad of ['2025-02-29', '2025-02-30', '2025-13-01', '2025-03-14T24:00:00Z', '2025-03-14T10:22:05', '14/03/2025', 'yesterday', '2025-03-14 10:22:05Z']) {
      expect(parseInstant(bad)).toBeUndefined();
    }
  });

  it('round-trips the cursor and refuses any other string', () => {
    expect(decodeCursor(encodeCursor(48214n))).toBe(48214n);
    expect(decodeCursor(encodeCursor('9223372036854775807'))).toBe(9223372036854775807n);
    expect(decodeCursor(encodeCursor('9223372036854775808'))).toBeUndefined();
    for (const bad of ['48214', Buffer.from('j2:5').toString('base64url'), Buffer.from('j1:-5').toString('base64url'), Buffer.from('j1:5:6').toString('base64url'), 'a+b/']) {
      expect(decodeCursor(bad)).toBeUndefined();
    }
  });

  it('names every bad parameter', () => {
    const parsed = parseJourneyQuery({ from: '2025-03-15', to: '2025-03-15', limit: '0', cursor: 'nope!' });
    expect('errors' in parsed && parsed.errors.map((e) => e.field)).toEqual(['to', 'limit', 'cursor']);
    expect(parseJourneyQuery({ limit: '1001' })).toEqual({ errors: [{ field: 'limit', message: 'must be an integer from 1 to 1000' }] });
    expect(parseJourneyQuery({ limit: '2.5' })).toMatchObject({ errors: [{ field: 'limit' }] });
    expect(parseJourneyQuery({ from: ['2025-03-01', '2025-03-02'] })).toEqual({ errors: [{ field: 'from', message: 'must be given once, as a plain value' }] });
    expect(parseJourneyQuery({ limit: '1000', cursor: encodeCursor(7n), from: '2025-03-01', to: '2025-04-01' })).toEqual({
      query: { limit: 1000, after: 7n, from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-04-01T00:00:00Z') },
    });
  });

  it('reads asOf as a log position when it is digits, else as an instant, and names it when it is neither', () => {
    expect(parseAsOf('48214')).toEqual({ position: 48214n });
    expect(parseAsOf('0')).toEqual({ position: 0n });
    expect(parseAsOf('9223372036854775807')).toEqual({ position: 9223372036854775807n });
    expect(parseAsOf('2025-03-14T10:22:05+01:00')).toEqual({ time: Date.parse('2025-03-14T09:22:05Z') });
    expect(parseAsOf('2025-03-14')).toEqual({ time: Date.parse('2025-03-14T00:00:00Z') });
    for (const bad of ['9223372036854775808', '-5', '12.5', '0x10', 'yesterday', '2025-03-14T10:22:05', '2025-02-30', ' 12']) {
      expect(parseAsOf(bad)).toBeUndefined();
    }
    expect(parseJourneyQuery({ asOf: '120', limit: '5' })).toEqual({ query: { after: 0n, limit: 5, asOf: { position: 120n } } });
    expect(parseJourneyQuery({ asOf: 'last tuesday' })).toEqual({ errors: [{ field: 'asOf', message: AS_OF_MESSAGE }] });
    expect(parseJourneyQuery({ asOf: ['1', '2'] })).toEqual({ errors: [{ field: 'asOf', message: 'must be given once, as a plain value' }] });
  });
});
