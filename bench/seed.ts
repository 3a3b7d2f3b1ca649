/**
 * `npm run seed -- --customers N --days D`: realistic customer journeys sent through the ingest
 * API of a running app, for the quick-start demo, the benchmarks and trying the query API.
 *
 *   npm run seed -- --customers 200 --days 90 --key cx_…            to http://localhost:3000
 *   npm run seed -- --customers 50000 --days 35 --url http://host:3000 --key …
 *
 * The key can also come from CX_API_KEY. The same --seed gives the same events, so seeding twice
 * stores nothing new (every event comes back as a duplicate).
 */
import { generateJourneys } from '@cx/testing';
import { parseArgs } from 'node:util';

type Outcome = { accepted: number; duplicates: number; rejected: number; position: string; results: Array<{ status: string; errors?: unknown }> };

function usage(message: string): never {
  console.error(`${message}\nusage: npm run seed -- --customers N --days D [--seed S] [--url http://localhost:3000] [--key KEY] [--batch 500]`);
  process.exit(2);
}

async function main() {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string' },
      days: { type: 'string' },
      seed: { type: 'string', default: '42' },
      url: { type: 'string', default: process.env.CX_URL ?? 'http://localhost:3000' },
      key: { type: 'string', default: process.env.CX_API_KEY },
      batch: { type: 'string', default: '500' },
    },
  });
  const customers = Number(values.customers);
  const days = Number(values.days);
  const batch = Number(values.batch);
  if (!Number.isInteger(customers) || customers < 1) usage('--customers must be a positive integer');
  if (!Number.isInteger(days) || days < 1 || days > 3650) usage('--days must be an integer from 1 to 3650');
  if (!Number.isInteger(batch) || batch < 1 || batch > 1000) usage('--batch must be an integer from 1 to 1000');
  if (!values.key) usage('an API key with the ingest scope is needed: --key or CX_API_KEY (the app prints one on its first start)');

  // The period ends now, so the default views (the last 30 days) show the seeded journeys.
  const events = generateJourneys({ customers, days, seed: Number(values.seed), start: new Date(Date.now() - days * 86_400_000) });
  console.log(`seeding ${events.length.toLocaleString('en-US')} events for ${customers} customers over ${days} days into ${values.url}`);
  const started = Date.now();
  const totals = { accepted: 0, duplicates: 0, rejected: 0 };
  let position = '0';
  for (let i = 0; i < events.length; i += batch) {
    const response = await fetch(`${values.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${values.key}`, 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(events.slice(i, i + batch)),
    });
    if (response.status !== 200) {
      console.error(`HTTP ${response.status}: ${(await response.text()).slice(0, 500)}`);
      process.exit(1);
    }
    const outcome = (await response.json()) as Outcome;
    totals.accepted += outcome.accepted;
    totals.duplicates += outcome.duplicates;
    totals.rejected += outcome.rejected;
    if (BigInt(outcome.position) > BigInt(position)) position = outcome.position;
    const firstRejection = outcome.results.find((r) => r.status === 'rejected');
    if (firstRejection) console.error(`rejected: ${JSON.stringify(firstRejection).slice(0, 300)}`);
    if ((i / batch) % 20 === 0) process.stdout.write(`\r${Math.min(i + batch, events.length).toLocaleString('en-US')} sent`);
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `\r${events.length.toLocaleString('en-US')} events in ${seconds.toFixed(1)} s: ${totals.accepted} accepted, ${totals.duplicates} duplicates, ${totals.rejected} rejected; last position ${position}`,
  );
  console.log(`read your writes: add ?minPosition=${position} to a query, e.g. ${values.url}/v1/metrics/satisfaction?minPosition=${position}`);
  if (totals.rejected > 0) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
