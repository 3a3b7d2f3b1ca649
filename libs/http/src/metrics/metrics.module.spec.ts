import 'reflect-metadata';
import { ConsoleLogger, Controller, type DynamicModule, Get, HttpException, type INestApplication, Module, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { parseApiKeys } from '../auth/api-keys.config.js';
import { AuthModule } from '../auth/auth.module.js';
import { parseExposition, samplesOf } from './exposition.parser.js';
import { httpMetricsMiddleware } from './http-metrics.middleware.js';
import { MetricsModule } from './metrics.module.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.registry.js';
import { Metrics } from './metrics.service.js';

/** The slow handler says when a request has reached it (the test aborts only then). */
let slowReached: () => void = () => undefined;

@Controller('v1/things')
class ThingsController {
  @Get(':id')
  one(@Param('id') id: string) {
    return { id };
  }

  /**
   * Answers only once its client has gone (or after 5 s): a fixed delay raced the abort on a busy
   * machine (timer and socket close in the same turn of the loop, the answer written first).
   */
  @Get(':id/slow')
  async slow(@Param('id') id: string, @Res({ passthrough: true }) response: Response) {
    slowReached();
    await new Promise((resolve) => {
      response.once('close', resolve);
      setTimeout(resolve, 5_000).unref();
    });
    return { id };
  }

  @Get(':id/parts')
  parts(@Param('id') id: string) {
    throw new HttpException({ status: 'not_found', errors: [{ field: 'id', message: `no thing ${id}` }] }, 404);
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

async function start(imports: DynamicModule[], before?: (app: INestApplication) => void): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({ imports: [...imports, ThingsModule] })
    .setLogger(new ConsoleLogger({ logLevels: ['error'], colors: false }))
    .compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  before?.(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

describe('GET /metrics in a Nest app', () => {
  let app: INestApplication;
  let url: string;
  let metrics: Metrics;

  beforeAll(async () => {
    metrics = new Metrics();
    ({ app, url } = await start([MetricsModule.forRoot({ metrics })]));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('times requests by method, route pattern and status, never by the raw URL', async () => {
    for (const path of ['/v1/things/a-101', '/v1/things/b-202', '/v1/things/c-303/parts', '/nowhere/secret-404', '/']) await fetch(`${url}${path}`);
    const reply = await fetch(`${url}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const text = await reply.text();
    const parsed = parseExposition(text);

    const count = (labels: Record<string, string>) => samplesOf(parsed, 'cx_http_request_duration_seconds_count', labels).map((s) => s.value);
    // Two thing reads (200), one missing part (404 from the handler), one path no route matches (404).
    expect(count({ method: 'GET', route: '/v1/things/:id', status: '200' })).toEqual([2]);
    expect(count({ method: 'GET', route: '/v1/things/:id/parts', status: '404' })).toEqual([1]);
    expect(count({ method: 'GET', route: 'unmatched', status: '404' })).toEqual([2]);
    expect(text).not.toMatch(/a-101|b-202|c-303|secret-404/);
    const buckets = samplesOf(parsed, 'cx_http_request_duration_seconds_bucket', { route: '/v1/things/:id' });
    expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: 2 });
  });

  it('labels a request whose client went away before the answer 499', async () => {
    const abort = new AbortController();
    const reached = new Promise<void>((resolve) => (slowReached = resolve));
    const pending = fetch(`${url}/v1/things/d-404/slow`, { signal: abort.signal }).catch(() => 'aborted');
    await reached;
    abort.abort();
    expect(await pending).toBe('aborted');
    // Recorded when the server sees the connection close: scrape until it has (a busy machine may take a while).
    const slow = async () =>
      samplesOf(parseExposition(await (await fetch(`${url}/metrics`)).text()), 'cx_http_request_duration_seconds_count', { route: '/v1/things/:id/slow' }).map((s) => [
        s.labels.status,
        s.value,
      ]);
    let samples = await slow();
    for (const deadline = Date.now() + 5_000; samples.length === 0 && Date.now() < deadline; samples = await slow()) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(samples).toEqual([['499', 1]]);
  });

  it('counts the scrape itself on the next scrape, and serves process and event-loop basics', async () => {
    await fetch(`${url}/metrics`);
    const parsed = parseExposition(await (await fetch(`${url}/metrics`)).text());
    expect(samplesOf(parsed, 'cx_http_request_duration_seconds_count', { route: '/metrics', status: '200' })[0].value).toBeGreaterThanOrEqual(2);
    expect(samplesOf(parsed, 'process_resident_memory_bytes')[0].value).toBeGreaterThan(1_000_000);
    expect(samplesOf(parsed, 'process_cpu_seconds_total')[0].value).toBeGreaterThan(0);
    expect(samplesOf(parsed, 'process_start_time_seconds')[0].value).toBeLessThanOrEqual(Date.now() / 1000);
    for (const name of ['nodejs_eventloop_lag_mean_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds']) {
      expect(samplesOf(parsed, name)[0].value).toBeGreaterThanOrEqual(0);
    }
  });

  it('serves what the platform records: ingest results by type and projection lag read at scrape time', async () => {
    metrics.ingestedBatch(
      [{ type: 'cx.moment.recorded' }, { type: 'cx.moment.recorded' }, { type: 'cx.moment.recorded' }, { type: 'cx.teleport' }, 'not even an object'],
      [{ status: 'accepted' }, { status: 'accepted' }, { status: 'duplicate' }, { status: 'rejected' }, { status: 'rejected' }],
    );
    let lag = [
      { name: 'journey', lagEvents: 7, lagSeconds: 1.5 },
      { name: 'satisfaction', lagEvents: 0, lagSeconds: 0 },
    ];
    metrics.watchProjections({ states: async () => lag });
    const first = parseExposition(await (await fetch(`${url}/metrics`)).text());

    const ingested = (labels: Record<string, string>) => samplesOf(first, 'cx_ingested_events_total', labels)[0]?.value;
    expect(ingested({ type: 'cx.moment.recorded', status: 'accepted' })).toBe(2);
    expect(ingested({ type: 'cx.moment.recorded', status: 'duplicate' })).toBe(1);
    // An unknown type and a body that is no event: both `unknown`, 1 + 1 = 2; the type sent is never a label.
    expect(ingested({ type: 'unknown', status: 'rejected' })).toBe(2);
    expect(samplesOf(first, 'cx_ingested_events_total', { type: 'cx.teleport' })).toEqual([]);
    expect(samplesOf(first, 'cx_projection_lag_events').map((s) => [s.labels.projection, s.value])).toEqual([['journey', 7], ['satisfaction', 0]]);
    expect(samplesOf(first, 'cx_projection_lag_seconds', { projection: 'journey' })[0].value).toBe(1.5);

    lag = [{ name: 'journey', lagEvents: 0, lagSeconds: 0 }];
    const second = parseExposition(await (await fetch(`${url}/metrics`)).text());
    expect(samplesOf(second, 'cx_projection_lag_events').map((s) => [s.labels.projection, s.value])).toEqual([['journey', 0]]);
  });
});

describe('GET /metrics behind a scope', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await start([
      AuthModule.forRoot({ apiKeys: { mode: 'configured', ...parseApiKeys('ops-key-0123456789abcdef:ops,read-key-0123456789abcdef:read') } }),
      MetricsModule.forRoot({ requireScope: 'ops', metrics: new Metrics({ process: false }) }),
    ]));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers 401 without a key, 403 without the scope, and the metrics with it', async () => {
    const scrape = (key?: string) => fetch(`${url}/metrics`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    expect((await scrape()).status).toBe(401);
    expect((await scrape('read-key-0123456789abcdef')).status).toBe(403);
    const reply = await scrape('ops-key-0123456789abcdef');
    expect(reply.status).toBe(200);
    const parsed = parseExposition(await reply.text());
    expect(parsed.types.get('cx_http_request_duration_seconds')).toBe('histogram');
    // The refused scrapes were timed too: 401 and 403 under the /metrics route.
    expect(samplesOf(parsed, 'cx_http_request_duration_seconds_count', { route: '/metrics' }).map((s) => s.labels.status).sort()).toEqual(['401', '403']);
    expect(parsed.types.has('process_resident_memory_bytes')).toBe(false);
  });
});

describe('the HTTP middleware installed by the app instead of the module', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const metrics = new Metrics({ process: false });
    ({ app, url } = await start([MetricsModule.forRoot({ metrics, httpDurations: false })], (created) => created.use(httpMetricsMiddleware(metrics))));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('times each request once, with the same labels', async () => {
    await fetch(`${url}/v1/things/e-505`);
    await fetch(`${url}/elsewhere/f-606`);
    const parsed = parseExposition(await (await fetch(`${url}/metrics`)).text());
    expect(samplesOf(parsed, 'cx_http_request_duration_seconds_count').map((s) => [s.labels.route, s.labels.status, s.value])).toEqual([
      ['/v1/things/:id', '200', 1],
      ['unmatched', '404', 1],
    ]);
  });
});
