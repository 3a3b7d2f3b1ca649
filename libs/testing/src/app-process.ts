import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type AppProcess = {
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
  /** Milliseconds from spawn to the ready line. */
  readyMs: number;
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Runs a built app (`npm run build` first: jest's global setup does it) as a child process
 * on a free port and waits for its ready line. The run's Kafka broker is not passed on: an app
 * talks to Kafka only when its test says so (`KAFKA_BROKERS` in `env`), so apps of different
 * test files never share the default topics and consumer groups.
 */
export async function startApp(
  entry = 'dist/apps/cx/src/main.js',
  env: Record<string, string | undefined> = {},
  timeoutMs = 30_000,
): Promise<AppProcess> {
  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', resolve(root, entry)], {
    cwd: root,
    env: { ...process.env, KAFKA_BROKERS: '', PORT: '0', HOST: '127.0.0.1', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`app not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      const match = /ready on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1].replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${code} before it was ready:\n${output}`));
    });
  });
  const readyMs = Date.now() - started;
  return {
    url,
    readyMs,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
