import 'reflect-metadata';
import { DATABASE } from '@cx/platform';
import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import {
  ConsoleLogger,
  Controller,
  type DynamicModule,
  Get,
  type INestApplication,
  type LogLevel,
  Module,
  Post,
  Req,
  type Type,
  UseGuards,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { ApiKeyGuard, type AuthenticatedRequest, RequireScopes } from './api-key.guard.js';
import { parseApiKeys } from './api-keys.config.js';
import { AuthModule, type AuthModuleOptions } from './auth.module.js';

@Controller()
class ProbeController {
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Post('events')
  @RequireScopes('ingest')
  ingest(@Req() request: AuthenticatedRequest) {
    return { principal: request.principal };
  }

  @Get('admin')
  @RequireScopes('ops', 'read')
  admin() {
    return { ok: true };
  }
}

@Controller('reports')
@RequireScopes('read')
class ReportsController {
  @Get()
  list() {
    return { reports: [] };
  }

  @Get('rebuild')
  @RequireScopes('ops')
  rebuild() {
    return { rebuilding: true };
  }
}

/** Guarded per controller, for an app that imports AuthModule with globalGuard: false. */
@Controller('local')
@UseGuards(ApiKeyGuard)
class LocallyGuardedController {
  @Get('open')
  open() {
    return { open: true };
  }

  @Get('read')
  @RequireScopes('read')
  read() {
    return { read: true };
  }
}

@Module({})
class TestDatabaseModule {}

function databaseModule(database: TestDatabase): DynamicModule {
  return { module: TestDatabaseModule, global: true, providers: [{ provide: DATABASE, useValue: database }], exports: [DATABASE] };
}

async function startHttp(
  imports: DynamicModule[],
  controllers: Type<unknown>[] = [ProbeController, ReportsController],
  logger: LogLevel[] = ['error'],
) {
  // Nest's logger is process-wide and compile() would mute log and warn: the auth module logs there.
  const moduleRef = await Test.createTestingModule({ imports, controllers })
    .setLogger(new ConsoleLogger({ logLevels: logger, colors: false }))
    .compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

/** Everything written to stdout and stderr while `run` runs, also passed through. */
async function capturingOutput<T>(run: () => Promise<T>): Promise<{ result: T; output: string }> {
  let output = '';
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const tap = (original: typeof process.stdout.write) =>
    function (this: NodeJS.WriteStream, chunk: string | Uint8Array, ...rest: never[]) {
      output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return original.call(this, chunk, ...rest);
    } as typeof process.stdout.write;
  process.stdout.write = tap(originals.out);
  process.stderr.write = tap(originals.err);
  try {
    return { result: await run(), output };
  } finally {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
  }
}

const rejectedBody = (message: string | RegExp) => ({
  status: 'rejected',
  errors: [{ field: 'authorization', message: typeof message === 'string' ? message : expect.stringMatching(message) }],
});

describe('ApiKeyGuard over HTTP with CX_API_KEYS', () => {
  let app: INestApplication;
  let url: string;
  const configured: AuthModuleOptions = { apiKeys: { mode: 'configured', ...parseApiKeys('k1:ingest,k2:read,k3:ops+read+ingest') } };

  beforeAll(async () => {
    ({ app, url } = await startHttp([AuthModule.forRoot(configured)]));
  });
  afterAll(async () => {
    await app?.close();
  });

  const post = (headers: Record<string, string> = {}) => fetch(`${url}/events`, { method: 'POST', headers });

  it('leaves routes without @RequireScopes public', async () => {
    const response = await fetch(`${url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers 401 with WWW-Authenticate: Bearer and the rejected body when no key is sent', async () => {
    const response = await post();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="cx"');
    expect(await response.json()).toEqual(rejectedBody(/API key is required.*Authorization: Bearer <key> or X-API-Key/));
  });

  it.each([
    ['Authorization: Bearer', { authorization: 'Bearer not-a-key-we-know' }],
    ['X-API-Key', { 'x-api-key': 'not-a-key-we-know' }],
  ])('answers 401 for an unknown key sent as %s, without echoing it', async (_form, headers) => {
    const response = await post(headers);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual(rejectedBody('the API key is not valid'));
    expect(text).not.toContain('not-a-key-we-know');
  });

  it('answers 401 for another Authorization scheme, and for two different keys in the two headers', async () => {
    const basic = await post({ authorization: `Basic ${Buffer.from('k1:x').toString('base64')}` });
    expect(basic.status).toBe(401);
    expect(await basic.json()).toEqual(rejectedBody(/must be "Bearer <key>"/));
    const both = await post({ authorization: 'Bearer k1', 'x-api-key': 'k3' });
    expect(both.status).toBe(401);
    expect(await both.json()).toEqual(rejectedBody(/different keys/));
  });

  it('answers 403 naming the missing scope for a valid key without it', async () => {
    const response = await post({ authorization: 'Bearer k2' });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope", scope="ingest"/);
    expect(await response.json()).toEqual(rejectedBody('this API key lacks the scope ingest needed here'));
  });

  it.each([
    ['Authorization: Bearer', { authorization: 'Bearer k1' }],
    ['a lower-case bearer scheme', { authorization: 'bearer k1' }],
    ['X-API-Key', { 'x-api-key': 'k1' }],
    ['both headers with the same key', { authorization: 'Bearer k1', 'x-api-key': 'k1' }],
    ['Basic for a gateway and X-API-Key for us', { authorization: 'Basic Zm9vOmJhcg==', 'x-api-key': 'k1' }],
  ])('lets a key with the scope through via %s and attaches the principal, not the key', async (_form, headers) => {
    const response = await post(headers);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ principal: { keyId: 'CX_API_KEYS#1', scopes: ['ingest'] } });
  });

  it('requires every scope a route lists', async () => {
    expect((await fetch(`${url}/admin`, { headers: { 'x-api-key': 'k2' } })).status).toBe(403);
    const k3 = await fetch(`${url}/admin`, { headers: { 'x-api-key': 'k3' } });
    expect(k3.status).toBe(200);
  });

  it('adds a route’s scopes to its controller’s, never waiving them', async () => {
    expect((await fetch(`${url}/reports`, { headers: { 'x-api-key': 'k2' } })).status).toBe(200);
    expect((await fetch(`${url}/reports`, { headers: { 'x-api-key': 'k1' } })).status).toBe(403);
    const rebuild = await fetch(`${url}/reports/rebuild`, { headers: { 'x-api-key': 'k2' } });
    expect(rebuild.status).toBe(403);
    expect(await rebuild.json()).toEqual(rejectedBody('this API key lacks the scope ops needed here'));
    expect((await fetch(`${url}/reports/rebuild`, { headers: { 'x-api-key': 'k3' } })).status).toBe(200);
  });
});

describe('ApiKeyGuard per controller (globalGuard: false)', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await startHttp(
      [AuthModule.forRoot({ apiKeys: { mode: 'configured', ...parseApiKeys('k2:read') }, globalGuard: false })],
      [ProbeController, LocallyGuardedController],
    ));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('guards the controller that asks for it and no other', async () => {
    expect((await fetch(`${url}/local/read`)).status).toBe(401);
    expect((await fetch(`${url}/local/read`, { headers: { authorization: 'Bearer k2' } })).status).toBe(200);
    expect((await fetch(`${url}/local/open`)).status).toBe(200);
    // Not guarded at all without APP_GUARD: the decorator alone does nothing.
    expect((await fetch(`${url}/events`, { method: 'POST' })).status).toBe(201);
  });
});

const EVERY_LEVEL: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

describe(`ApiKeyGuard over HTTP with a generated key on ${testBackend}`, () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  it('prints the generated key once on first start, never logs it, and accepts it; a restart prints nothing', async () => {
    const first = await capturingOutput(() =>
      startHttp([databaseModule(database), AuthModule.forRoot({ apiKeys: { mode: 'stored' } })], undefined, EVERY_LEVEL),
    );
    let key: string;
    try {
      const match = /^ {4}(cx_[A-Za-z0-9_-]{43})$/m.exec(first.output);
      expect(match).not.toBeNull();
      key = match![1];
      expect(first.output).toContain('Store it now: it will not be shown again.');
      // The capture holds the module's log lines too, so the key appearing once means: in no log line.
      expect(first.output).toMatch(/\[ApiKeys\].*1 active API key\(s\) in cx_api_keys, key_[0-9a-f]{16} generated now/);
      expect(first.output.split(key)).toHaveLength(2);

      const { url } = first.result;
      const { output: requestOutput } = await capturingOutput(async () => {
        const ingest = await fetch(`${url}/events`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
        expect(ingest.status).toBe(201);
        expect(await ingest.json()).toEqual({ principal: { keyId: expect.stringMatching(/^key_/), scopes: ['ingest', 'read', 'ops'] } });
        expect((await fetch(`${url}/admin`, { headers: { 'x-api-key': key } })).status).toBe(200);
        expect((await fetch(`${url}/events`, { method: 'POST', headers: { 'x-api-key': `${key}x` } })).status).toBe(401);
      });
      expect(requestOutput).not.toContain(key);
    } finally {
      await first.result.app.close();
    }

    const second = await capturingOutput(() =>
      startHttp([databaseModule(database), AuthModule.forRoot({ apiKeys: { mode: 'stored' } })], undefined, EVERY_LEVEL),
    );
    try {
      expect(second.output).toMatch(/\[ApiKeys\].*1 active API key\(s\) in cx_api_keys\s/);
      expect(second.output).not.toContain('will not be shown again');
      expect(second.output).not.toMatch(/cx_[A-Za-z0-9_-]{43}/);
      const again = await fetch(`${second.result.url}/events`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
      expect(again.status).toBe(201);
    } finally {
      await second.result.app.close();
    }
    const { rows } = await database.pool.query('SELECT id FROM cx_api_keys');
    expect(rows).toHaveLength(1);
  });
});
