import { createHash, randomBytes } from 'node:crypto';
import { nameBasedUuid, storedEventId } from './name-based-uuid.js';

const PLATFORM_NAMESPACE = Buffer.from('5f0c8a1e9b2d4c7e8a316d2f4b9e0c17', 'hex');

/** RFC 9562 UUID v5 with node:crypto's SHA-1: what nameBasedUuid computed before it hashed in JavaScript. */
function reference(name: string, namespace: Buffer = PLATFORM_NAMESPACE): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe('nameBasedUuid', () => {
  it('is the RFC 9562 version 5 UUID of the name (the RFC example: www.example.com in the DNS namespace)', () => {
    const dns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
    expect(nameBasedUuid('www.example.com', dns)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives the same ids as node:crypto for names of every length around the block boundaries, in any script', () => {
    const names: string[] = [];
    for (let n = 0; n < 200; n++) {
      names.push('a'.repeat(n), 'é€😀x'.repeat(n % 50), `urn:cx:web\nid-${n}`, `\ud800${'z'.repeat(n)}`, randomBytes(n).toString('latin1'));
    }
    names.push('x'.repeat(5000));
    const mismatches = names.filter((name) => nameBasedUuid(name) !== reference(name));
    expect(mismatches).toEqual([]);
    const other = randomBytes(16);
    expect(names.filter((name) => nameBasedUuid(name, other) !== reference(name, other))).toEqual([]);
  });

  it('derives stored ids from source and id, and from the index of each further event', () => {
    expect(storedEventId('urn:cx:web', 'e-1')).toBe(reference('urn:cx:web\ne-1'));
    expect(storedEventId('urn:cx:web', 'e-1', 2)).toBe(reference('urn:cx:web\ne-1\n2'));
    expect(storedEventId('urn:cx:web', 'e-1')).not.toBe(storedEventId('urn:cx:app', 'e-1'));
  });
});
