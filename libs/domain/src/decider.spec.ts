import { type Decider, fold } from './decider.js';
import { deciderSpec, statelessSpec } from './decider.testing.js';
import { IllegalTransition } from './domain.errors.js';

type Counted = { type: 'counted'; data: { by: number } };
type Count = { type: 'Count'; data: { by: number } };
type State = { status: 'counting'; total: number };

const counter: Decider<Count, State, Counted> = {
  decide: (command, state) => {
    if (state.total + command.data.by > 10) throw new IllegalTransition('counter-1', state.status, command.type);
    return command.data.by === 0 ? [] : [{ type: 'counted', data: command.data }];
  },
  evolve: (state, event) => ({ ...state, total: state.total + event.data.by }),
  initialState: { status: 'counting', total: 0 },
};
const counted = (by: number): Counted => ({ type: 'counted', data: { by } });
const count = (by: number): Count => ({ type: 'Count', data: { by } });

describe('fold', () => {
  it('folds events over the initial state, or over a given state', () => {
    expect(fold(counter, [counted(2), counted(3)])).toEqual({ status: 'counting', total: 5 });
    expect(fold(counter, [counted(2)], { status: 'counting', total: 7 })).toEqual({ status: 'counting', total: 9 });
    expect(fold(counter, [])).toBe(counter.initialState);
  });
});

describe('given/when/then', () => {
  const { given } = deciderSpec(counter);

  it('passes when the events match, and returns the state they fold into', () => {
    expect(given(counted(4)).when(count(2)).then([counted(2)])).toEqual({ status: 'counting', total: 6 });
  });

  it('fails when the events differ', () => {
    expect(() => given().when(count(2)).then([counted(3)])).toThrow();
    expect(() => given().when(count(0)).then([counted(0)])).toThrow();
  });

  it('fails thenThrows when the command succeeds, or throws something else', () => {
    expect(() => given().when(count(1)).thenThrows(IllegalTransition)).toThrow();
    expect(() => given(counted(10)).when(count(1)).thenThrows(TypeError)).toThrow();
    expect(() => given(counted(10)).when(count(1)).thenThrows(IllegalTransition, { status: 'done' as never })).toThrow();
  });

  it('returns the thrown error for further checks', () => {
    const error = given(counted(10)).when(count(1)).thenThrows(IllegalTransition, { aggregateId: 'counter-1' });
    expect(error.message).toBe('counter-1 is counting: Count is not allowed');
  });

  it('checks the state the given events fold into', () => {
    expect(() => given(counted(1)).thenState({ status: 'counting', total: 1 })).not.toThrow();
    expect(() => given(counted(1)).thenState({ status: 'counting', total: 2 })).toThrow();
  });

  it('serves stateless decide functions too', () => {
    const { when } = statelessSpec((command: Count) => [counted(command.data.by * 2)]);
    when(count(2)).then([counted(4)]);
    expect(() => when(count(2)).then([counted(2)])).toThrow();
  });
});
