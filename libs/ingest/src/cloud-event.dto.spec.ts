import 'reflect-metadata';
import { validateSync } from 'class-validator';
import { dataClasses, validateCloudEvent } from './cloud-event.dto.js';

/** One valid `data` per type, then every field mutated in the ways clients get it wrong. */
const valid: Record<string, Record<string, unknown>> = {
  'cx.customer.registered': { name: 'Ana', email: 'ana@example.com', phone: '+34 600 111 222', preferredChannel: 'phone', locale: 'es-ES', tier: 'A' },
  'cx.customer.updated': { name: 'Ana García', locale: 'es', tier: 'B' },
  'cx.moment.recorded': { kind: 'billing', channel: 'phone', touchpoint: 'ivr', outcome: 'negative', waitSeconds: 30, expectedWaitSeconds: 0, waitExplained: true, agentId: 'a-1', area: 'billing', amount: 12.5, currency: 'EUR', orderId: 'o-1' },
  'cx.feedback.submitted': { nps: 10, csat: 1, ces: 7, comment: 'ok', momentId: 'm-1' },
  'cx.complaint.filed': { complaintId: 'c-1', category: 'billing', channel: 'letter', severity: 'critical', description: 'charged twice', momentId: 'm-1' },
  'cx.complaint.acknowledged': { complaintId: 'c-1' },
  'cx.complaint.routed': { complaintId: 'c-1', area: 'billing' },
  'cx.complaint.resolved': { complaintId: 'c-1', resolution: 'refund', rootCause: 'bug' },
  'cx.complaint.confirmed': { complaintId: 'c-1' },
  'cx.complaint.reopened': { complaintId: 'c-1', reason: 'not refunded' },
  'cx.complaint.closed': { complaintId: 'c-1' },
};

const wrongValues: unknown[] = [undefined, null, '', ' ', 'x'.repeat(5000), -1, 0, 1.5, 11, 99999999999, true, 'NOPE', [], {}, 'not-an-email', 'eur'];

function mutations(data: Record<string, unknown>): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [data];
  for (const key of Object.keys(data)) {
    for (const value of wrongValues) {
      const copy = { ...data };
      if (value === undefined) delete copy[key];
      else copy[key] = value;
      out.push(copy);
    }
  }
  return out;
}

describe('CloudEvent validation', () => {
  it.each(Object.keys(valid))('%s: the fast path accepts exactly what class-validator accepts', (type) => {
    const dataClass = dataClasses[type as keyof typeof dataClasses];
    let accepted = 0;
    let rejected = 0;
    for (const data of mutations(valid[type])) {
      const byClassValidator = validateSync(Object.assign(new dataClass(), data)).length === 0;
      const result = validateCloudEvent({ specversion: '1.0', id: 'e-1', source: 'urn:cx:spec', type, subject: 'cust-1', data });
      const dataErrors = 'errors' in result ? result.errors.filter((e) => e.field.startsWith('data')) : [];
      expect({ data, valid: dataErrors.length === 0 }).toEqual({ data, valid: byClassValidator });
      if (byClassValidator) accepted++;
      else rejected++;
    }
    // Both outcomes were exercised.
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });

  it('names every bad field of an invalid event, envelope and data', () => {
    const result = validateCloudEvent({
      specversion: '0.3',
      id: '',
      source: 'urn:cx:spec',
      type: 'cx.moment.recorded',
      subject: 'a b',
      time: '2025-02-30T10:00:00',
      data: { kind: 'billing', channel: 'pigeon', waitSeconds: -5, extra: 1 },
    });
    expect('errors' in result && result.errors.map((e) => e.field).sort()).toEqual(
      ['data.channel', 'data.extra', 'data.waitSeconds', 'id', 'specversion', 'subject', 'time'].sort(),
    );
  });
});
