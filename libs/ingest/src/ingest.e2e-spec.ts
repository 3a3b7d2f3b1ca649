import { startTestApp, type TestApp, testBackend } from '@cx/testing';
import { PGlite } from '@electric-sql/pglite';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';

const INGEST_KEY = 'ingest-key-e2e-0123456789';
const READ_KEY = 'read-key-e2e-0123456789';
const ALL_KEY = 'all-key-e2e-0123456789';
const EMAIL = 'ana.garcia@example.com';
const NAME = 'Ana García Pérez';
const COMMENT = 'La llamada fue eterna y nadie me explicó nada';

type Json = Record<string, unknown>;
type Reply = { status: number; body: Json & { results?: Json[]; errors?: Json[] }; headers: Headers };

let app: TestApp;
const run = randomUUID().slice(0, 8);

async function post(body: unknown, options: { type?: string; key?: string | null; headers?: Record<string, string>; query?: string; raw?: boolean } = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': options.type ?? 'application/json', ...options.headers };
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? INGEST_KEY}`;
  const response = await fetch(`${app.url}/v1/events${options.query ?? ''}`, {
    method: 'POST',
    headers,
    body: options.raw ? (body as string) : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
}

const ce = (type: string, subject: string, data: Json, extra: Json = {}): Json => ({
  specversion: '1.0',
  id: `${type}-${randomUUID()}`,
  source: 'urn:cx:e2e',
  type,
  subject,
  data,
  ...extra,
});
const customer = (n: number | string) => `cust-${run}-${n}`;
const moment = (subject: string, data: Json = {}) => ce('cx.moment.recorded', subject, { kind: 'billing', channel: 'phone', ...data });

/** Every stored event, read straight from the database (after the app stopped, for the embedded one). */
async function storedLog(): Promise<Array<{ type: string; data: unknown; metadata: Json }>> {
  if (app.database) {
    const { rows } = await app.database.pool.query('SELECT type, data, metadata FROM cx_events ORDER BY position');
    return rows;
  }
  const db = await PGlite.create(join(app.dataDir, 'pg'));
  try {
    return (await db.query<{ type: string; data: unknown; metadata: Json }>('SELECT type, data, metadata FROM cx_events ORDER BY position')).rows;
  } finally {
    await db.close();
  }
}

describe(`ingest API end to end on ${testBackend}`, () => {
  beforeAll(async () => {
    app = await startTestApp({
      CX_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read,${ALL_KEY}:ops+read+ingest`,
      CX_MOMENT_KINDS: 'delivery,installation',
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  describe('one event', () => {
    it('accepts a moment with 202, its id and a log position, and reports a re-send as a duplicate at the same position', async () => {
      const event = moment(customer(1), { outcome: 'negative', waitSeconds: 240, expectedWaitSeconds: 60, waitExplained: false });
      const first = await post(event, { type: 'application/cloudevents+json' });
      expect(first.status).toBe(202);
      expect(first.body).toEqual({ id: event.id, status: 'accepted', position: expect.stringMatching(/^\d+$/) });

      const again = await post(event);
      expect(again.status).toBe(202);
      expect(again.body).toEqual({ id: event.id, status: 'duplicate', position: first.body.position });
    });

    it('treats the same id from another source as a different event', async () => {
      const event = moment(customer(2));
      const one = await post(event);
      const other = await post({ ...event, source: 'urn:cx:other-system' });
      expect([one.body.status, other.body.status]).toEqual(['accepted', 'accepted']);
      expect(BigInt(other.body.position as string)).toBeGreaterThan(BigInt(one.body.position as string));
    });

    it('accepts a kind configured in CX_MOMENT_KINDS and rejects an unknown one, naming the field', async () => {
      expect((await post(moment(customer(3), { kind: 'delivery' }))).status).toBe(202);
      const unknown = await post(moment(customer(3), { kind: 'teleportation' }));
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors).toEqual([{ field: 'data.kind', message: expect.stringContaining('delivery') }]);
    });

    it('rejects an invalid event with 400, naming every bad field and storing nothing', async () => {
      const reply = await post({
        specversion: '1.0',
        id: 'bad-1',
        source: 'urn:cx:e2e',
        type: 'cx.feedback.submitted',
        subject: 'not a valid id',
        time: 'yesterday',
        data: { nps: 11, csat: 0, surprise: true },
      });
      expect(reply.status).toBe(400);
      expect(reply.body.status).toBe('rejected');
      const fields = (reply.body.errors ?? []).map((e) => e.field).sort();
      expect(fields).toEqual(['data.csat', 'data.nps', 'data.surprise', 'subject', 'time']);
      for (const error of reply.body.errors ?? []) expect(typeof error.message).toBe('string');
    });

    it('requires at least one score in feedback', async () => {
      const reply = await post(ce('cx.feedback.submitted', customer(4), { comment: 'nothing to score' }));
      expect(reply.status).toBe(400);
      expect(reply.body.errors).toEqual([{ field: 'data', message: 'must contain at least one of nps, csat, ces' }]);
    });

    it('rejects an unknown type with the list of known types', async () => {
      const reply = await post(ce('cx.customer.teleported', customer(5), {}));
      expect(reply.status).toBe(400);
      const message = String(reply.body.errors?.[0].message);
      expect(reply.body.errors?.[0].field).toBe('type');
      for (const type of ['cx.customer.registered', 'cx.moment.recorded', 'cx.complaint.closed']) expect(message).toContain(type);
    });

    it('rejects a specversion other than 1.0', async () => {
      const reply = await post({ ...moment(customer(6)), specversion: '0.3' });
      expect(reply.status).toBe(400);
      expect(reply.body.errors).toContainEqual({ field: 'specversion', message: 'must be "1.0"' });
    });
  });

  describe('customers', () => {
    it('answers a re-sent registration that also changed the tier with the position of its last event', async () => {
      const registration = ce('cx.customer.registered', customer(50), { name: 'Luis', tier: 'B' });
      const first = await post(registration);
      const again = await post(registration);
      expect(first.body.status).toBe('accepted');
      expect(again.body).toEqual({ id: registration.id, status: 'duplicate', position: first.body.position });
    });

    it('accepts an update that changes nothing, storing nothing', async () => {
      const subject = customer(51);
      const registered = await post(ce('cx.customer.registered', subject, { name: 'Marta' }));
      const noop = await post(ce('cx.customer.updated', subject, { tier: 'C' }));
      expect(noop.status).toBe(202);
      expect(noop.body).toMatchObject({ status: 'accepted', position: registered.body.position });
      const batch = await post([ce('cx.customer.updated', subject, { tier: 'C' }), moment(subject)]);
      expect(batch.status).toBe(200);
      expect(batch.body.results?.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    });

    it('refuses blank text and null values instead of storing them', async () => {
      const blank = await post(ce('cx.feedback.submitted', customer(52), { nps: 8, comment: '   ' }));
      expect(blank.status).toBe(400);
      expect(blank.body.errors).toEqual([{ field: 'data.comment', message: 'must not be blank' }]);
      const blankName = await post(ce('cx.customer.registered', customer(52), { name: ' ' }));
      expect(blankName.body.errors).toEqual([{ field: 'data.name', message: 'must not be blank' }]);
      const nullTime = await post({ ...moment(customer(52)), time: null });
      expect(nullTime.status).toBe(400);
      expect(nullTime.body.errors?.map((e) => e.field)).toEqual(['time']);
      const nullField = await post(moment(customer(52), { outcome: null }));
      expect(nullField.body.errors?.map((e) => e.field)).toEqual(['data.outcome']);
    });
  });

  describe('complaints', () => {
    it('follows the lifecycle and rejects a transition out of order with 409 and the current state', async () => {
      const subject = customer(10);
      const complaintId = `cmp-${run}-1`;
      const step = (type: string, data: Json = {}) => post(ce(`cx.complaint.${type}`, subject, { complaintId, ...data }));

      expect((await step('filed', { category: 'billing', channel: 'phone', severity: 'high', description: 'charged twice' })).status).toBe(202);
      const early = await step('resolved', { resolution: 'refund' });
      expect(early.status).toBe(409);
      expect(early.body).toMatchObject({ status: 'rejected', current: { stream: `complaint-${complaintId}`, status: 'filed' } });
      expect(early.body.errors?.[0]).toMatchObject({ field: 'type' });

      for (const [type, data] of [
        ['acknowledged', {}],
        ['routed', { area: 'billing' }],
        ['resolved', { resolution: 'refund issued', rootCause: 'duplicate charge' }],
        ['reopened', { reason: 'refund never arrived' }],
        ['resolved', { resolution: 'refund re-issued' }],
        ['confirmed', {}],
        ['closed', {}],
      ] as const) {
        const reply = await step(type, data);
        expect({ type, status: reply.status }).toEqual({ type, status: 202 });
      }
      const afterClose = await step('reopened', {});
      expect(afterClose.status).toBe(409);
      expect(afterClose.body).toMatchObject({ current: { status: 'closed' } });
    });

    it("rejects a complaint event whose subject is not the complaint's customer", async () => {
      const complaintId = `cmp-${run}-2`;
      await post(ce('cx.complaint.filed', customer(11), { complaintId, category: 'service', channel: 'web', severity: 'low' }));
      const reply = await post(ce('cx.complaint.acknowledged', customer(12), { complaintId }));
      expect(reply.status).toBe(400);
      expect(reply.body.errors).toEqual([{ field: 'subject', message: "does not match the complaint's customer" }]);
    });
  });

  describe('batches', () => {
    it('stores the valid events of a mixed batch and reports one result per event, in order', async () => {
      const subject = customer(20);
      const good1 = moment(subject);
      const bad = ce('cx.feedback.submitted', subject, { nps: 42 });
      const good2 = ce('cx.feedback.submitted', subject, { nps: 9, momentId: good1.id as string });
      const reply = await post([good1, bad, good2], { type: 'application/cloudevents-batch+json' });

      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ accepted: 2, duplicates: 0, rejected: 1 });
      expect(reply.body.results?.map((r) => [r.id, r.status])).toEqual([
        [good1.id, 'accepted'],
        [bad.id, 'rejected'],
        [good2.id, 'accepted'],
      ]);
      expect(reply.body.results?.[1].errors).toEqual([{ field: 'data.nps', message: 'must not be greater than 10' }]);
      const positions = [reply.body.results?.[0].position, reply.body.results?.[2].position].map((p) => BigInt(p as string));
      expect(reply.body.position).toBe(String(positions[0] > positions[1] ? positions[0] : positions[1]));

      const resent = await post([good1, bad, good2]);
      expect(resent.body).toMatchObject({ accepted: 0, duplicates: 2, rejected: 1, position: reply.body.position });
      expect(resent.body.results?.map((r) => r.status)).toEqual(['duplicate', 'rejected', 'duplicate']);
    });

    it('reports the same event twice in one batch as accepted then duplicate', async () => {
      const event = moment(customer(21));
      const reply = await post([event, event]);
      expect(reply.body.results?.map((r) => r.status)).toEqual(['accepted', 'duplicate']);
      expect(reply.body.results?.[1].position).toBe(reply.body.results?.[0].position);
    });

    it('decides a complaint filed and acknowledged in the same batch in order', async () => {
      const subject = customer(22);
      const complaintId = `cmp-${run}-3`;
      const reply = await post([
        ce('cx.complaint.filed', subject, { complaintId, category: 'delivery', channel: 'app', severity: 'medium' }),
        ce('cx.complaint.acknowledged', subject, { complaintId }),
        ce('cx.complaint.confirmed', subject, { complaintId }),
      ]);
      expect(reply.body.results?.map((r) => r.status)).toEqual(['accepted', 'accepted', 'rejected']);
      expect(reply.body.results?.[2]).toMatchObject({ current: { status: 'acknowledged' } });
    });

    it('stores nothing of an atomic batch with a rejected event', async () => {
      const subject = customer(23);
      const good = moment(subject);
      const bad = moment(subject, { channel: 'carrier-pigeon' });
      const reply = await post([good, bad], { query: '?atomic=true' });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ accepted: 0, rejected: 1, position: '0' });
      expect(reply.body.results?.map((r) => r.status)).toEqual(['aborted', 'rejected']);
      // Nothing was stored: the good event is new when sent again.
      expect((await post(good)).body.status).toBe('accepted');
    });

    it('answers 409 for an atomic batch that fails on a transition', async () => {
      const reply = await post([moment(customer(24)), ce('cx.complaint.routed', customer(24), { complaintId: `cmp-${run}-none`, area: 'x' })], {
        query: '?atomic=true',
      });
      expect(reply.status).toBe(409);
      expect(reply.body.results?.map((r) => r.status)).toEqual(['aborted', 'rejected']);
    });

    it('rejects an empty batch, and a batch of more than 1,000 events with 413', async () => {
      expect((await post([])).status).toBe(400);
      const tooMany = Array.from({ length: 1001 }, () => ({ specversion: '1.0' }));
      const reply = await post(tooMany);
      expect(reply.status).toBe(413);
      expect(reply.body.errors?.[0].message).toContain('at most 1000 events');
    });
  });

  describe('bad requests', () => {
    it('answers 400 to malformed JSON and to a body that is neither object nor array', async () => {
      const malformed = await post('{"specversion": "1.0",', { raw: true });
      expect(malformed.status).toBe(400);
      expect(malformed.body.errors?.[0]).toMatchObject({ field: 'body', message: expect.stringContaining('malformed JSON') });
      for (const body of ['42', '"text"', 'null']) {
        const reply = await post(body, { raw: true });
        expect({ body, status: reply.status }).toEqual({ body, status: 400 });
      }
    });

    it('answers 413 to a body over 1 MiB', async () => {
      const huge = moment(customer(30), { touchpoint: 'x'.repeat(1024 * 1024) });
      const reply = await post(huge);
      expect(reply.status).toBe(413);
      expect(reply.body.errors?.[0]).toMatchObject({ field: 'body' });
    });

    it('answers 415 to a media type it does not take, and 400 to a batch sent as one event', async () => {
      expect((await post(moment(customer(31)), { type: 'text/plain' })).status).toBe(415);
      expect((await post([moment(customer(31))], { type: 'application/cloudevents+json' })).status).toBe(400);
      expect((await post(moment(customer(31)), { type: 'application/cloudevents-batch+json' })).status).toBe(400);
    });

    it('answers 401 without a key or with an unknown one, and 403 to a key without the ingest scope', async () => {
      const noKey = await post(moment(customer(32)), { key: null });
      expect(noKey.status).toBe(401);
      expect(noKey.headers.get('www-authenticate')).toContain('Bearer');
      expect((await post(moment(customer(32)), { key: 'not-a-key-at-all-0000' })).status).toBe(401);
      const readOnly = await post(moment(customer(32)), { key: READ_KEY });
      expect(readOnly.status).toBe(403);
      expect(JSON.stringify(readOnly.body)).toContain('ingest');
      const viaHeader = await post(moment(customer(32)), { key: null, headers: { 'x-api-key': ALL_KEY } });
      expect(viaHeader.status).toBe(202);
    });
  });

  describe('correlation, personal data and logs', () => {
    it('echoes X-Correlation-Id or the traceparent trace id, and stores it with the event', async () => {
      const withId = moment(customer(40));
      const reply = await post(withId, { headers: { 'x-correlation-id': `corr-${run}` } });
      expect(reply.headers.get('x-correlation-id')).toBe(`corr-${run}`);

      const traceId = randomBytes(16).toString('hex');
      const traced = await post(moment(customer(40)), { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
      expect(traced.headers.get('x-correlation-id')).toBe(traceId);
      expect(app.output()).toContain(`"correlationId":"corr-${run}"`);
    });

    it('registers a customer and seals name, email and comments before they are stored', async () => {
      const subject = customer(41);
      const registered = await post(ce('cx.customer.registered', subject, { name: NAME, email: EMAIL, phone: '+34 600 111 222', tier: 'A' }));
      expect(registered.status).toBe(202);
      const feedback = await post(ce('cx.feedback.submitted', subject, { nps: 3, comment: COMMENT }));
      expect(feedback.status).toBe(202);
      const updated = await post(ce('cx.customer.updated', subject, { locale: 'es-ES' }));
      expect(updated.status).toBe(202);
    });

    it('keeps personal data and keys out of the log and out of the event log', async () => {
      await app.stop();
      const output = app.output();
      for (const secret of [EMAIL, NAME, COMMENT, INGEST_KEY, READ_KEY, ALL_KEY, '600 111 222']) {
        expect({ secret, inLogs: output.includes(secret) }).toEqual({ secret, inLogs: false });
      }
      const log = await storedLog();
      const text = JSON.stringify(log);
      for (const secret of [EMAIL, NAME, COMMENT, '600 111 222']) expect({ secret, stored: text.includes(secret) }).toEqual({ secret, stored: false });

      const registration = log.find((e) => e.type === 'customer.registered.v1' && JSON.stringify(e.data).includes(customer(41)));
      expect(registration?.data).toMatchObject({ name: expect.stringMatching(/^pii:v1:/), email: expect.stringMatching(/^pii:v1:/), phone: expect.stringMatching(/^pii:v1:/) });
      expect(log.some((e) => e.type === 'customer.tier-changed.v1' && JSON.stringify(e.data).includes('"to":"A"'))).toBe(true);
      const correlated = log.find((e) => (e.metadata as Json).correlationId === `corr-${run}`);
      expect(correlated?.metadata).toMatchObject({ cloudEvent: { source: 'urn:cx:e2e', type: 'cx.moment.recorded' }, receivedAt: expect.any(String) });
    });
  });
});
