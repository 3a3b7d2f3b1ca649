import type { RecordedEvent, RecordedMetadata } from '@cx/event-store';
import { eventTypes } from '@cx/domain';

/**
 * How a stored event travels on `cx.events`: CloudEvents 1.0 in Kafka binary mode. The value is
 * the event's data exactly as stored (personal fields stay sealed, `pii:v1:`); the attributes are
 * `ce_*` headers; the `cx_*` headers carry what a consumer needs to rebuild the stored event
 * (a projector folding from Kafka) and to order and de-duplicate (the log position).
 *
 * - key: the customer id, so a customer's events share a partition and keep their order;
 * - ce_id: the stored event's id (a UUID, stable across re-sends: a duplicate carries the same ce_id);
 * - ce_source: where the event came from (the channel system's CloudEvents source; `urn:cx:platform`
 *   for events the platform decided itself, such as tier changes and retention alerts);
 * - ce_type: the public type (`cx.moment.recorded`); ce_subject: the customer id;
 * - ce_time: the time the event happened (the CloudEvents `time` sent, else when it was stored);
 * - cx_position: the global log position; cx_correlation_id, cx_causation_id;
 * - cx_origin_id: the channel system's own CloudEvents id, when there is one;
 * - cx_stream, cx_stream_version, cx_type (the stored, versioned type), cx_recorded_at, cx_metadata.
 */
export const PLATFORM_SOURCE = 'urn:cx:platform';

export type KafkaEventMessage = {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
};

type CloudEventMetadata = { id?: string; source?: string; time?: string };

export function customerIdOf(event: Pick<RecordedEvent, 'data' | 'streamId'>): string {
  const data = event.data as { customerId?: unknown } | null;
  return typeof data?.customerId === 'string' ? data.customerId : event.streamId;
}

export function publicTypeOf(storedType: string): string {
  return (eventTypes as Record<string, { cloudEventType: string } | undefined>)[storedType]?.cloudEventType ?? storedType;
}

export function toKafkaMessage(event: RecordedEvent): KafkaEventMessage {
  const origin = (event.metadata as { cloudEvent?: CloudEventMetadata }).cloudEvent;
  const customerId = customerIdOf(event);
  const headers: Record<string, string> = {
    ce_specversion: '1.0',
    ce_id: event.id,
    ce_source: origin?.source ?? PLATFORM_SOURCE,
    ce_type: publicTypeOf(event.type),
    ce_subject: customerId,
    ce_time: origin?.time ?? event.recordedAt.toISOString(),
    'content-type': 'application/json',
    cx_position: event.position.toString(),
    cx_correlation_id: event.metadata.correlationId,
    cx_causation_id: event.metadata.causationId,
    cx_stream: event.streamId,
    cx_stream_version: String(event.streamVersion),
    cx_type: event.type,
    cx_recorded_at: event.recordedAt.toISOString(),
    cx_metadata: JSON.stringify(event.metadata),
  };
  if (origin?.id) headers.cx_origin_id = origin.id;
  return { key: customerId, value: Buffer.from(JSON.stringify(event.data)), headers };
}

export class InvalidEventMessageError extends Error {
  constructor(readonly reason: string) {
    super(`not a cx.events message: ${reason}`);
    this.name = 'InvalidEventMessageError';
  }
}

type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

function header(headers: Record<string, HeaderValue> | undefined, name: string): string {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) throw new InvalidEventMessageError(`header ${name} is missing`);
  return value.toString();
}

/** The stored event a `cx.events` message carries (inverse of toKafkaMessage). */
export function fromKafkaMessage(message: { value: Buffer | null; headers?: Record<string, HeaderValue> }): RecordedEvent {
  if (!message.value) throw new InvalidEventMessageError('the value is empty');
  const position = header(message.headers, 'cx_position');
  if (!/^\d+$/.test(position)) throw new InvalidEventMessageError(`cx_position ${JSON.stringify(position)} is not a position`);
  let data: unknown;
  let metadata: RecordedMetadata;
  try {
    data = JSON.parse(message.value.toString('utf8'));
    metadata = JSON.parse(header(message.headers, 'cx_metadata')) as RecordedMetadata;
  } catch (error) {
    if (error instanceof InvalidEventMessageError) throw error;
    throw new InvalidEventMessageError(`invalid JSON: ${(error as Error).message}`);
  }
  return {
    id: header(message.headers, 'ce_id'),
    type: header(message.headers, 'cx_type'),
    data,
    metadata,
    streamId: header(message.headers, 'cx_stream'),
    streamVersion: Number(header(message.headers, 'cx_stream_version')),
    position: BigInt(position),
    recordedAt: new Date(header(message.headers, 'cx_recorded_at')),
  };
}
