import { createSecretKey, randomBytes } from 'node:crypto';
import { DataKeyCache, type DataKeyState } from './data-key-cache.js';

const live = (): DataKeyState => ({ state: 'live', key: createSecretKey(randomBytes(32)) });
const erased: DataKeyState = { state: 'erased' };

describe('data key cache', () => {
  it('never holds more than its size, dropping the least recently used', () => {
    const cache = new DataKeyCache(3, 60_000);
    const a = live();
    cache.set('a', a);
    cache.set('b', live());
    cache.set('c', live());
    expect(cache.get('a')).toBe(a); // a is now the most recently used
    cache.set('d', live());
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(a);
    for (let i = 0; i < 100; i++) cache.set(`x${i}`, live());
    expect(cache.size).toBe(3);
  });

  it('expires live keys after the TTL but keeps tombstones', () => {
    let now = 1_000;
    const cache = new DataKeyCache(10, 5_000, () => now);
    cache.set('a', live());
    cache.set('gone', erased);
    now += 4_999;
    expect(cache.get('a')?.state).toBe('live');
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    now += 10 * 365 * 86_400_000;
    expect(cache.get('gone')).toEqual(erased);
  });

  it('never lets a live key replace a tombstone, and says which state stands', () => {
    const cache = new DataKeyCache(10, 60_000);
    cache.set('a', erased);
    expect(cache.set('a', live())).toEqual(erased);
    expect(cache.get('a')).toEqual(erased);
  });

  it('keeps nothing when its size is 0, and no live keys when its TTL is 0', () => {
    const off = new DataKeyCache(0, 60_000);
    off.set('a', erased);
    expect(off.get('a')).toBeUndefined();
    const noTtl = new DataKeyCache(10, 0);
    const key = live();
    expect(noTtl.set('a', key)).toBe(key);
    expect(noTtl.get('a')).toBeUndefined();
    noTtl.set('b', erased);
    expect(noTtl.get('b')).toEqual(erased);
  });
});
