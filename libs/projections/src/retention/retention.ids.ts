import { nameBasedUuid as platformUuid } from '@cx/event-store';

/** Namespace of the retention processes' name-based ids (a fixed random UUID). */
const NAMESPACE = Buffer.from('ab0305417faf42e7b74c36143114751f', 'hex');

/** The same name always gives the same id, so a re-run appends nothing new. */
export const nameBasedUuid = (name: string) => platformUuid(name, NAMESPACE);

/** The one alert of a customer's n-th risk episode: whoever appends it first (dispatcher, SLA check, a re-run), the others are duplicates. */
export const alertEventId = (customerId: string, episode: number) => nameBasedUuid(`retention.alert-raised\n${customerId}\n${episode}`);

export const episodeIdOf = (customerId: string, episode: number) => nameBasedUuid(`retention.episode\n${customerId}\n${episode}`);

/** A tier change decided against a given version of the customer stream: two jobs deciding the same change give one event. */
export const tierChangeEventId = (customerId: string, streamVersion: number, to: string) =>
  nameBasedUuid(`customer.tier-changed\n${customerId}\n${streamVersion}\n${to}`);
