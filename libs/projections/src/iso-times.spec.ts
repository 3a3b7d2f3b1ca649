import { IsoTimes } from './iso-times.js';

describe('IsoTimes', () => {
  it('formats as Date#toISOString does, null as null', () => {
    const times = new IsoTimes();
    for (const ms of [0, 1_741_947_725_123, -86_400_001, 253_402_300_799_999]) expect(times.of(ms)).toBe(new Date(ms).toISOString());
    expect(times.of(null)).toBeNull();
  });

  it('gives the same text again from memory', () => {
    const times = new IsoTimes();
    const first = times.of(1_741_947_725_000);
    expect(times.of(1_741_947_725_000)).toBe(first);
    expect(times.size).toBe(1);
  });

  it('holds at most two generations: a time in use stays, one left unused for two generations goes', () => {
    const times = new IsoTimes(2);
    times.of(1); // current {1}
    times.of(2); // current {1, 2}
    times.of(3); // full: previous {1, 2}, current {3}
    expect(times.size).toBe(3);
    times.of(1); // found in previous, moved up: current {3, 1}
    times.of(4); // full: previous {3, 1}, current {4}; 2 is gone
    expect(times.size).toBe(3);
    times.of(5); // current {4, 5}
    times.of(6); // full: previous {4, 5}, current {6}; 3 and 1 are gone
    expect(times.size).toBe(3);
    for (const ms of [1, 2, 3, 6]) expect(times.of(ms)).toBe(new Date(ms).toISOString());
    expect(times.size).toBeLessThanOrEqual(4);
  });
});
