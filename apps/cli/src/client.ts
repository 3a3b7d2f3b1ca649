import { CliError, EXIT } from './cli-io.js';

export type ClientOptions = { url?: string; apiKey?: string; env: NodeJS.ProcessEnv };

/**
 * The platform's HTTP API as the CLI uses it. Base URL from --url or CX_URL (default
 * http://localhost:3000), key from --api-key or CX_API_KEY. Errors become CliErrors carrying the
 * server's message, so the user reads why, not a stack.
 */
export class CxClient {
  readonly baseUrl: string;
  private readonly apiKey?: string;

  constructor(options: ClientOptions) {
    this.baseUrl = (options.url ?? options.env.CX_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
    this.apiKey = options.apiKey ?? options.env.CX_API_KEY ?? undefined;
  }

  async get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach the platform at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message}); set --url or CX_URL`, EXIT.unreachable);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!response.ok) {
      const message = describeError(parsed) ?? response.statusText;
      if (response.status === 401 || response.status === 403) {
        throw new CliError(`${response.status}: ${message} (set --api-key or CX_API_KEY)`, EXIT.failed);
      }
      throw new CliError(`${response.status}: ${message}`, EXIT.failed);
    }
    return parsed as T;
  }
}

function describeError(body: unknown): string | undefined {
  if (typeof body === 'string') return body || undefined;
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { message?: unknown; error?: unknown; errors?: Array<{ field?: string; message?: string }> };
  if (Array.isArray(b.errors) && b.errors.length > 0) return b.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : String(e.message))).join('; ');
  if (typeof b.message === 'string') return b.message;
  if (Array.isArray(b.message)) return b.message.join('; ');
  if (typeof b.error === 'string') return b.error;
  return undefined;
}
