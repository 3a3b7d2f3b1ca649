import { findNonJson } from './append-validation.js';

describe('findNonJson', () => {
  it('passes plain JSON, however nested', () => {
    let deep: unknown = { leaf: ['a', 1, true, null] };
    for (let i = 0; i < 200; i++) deep = { level: i, next: deep, list: [i, 'x'] };
    const values = [null, 0, -1.5, 'text', '', true, [], {}, { a: [1, { b: 'c' }], d: null }, Object.create(null), JSON.parse('{"x":[{"y":"z"}]}'), deep];
    expect(values.map((value) => findNonJson(value))).toEqual(values.map(() => undefined));
  });

  it('names the first problem and where it is, at any depth', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const nested: Record<string, unknown> = { a: { b: [1, 2, { c: Number.NaN }] } };
    let deep: Record<string, unknown> = { bad: 'x\u0000y' };
    for (let i = 0; i < 100; i++) deep = { n: deep };
    class Point {
      x = 1;
    }
    expect({
      nulInString: findNonJson({ s: 'a\u0000b' }),
      nulInKey: findNonJson({ 'k\u0000': 1 }),
      nan: findNonJson(nested),
      infinity: findNonJson([Infinity]),
      undefinedValue: findNonJson({ u: undefined }),
      hole: findNonJson([1, , 3]),
      bigint: findNonJson({ n: 1n }),
      fn: findNonJson({ f: () => 1 }),
      date: findNonJson({ at: new Date(0) }),
      instance: findNonJson({ p: new Point() }),
      circular: findNonJson(circular),
      deep: findNonJson(deep)?.endsWith('.bad: strings must not contain NUL characters'),
    }).toEqual({
      nulInString: '$.s: strings must not contain NUL characters',
      nulInKey: '$: keys must not contain NUL characters',
      nan: '$.a.b[2].c: NaN is not a finite number',
      infinity: '$[0]: Infinity is not a finite number',
      undefinedValue: '$.u: undefined is not JSON-serialisable',
      hole: '$[1]: undefined is not JSON-serialisable',
      bigint: '$.n: bigint is not JSON-serialisable',
      fn: '$.f: function is not JSON-serialisable',
      date: '$.at: a Date (send an ISO-8601 string) is not plain JSON',
      instance: '$.p: an instance of Point is not plain JSON',
      circular: '$.self: circular reference',
      deep: true,
    });
  });

  it('accepts the same object twice when it is not its own ancestor', () => {
    const shared = { v: 1 };
    expect(findNonJson({ a: shared, b: [shared, shared] })).toBeUndefined();
  });
});
