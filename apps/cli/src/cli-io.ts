/** What a command talks to: injected, so tests run commands in-process and read what they print. */
export type CliIo = {
  stdout: { write(chunk: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: NodeJS.ProcessEnv;
};

/** A failure the user should read: printed as `cx: <message>`, exit code `exitCode` (never 0). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes: 0 done, 1 failed (server said no, not found), 2 usage (bad arguments), 3 cannot reach the platform. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export type Command = {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
};

/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function useColour(io: CliIo): boolean {
  return Boolean(io.stdout.isTTY) && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
}
