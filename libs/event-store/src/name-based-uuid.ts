import { createHash } from 'node:crypto';

/** Namespace of the platform's name-based event ids (a fixed random UUID). */
const PLATFORM_NAMESPACE = Buffer.from('5f0c8a1e9b2d4c7e8a316d2f4b9e0c17', 'hex');

/**
 * A UUID v5 (RFC 9562, SHA-1 name-based) of the name: the same name always gives the same id, so
 * an event whose id is derived from what makes it unique is stored once, however often it is sent
 * or re-derived (the event store reports the repeats as duplicates).
 */
export function nameBasedUuid(name: string, namespace: Buffer = PLATFORM_NAMESPACE): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The stored id of the `index`-th event an incoming CloudEvent produced (most produce one).
 * CloudEvents are unique by `source` + `id`, so their stored ids derive from both.
 */
export function storedEventId(source: string, id: string, index = 0): string {
  return nameBasedUuid(index === 0 ? `${source}\n${id}` : `${source}\n${id}\n${index}`);
}
