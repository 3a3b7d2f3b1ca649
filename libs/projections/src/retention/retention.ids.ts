import { createHash } from 'node:crypto';

/** Namespace of the retention processes' name-based ids (a fixed random UUID). */
const NAMESPACE = Buffer.from('ab0305417faf42e7b74c36143114751f', 'hex');

/** A UUID v5 (RFC 9562, SHA-1 name-based): the same name always gives the same id, so a re-run appends nothing new. */
export function nameBasedUuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The one alert of a customer's n-th risk episode: whoever appends it first (dispatcher, SLA check, a re-run), the others are duplicates. */
export const alertEventId = (customerId: string, episode: number) => nameBasedUuid(`retention.alert-raised\n${customerId}\n${episode}`);

export const episodeIdOf = (customerId: string, episode: number) => nameBasedUuid(`retention.episode\n${customerId}\n${episode}`);

/** A tier change decided against a given version of the customer stream: two jobs deciding the same change give one event. */
export const tierChangeEventId = (customerId: string, streamVersion: number, to: string) =>
  nameBasedUuid(`customer.tier-changed\n${customerId}\n${streamVersion}\n${to}`);
