/**
 * Realistic customer journeys as CloudEvents, deterministic for a seed: registrations (with a
 * share of A and B customers), moments of truth on each customer's usual channels, survey
 * answers that rate a moment (worse after a bad one), complaints after some bad moments that move
 * through the complaint process with realistic delays, reopenings and drop-outs. Events come
 * sorted by time, so a complaint's steps arrive in order.
 */
export type CloudEventJson = {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  data: Record<string, unknown>;
};

export type JourneyOptions = {
  customers: number;
  days: number;
  seed?: number;
  /** Start of the period (default: `days` days before 2026-11-01). */
  start?: Date;
  /** Mean moments per customer per day (default 0.4). */
  momentsPerDay?: number;
};

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = ['information', 'advice', 'order_received', 'hospitality', 'belongings_care', 'incident', 'billing', 'payment'] as const;
const CHANNELS = ['in_person', 'branch', 'sales_visit', 'phone', 'letter', 'form', 'email', 'web', 'chat', 'app', 'social'] as const;
const SOURCES: Record<string, string> = {
  phone: 'urn:cx:callcenter',
  branch: 'urn:cx:branch',
  in_person: 'urn:cx:branch',
  sales_visit: 'urn:cx:sales',
  web: 'urn:cx:web',
  app: 'urn:cx:app',
  chat: 'urn:cx:web',
  email: 'urn:cx:crm',
  social: 'urn:cx:social',
  letter: 'urn:cx:backoffice',
  form: 'urn:cx:backoffice',
};
const AREAS = ['billing', 'logistics', 'support', 'sales', 'technical'];
const CATEGORIES = ['billing', 'delivery', 'service', 'product', 'waiting'];
const FIRST = ['Ana', 'Luis', 'María', 'Javier', 'Lucía', 'Carlos', 'Elena', 'Pablo', 'Carmen', 'Diego'];
const LAST = ['García', 'Fernández', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Gómez', 'Ruiz', 'Díaz', 'Moreno'];

export function generateJourneys(options: JourneyOptions): CloudEventJson[] {
  const rnd = random(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const days = options.days;
  const startMs = (options.start ?? new Date(Date.UTC(2026, 10, 1) - days * 86_400_000)).getTime();
  const periodMs = days * 86_400_000;
  const rate = options.momentsPerDay ?? 0.4;
  const events: CloudEventJson[] = [];
  let n = 0;
  const emit = (type: string, subject: string, at: number, data: Record<string, unknown>, source = 'urn:cx:crm'): string => {
    const id = `${type.split('.').slice(1).join('-')}-${options.seed ?? 42}-${n++}`;
    events.push({ specversion: '1.0', id, source, type, subject, time: new Date(Math.min(at, startMs + periodMs - 1)).toISOString(), data });
    return id;
  };

  for (let c = 0; c < options.customers; c++) {
    const subject = `cust-${String(c).padStart(6, '0')}`;
    const home = pick(CHANNELS);
    const registeredAt = startMs + rnd() * periodMs * 0.2;
    if (rnd() < 0.7) {
      const tierRoll = rnd();
      emit('cx.customer.registered', subject, registeredAt, {
        name: `${pick(FIRST)} ${pick(LAST)}`,
        email: `${subject}@example.com`,
        ...(rnd() < 0.6 ? { phone: `+34 6${String(Math.floor(rnd() * 1e8)).padStart(8, '0')}` } : {}),
        preferredChannel: home,
        locale: 'es-ES',
        ...(tierRoll < 0.05 ? { tier: 'A' } : tierRoll < 0.25 ? { tier: 'B' } : {}),
      });
    }
    const moments = Math.max(1, Math.round(rate * days * (0.5 + rnd())));
    for (let m = 0; m < moments; m++) {
      const at = startMs + rnd() * periodMs;
      const channel = rnd() < 0.6 ? home : pick(CHANNELS);
      const kind = pick(KINDS);
      const bad = rnd() < (kind === 'incident' ? 0.45 : 0.12);
      const waits = channel === 'phone' || channel === 'branch' || channel === 'in_person';
      const wait = waits ? Math.floor(rnd() * (bad ? 1200 : 400)) : undefined;
      const momentId = emit(
        'cx.moment.recorded',
        subject,
        at,
        {
          kind,
          channel,
          touchpoint: `${channel}-${pick(['main', 'support', 'checkout', 'counter'])}`,
          outcome: bad ? 'negative' : rnd() < 0.3 ? 'neutral' : 'positive',
          ...(wait !== undefined ? { waitSeconds: wait, expectedWaitSeconds: Math.floor(wait * (0.3 + rnd())), waitExplained: rnd() < 0.5 } : {}),
          agentId: `agent-${Math.floor(rnd() * 200)}`,
          area: pick(AREAS),
          ...(kind === 'payment' ? { amount: Math.round((5 + rnd() * (rnd() < 0.1 ? 2_000 : 150)) * 100) / 100, currency: 'EUR' } : {}),
        },
        SOURCES[channel],
      );
      if (rnd() < 0.3) {
        const nps = bad ? Math.floor(rnd() * 7) : Math.min(10, 5 + Math.floor(rnd() * 6));
        emit('cx.feedback.submitted', subject, at + 3_600_000 * (1 + rnd() * 24), {
          nps,
          csat: Math.max(1, Math.min(5, Math.round(nps / 2))),
          ...(rnd() < 0.4 ? { ces: 1 + Math.floor(rnd() * 7) } : {}),
          ...(rnd() < 0.2 ? { comment: bad ? 'Nadie me explicó cuánto tendría que esperar.' : 'Todo correcto, gracias.' } : {}),
          momentId,
        }, 'urn:cx:surveys');
      }
      if (bad && rnd() < 0.25) {
        const complaintId = `cmp-${options.seed ?? 42}-${n}`;
        let t = at + 3_600_000 * (1 + rnd() * 48);
        emit('cx.complaint.filed', subject, t, {
          complaintId,
          category: pick(CATEGORIES),
          channel: rnd() < 0.5 ? channel : pick(['letter', 'form', 'email', 'phone']),
          severity: pick(['low', 'medium', 'medium', 'high', 'critical']),
          ...(rnd() < 0.5 ? { description: 'El cobro no corresponde con lo contratado.' } : {}),
          momentId,
        });
        const step = (type: string, data: Record<string, unknown> = {}) => {
          t += 3_600_000 * (1 + rnd() * 72);
          emit(`cx.complaint.${type}`, subject, t, { complaintId, ...data });
        };
        if (rnd() < 0.9) {
          step('acknowledged');
          if (rnd() < 0.9) {
            step('routed', { area: pick(AREAS) });
            if (rnd() < 0.8) {
              step('resolved', { resolution: 'Refund issued', ...(rnd() < 0.5 ? { rootCause: 'duplicate charge' } : {}) });
              if (rnd() < 0.15) {
                step('reopened', { reason: 'refund not received' });
                step('resolved', { resolution: 'Refund re-issued' });
              }
              if (rnd() < 0.7) {
                step('confirmed');
                if (rnd() < 0.8) step('closed');
              }
            }
          }
        }
      }
    }
  }
  // Sort by time; a complaint's steps have strictly increasing times, so they stay in order.
  return events.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}
