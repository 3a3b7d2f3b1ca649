import type { LoggerService, LogLevel } from '@nestjs/common';
import { currentCorrelationId } from './correlation.js';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type JsonLogLevel = (typeof LEVELS)[number];

/**
 * One JSON object per line on stdout, with the request's correlation id when there is one.
 * Callers log messages and ids, never request bodies, keys or personal data.
 */
export class JsonLogger implements LoggerService {
  private readonly min: number;

  constructor(
    level: JsonLogLevel = 'info',
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {
    this.min = LEVELS.indexOf(level);
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.emit('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.emit('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.emit('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.emit('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.emit('debug', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.emit('error', message, rest);
  }
  setLogLevels(_levels: LogLevel[]): void {}

  /** A structured entry: `fields` are merged into the line. */
  entry(level: JsonLogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    if (LEVELS.indexOf(level) < this.min) return;
    const correlationId = currentCorrelationId();
    this.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...(correlationId ? { correlationId } : {}), ...fields }));
  }

  private emit(level: JsonLogLevel, message: unknown, rest: unknown[]): void {
    // Nest passes the context as the last string argument, and a stack before it for errors.
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    const msg = message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
    this.entry(level, msg, {
      ...(context ? { context } : {}),
      ...(stack ? { stack } : {}),
      ...(message instanceof Error && message.stack ? { stack: message.stack } : {}),
    });
  }
}
