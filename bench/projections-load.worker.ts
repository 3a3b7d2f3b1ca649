/**
 * The load generator of `npm run bench:projections`' lag part, in a worker thread of its own (as
 * the ingest app is a process of its own in a split deployment): it ingests generated events at a
 * steady rate through the ingest write path, on its own connections, and watches, as a client
 * doing read-your-writes would, when every projection's checkpoint has passed each batch it
 * appended. The projector runs in the main thread, which this worker never waits for.
 */
import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { MasterKey, PiiVault } from '@cx/platform';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
// Not through @cx/testing's index: it pulls in the jest helpers.
import { generateJourneys } from '../libs/testing/src/journeys.js';

/** `seed`: the generated journeys' (a run at a second rate needs new events, not the same ones again, which ingest would take as retries). */
export type LoadInput = { url: string; masterKey: Uint8Array; rate: number; seconds: number; lanes: number; projections: string[]; seed: number };
/** `seconds`: sending; `drainSeconds`: after it, until every projection had passed the last batch. */
export type LoadResult = { sent: number; accepted: number; seconds: number; drainSeconds: number; lagsMs: number[]; ingestMs: number[] };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TICK_MS = 100;

async function main(input: LoadInput): Promise<LoadResult> {
  const pool = new pg.Pool({ connectionString: input.url, max: 4, application_name: 'cx-bench-load' });
  const store = new PostgresEventStore({ pool, notifications: 'listen' });
  const vault = new PiiVault({ pool, masterKey: new MasterKey(Buffer.from(input.masterKey), 'ephemeral') });
  const ingest = new IngestService(store, vault, createMomentCatalogue());
  const events = generateJourneys({ customers: 20_000, days: 30, seed: input.seed, start: new Date() }).slice(0, input.rate * input.seconds);

  // The watcher: the lowest checkpoint of every projection, every 10 ms, on a connection of its own.
  const pending: Array<{ position: bigint; at: number }> = [];
  const lagsMs: number[] = [];
  let sending = true;
  const watcher = (async () => {
    const client = await pool.connect();
    try {
      while (sending || pending.length > 0) {
        const { rows } = await client.query<{ p: string | null }>('SELECT min(position) AS p FROM cx_projection_checkpoints WHERE name = ANY($1)', [input.projections]);
        const reached = BigInt(rows[0].p ?? 0);
        const now = performance.now();
        while (pending.length > 0 && pending[0].position <= reached) lagsMs.push(now - pending.shift()!.at);
        await sleep(10);
      }
    } finally {
      client.release();
    }
  })();

  // Lanes by customer, each sending its share every tick: a customer's events stay in order in its lane.
  const lanes: Array<typeof events> = Array.from({ length: input.lanes }, () => []);
  for (const event of events) {
    let h = 0;
    for (let i = 0; i < event.subject.length; i++) h = (h * 31 + event.subject.charCodeAt(i)) | 0;
    lanes[Math.abs(h) % input.lanes].push(event);
  }
  const ingestMs: number[] = [];
  let accepted = 0;
  parentPort!.postMessage({ started: true });
  const start = performance.now();
  await Promise.all(
    lanes.map(async (lane) => {
      const perTick = Math.max(1, Math.round((lane.length / events.length) * ((input.rate * TICK_MS) / 1000)));
      for (let i = 0, tick = 0; i < lane.length; i += perTick, tick++) {
        const before = performance.now();
        const outcome = await ingest.ingest(lane.slice(i, i + perTick), { correlationId: 'bench-lag' });
        const at = performance.now();
        ingestMs.push(at - before);
        accepted += outcome.accepted;
        if (outcome.accepted > 0) {
          // Kept in position order for the watcher (lanes append concurrently).
          const position = BigInt(outcome.position);
          let k = pending.length;
          while (k > 0 && pending[k - 1].position > position) k--;
          pending.splice(k, 0, { position, at });
        }
        // Steady rate: the next batch is due one tick after this one was; when late, it goes at once.
        const due = start + (tick + 1) * TICK_MS;
        if (due > performance.now()) await sleep(due - performance.now());
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  parentPort!.postMessage({ sent: true });
  sending = false;
  await watcher;
  const drainSeconds = (performance.now() - start) / 1000 - seconds;
  await store.close();
  await pool.end();
  return { sent: events.length, accepted, seconds, drainSeconds, lagsMs, ingestMs };
}

main(workerData as LoadInput).then(
  (result) => parentPort!.postMessage({ result }),
  (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.stack : String(error) }),
);
