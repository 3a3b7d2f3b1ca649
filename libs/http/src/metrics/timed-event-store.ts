import { type EventStore, WrongExpectedVersionError } from '@cx/event-store';
import type { AppendOperation, AppendOutcome, Metrics } from './metrics.service.js';

const timed: Readonly<Record<string, AppendOperation>> = {
  append: 'append',
  appendMany: 'append_many',
  decideAndAppend: 'decide_and_append',
};

function outcomeOf(error: unknown): AppendOutcome {
  return error instanceof WrongExpectedVersionError ? 'conflict' : 'error';
}

/**
 * The same store, with every append timed into `cx_append_duration_seconds`. A proxy rather than
 * a wrapper class, so methods beyond the port (`appendWithin` of the PostgreSQL adapter) and any
 * added later pass through untouched; they run on the store itself, so an append that calls
 * another internally is timed once.
 */
export function timedEventStore<S extends EventStore>(store: S, metrics: Pick<Metrics, 'observeAppend'>): S {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const operation = typeof property === 'string' && Object.hasOwn(timed, property) ? timed[property] : undefined;
      if (!operation) return (value as (...args: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        const started = process.hrtime.bigint();
        const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
        try {
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          metrics.observeAppend(operation, 'ok', seconds());
          return result;
        } catch (error) {
          metrics.observeAppend(operation, outcomeOf(error), seconds());
          throw error;
        }
      };
    },
  });
}
