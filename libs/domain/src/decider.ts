/** A domain event: a stable, versioned type string (`complaint.routed.v1`) and plain JSON data. */
export type Event<Type extends string = string, Data extends object = object> = {
  readonly type: Type;
  readonly data: Data;
};

/** A request to change a stream. Ids and times travel in `data`, so deciding is deterministic. */
export type Command<Type extends string = string, Data extends object = object> = {
  readonly type: Type;
  readonly data: Data;
};

/**
 * The business rules of one stream as pure functions. `decide` returns the events a command
 * produces (possibly none) or throws a domain error; `evolve` folds one stored event into the state.
 */
export type Decider<C, S, E> = {
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
  readonly initialState: S;
};

/** The state of a stream after `events`, starting from `state` (the initial state by default). */
export function fold<S, E>(
  decider: Pick<Decider<unknown, S, E>, 'evolve' | 'initialState'>,
  events: readonly E[],
  state: S = decider.initialState,
): S {
  return events.reduce((current, event) => decider.evolve(current, event), state);
}

/** The `default` of an exhaustive switch: the compiler rejects it while a case is missing. */
export function unreachable(value: never): never {
  throw new Error(`unexpected ${JSON.stringify((value as { type?: unknown }).type ?? value)}`);
}
