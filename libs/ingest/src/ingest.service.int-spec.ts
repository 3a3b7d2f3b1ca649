import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore, storedEventId } from '@cx/event-store';
import { MasterKey, PiiVault, WriteActivity } from '@cx/platform';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { IngestService } from './ingest.service.js';

const ce = (type: string, subject: string, data: Record<string, unknown>) => ({
  specversion: '1.0',
  id: randomUUID(),
  source: 'urn:cx:spec',
  type,
  subject,
  data,
});

describe(`ingest write path on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let vault: PiiVault;
  let ingest: IngestService;

  beforeAll(async () => {
    database = await openTestDatabase();
    store = new PostgresEventStore({ pool: database.pool });
    vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
    ingest = new IngestService(store, vault, createMomentCatalogue());
  });
  afterAll(async () => {
    await store.close();
    await database.close();
  });

  it('tells the write activity of each call while it runs, and the highest position it stored', async () => {
    const activity = new WriteActivity();
    const observed = new IngestService(store, vault, createMomentCatalogue(), undefined, activity);
    const subject = `cust-activity-${randomUUID().slice(0, 8)}`;
    const call = observed.ingest([ce('cx.moment.recorded', subject, { kind: 'billing', channel: 'web' })], { correlationId: 'spec' });
    expect(activity.inFlight).toBe(1);
    const outcome = await call;
    expect(activity.inFlight).toBe(0);
    expect(activity.head).toBe(BigInt(outcome.position));
    // A call that throws ends too, without moving the head.
    const broken = new IngestService(store, { sealFields: () => Promise.reject(new Error('vault unavailable')) }, createMomentCatalogue(), undefined, activity);
    await expect(broken.ingest([ce('cx.customer.registered', subject, { name: 'Someone' })], { correlationId: 'spec' })).rejects.toThrow('vault unavailable');
    expect(activity.inFlight).toBe(0);
    expect(activity.head).toBe(BigInt(outcome.position));
  });

  it("rejects the personal data of an erased customer and stores the rest of the batch", async () => {
    const erased = `cust-erased-${randomUUID().slice(0, 8)}`;
    const other = `cust-kept-${randomUUID().slice(0, 8)}`;
    await vault.erase(erased);

    const outcome = await ingest.ingest(
      [
        ce('cx.customer.registered', erased, { name: 'Gone Person', email: 'gone@example.com' }),
        ce('cx.customer.registered', other, { name: 'Kept Person' }),
        ce('cx.moment.recorded', erased, { kind: 'billing', channel: 'web' }),
      ],
      { correlationId: 'spec' },
    );

    expect(outcome.results.map((r) => r.status)).toEqual(['rejected', 'accepted', 'accepted']);
    expect(outcome.results[0]).toMatchObject({ errors: [{ field: 'subject', message: expect.stringContaining('erased') }] });
    // The moment (no personal data) was stored, in a stream of its own; the registration was not.
    expect(await store.readStream(`customer-${erased}`)).toEqual([]);
    // Read from its stream, not the log: readAll stops below the oldest transaction still open on the
    // server, which on a shared server can be anyone's.
    const momentStream = `moment-${storedEventId('urn:cx:spec', (outcome.results[2] as { id: string }).id)}`;
    const moment = await store.readStream(momentStream);
    expect(moment.map((e) => [e.type, (e.data as { customerId: string }).customerId])).toEqual([['moment.recorded.v1', erased]]);
    const [kept] = await store.readStream(`customer-${other}`);
    const opened = await vault.unsealFields([{ customerId: other, data: kept.data as Record<string, unknown>, fields: ['name'] }]);
    expect(opened[0].data.name).toBe('Kept Person');
  });

  it('decides against state written by a concurrent writer after a version conflict', async () => {
    const subject = `cust-race-${randomUUID().slice(0, 8)}`;
    const complaintId = `cmp-race-${randomUUID().slice(0, 8)}`;
    await ingest.ingest([ce('cx.complaint.filed', subject, { complaintId, category: 'billing', channel: 'phone', severity: 'low' })], { correlationId: 'spec' });
    // Two acknowledgements race: one wins; the other, re-decided on the new state, is refused as out of order.
    const [a, b] = await Promise.all([
      ingest.ingest([ce('cx.complaint.acknowledged', subject, { complaintId })], { correlationId: 'a' }),
      ingest.ingest([ce('cx.complaint.acknowledged', subject, { complaintId })], { correlationId: 'b' }),
    ]);
    expect([a.results[0].status, b.results[0].status].sort()).toEqual(['accepted', 'rejected']);
    expect((await store.readStream(`complaint-${complaintId}`)).map((e) => e.type)).toEqual(['complaint.filed.v1', 'complaint.acknowledged.v1']);
  });

  it('stores each event as its data plus the fields it is routed and timed by, and the CloudEvent in the metadata', async () => {
    const subject = `cust-shape-${randomUUID().slice(0, 8)}`;
    const complaintId = `cmp-shape-${randomUUID().slice(0, 8)}`;
    const time = '2026-03-01T10:00:00Z';
    const sent = [
      { ...ce('cx.moment.recorded', subject, { kind: 'payment', channel: 'web', waitSeconds: 3, amount: 12.5, currency: 'EUR' }), time, traceparent: 'trace-1' },
      { ...ce('cx.feedback.submitted', subject, { nps: 9 }), time },
      { ...ce('cx.complaint.filed', subject, { complaintId, category: 'billing', channel: 'phone', severity: 'low' }), time },
      { ...ce('cx.complaint.acknowledged', subject, { complaintId }), time },
    ];
    const outcome = await ingest.ingest(sent, { correlationId: 'shape', principal: 'key-1' });
    expect(outcome.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    const stored = [
      ...(await store.readStream(`moment-${storedEventId('urn:cx:spec', sent[0].id)}`)),
      ...(await store.readStream(`feedback-${storedEventId('urn:cx:spec', sent[1].id)}`)),
      ...(await store.readStream(`complaint-${complaintId}`)),
    ];
    expect(stored.map((e) => [e.type, e.data])).toEqual([
      ['moment.recorded.v1', { kind: 'payment', channel: 'web', waitSeconds: 3, amount: 12.5, currency: 'EUR', momentId: sent[0].id, customerId: subject, occurredAt: time }],
      ['feedback.submitted.v1', { nps: 9, customerId: subject, submittedAt: time }],
      ['complaint.filed.v1', { complaintId, category: 'billing', channel: 'phone', severity: 'low', customerId: subject, filedAt: time }],
      ['complaint.acknowledged.v1', { complaintId, acknowledgedAt: time, customerId: subject }],
    ]);
    expect(stored[0].metadata).toEqual({
      correlationId: 'shape',
      causationId: stored[0].id,
      cloudEvent: { id: sent[0].id, source: 'urn:cx:spec', type: 'cx.moment.recorded', subject, time, traceparent: 'trace-1' },
      receivedAt: expect.any(String),
      principal: 'key-1',
    });
    // The caller's events are left as they were sent (a retry sends the same objects again).
    expect(sent[0].data).toEqual({ kind: 'payment', channel: 'web', waitSeconds: 3, amount: 12.5, currency: 'EUR' });
  });
});
