// Given/when/then for deciders, for specs only (it uses Jest's global `expect`).
import { type Decider, fold } from './decider.js';

type ErrorClass<T extends Error> = abstract new (...args: never[]) => T;

export type Then<S, E> = {
  /** The command produces exactly these events, and they fold into a state without error. */
  then(expected: readonly E[]): S;
  /** The command is rejected with this error class, whose properties include `properties`. */
  thenThrows<T extends Error>(errorClass: ErrorClass<T>, properties?: Partial<T>): T;
};

export type Given<C, S, E> = {
  when(command: C): Then<S, E>;
  /** The state the given events fold into. */
  thenState(expected: S): void;
};

export function deciderSpec<C, S, E>(decider: Decider<C, S, E>): { given: (...events: E[]) => Given<C, S, E> } {
  return {
    given: (...events) => {
      const state = fold(decider, events);
      return {
        when: (command) => ({
          then: (expected) => {
            const actual = decider.decide(command, state);
            expect(actual).toEqual(expected);
            return fold(decider, actual, state);
          },
          thenThrows: <T extends Error>(errorClass: ErrorClass<T>, properties?: Partial<T>): T => {
            let thrown: unknown;
            try {
              const events = decider.decide(command, state);
              thrown = new Error(`expected ${errorClass.name}, but the command produced ${JSON.stringify(events)}`);
            } catch (error) {
              thrown = error;
            }
            expect(thrown).toBeInstanceOf(errorClass);
            if (properties) expect(thrown).toMatchObject(properties);
            return thrown as T;
          },
        }),
        thenState: (expected) => expect(state).toEqual(expected),
      };
    },
  };
}

/** The same form for a stateless decide function: `when(command).then(events)`. */
export function statelessSpec<C, E>(decide: (command: C) => E[]): Pick<Given<C, undefined, E>, 'when'> {
  return deciderSpec<C, undefined, E>({ decide, evolve: (state) => state, initialState: undefined }).given();
}
