import type { EventToAppend } from '@cx/event-store';
import { randomUUID } from 'node:crypto';

/** One append call: a batch of events for one customer stream. */
export type BenchAppend = {
  streamId: string;
  events: EventToAppend[];
  /** Stream version of the batch's first event, for the baseline's rows (the store assigns its own). */
  firstVersion: number;
};

export type WorkloadOptions = {
  events: number;
  batchSize: number;
  customers: number;
  seed: number;
  /** Keeps warm-up streams apart from measured ones. */
  streamPrefix?: string;
};

/** mulberry32: a small seeded generator, so a workload's content is the same from run to run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const KINDS = ['information', 'advice', 'order_received', 'hospitality', 'belongings_care', 'incident', 'billing', 'payment'];
const CHANNELS: ReadonlyArray<readonly [group: string, channel: string, touchpoints: readonly string[]]> = [
  ['personal', 'branch_counter', ['madrid-centro-03', 'valencia-puerto-01', 'sevilla-norte-02']],
  ['personal', 'sales_visit', ['field-sales-east', 'field-sales-south']],
  ['telephone', 'call_centre', ['ivr-billing', 'ivr-technical', 'retention-desk', 'outbound-campaign-q3']],
  ['print', 'letter', ['formal-complaints-po-box', 'contract-renewal-mailing']],
  ['electronic', 'email', ['support-inbox', 'billing-inbox']],
  ['electronic', 'web', ['self-service-portal', 'checkout', 'order-tracking']],
  ['electronic', 'chat', ['web-chat', 'whatsapp-business']],
  ['electronic', 'app', ['mobile-app-ios', 'mobile-app-android']],
];
const AREAS = ['billing', 'logistics', 'sales', 'technical_support', 'claims', 'collections'];
const MONEY_KINDS = new Set(['order_received', 'billing', 'payment']);
const SOURCES = ['ingest.telephony', 'ingest.crm-sync', 'ingest.web', 'ingest.branch-terminal'];
const TYPES = [
  ...Array<string>(7).fill('moment.recorded.v1'),
  'moment.wait-explained.v1',
  'feedback.answered.v1',
  'complaint.filed.v1',
];
const BASE_TIME = Date.UTC(2025, 0, 1);

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

/** What a field encrypted at the edge looks like: a key version and base64 ciphertext. */
function sealed(random: () => number, bytes: number): string {
  const buffer = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) buffer[i] = Math.floor(random() * 256);
  return `enc:v1:${buffer.toString('base64')}`;
}

function momentOfTruth(random: () => number, customer: number, correlationId: string, causationId: string): EventToAppend {
  const [channelGroup, channel, touchpoints] = pick(random, CHANNELS);
  const waitSeconds = Math.floor(random() * random() * 1_800);
  const told = random() < 0.6;
  const kind = pick(random, KINDS);
  return {
    id: randomUUID(),
    type: pick(random, TYPES),
    data: {
      customerId: `customer-${customer}`,
      kind,
      channel: `${channelGroup}/${channel}`,
      touchpoint: pick(random, touchpoints),
      occurredAt: new Date(BASE_TIME + Math.floor(random() * 31_536_000_000)).toISOString(),
      waitSeconds,
      ...(told ? { expectedWaitSeconds: Math.floor(waitSeconds * (0.5 + random())) } : {}),
      waitExplained: told && random() < 0.5,
      agentId: `agent-${String(Math.floor(random() * 900)).padStart(4, '0')}`,
      area: pick(random, AREAS),
      ...(MONEY_KINDS.has(kind) || random() < 0.2 ? { amount: { value: Math.round(random() * 50_000) / 100, currency: 'EUR' } } : {}),
      pii: { name: sealed(random, 15), email: sealed(random, 21), phone: sealed(random, 9) },
    },
    metadata: { correlationId, causationId, source: pick(random, SOURCES) },
  };
}

/**
 * The append calls of one scenario, in order: each one picks a customer stream
 * `customer-<n>` uniformly and carries `batchSize` moments of truth of that customer.
 */
export function buildWorkload(options: WorkloadOptions): BenchAppend[] {
  const random = seededRandom(options.seed);
  const prefix = options.streamPrefix ?? '';
  const versions = new Map<string, number>();
  const appends: BenchAppend[] = [];
  for (let left = options.events; left > 0; left -= options.batchSize) {
    const size = Math.min(options.batchSize, left);
    const customer = Math.floor(random() * options.customers);
    const streamId = `${prefix}customer-${customer}`;
    const firstVersion = (versions.get(streamId) ?? -1) + 1;
    versions.set(streamId, firstVersion + size - 1);
    const correlationId = randomUUID();
    const events: EventToAppend[] = [];
    for (let i = 0; i < size; i++) {
      events.push(momentOfTruth(random, customer, correlationId, i === 0 ? correlationId : events[i - 1].id));
    }
    appends.push({ streamId, events, firstVersion });
  }
  return appends;
}

/** Mean JSON size of an event as stored (data + metadata), in bytes. */
export function meanEventBytes(appends: readonly BenchAppend[]): number {
  let bytes = 0;
  let count = 0;
  for (const append of appends) {
    for (const event of append.events) {
      bytes += Buffer.byteLength(JSON.stringify(event.data)) + Buffer.byteLength(JSON.stringify(event.metadata));
      count++;
    }
  }
  return count === 0 ? 0 : bytes / count;
}
