import {
  builtInMomentKinds,
  channelGroup,
  channels,
  createMomentCatalogue,
  defaultMomentCatalogue,
  isChannel,
  isMomentKind,
  isOutcome,
  isSeverity,
  isTier,
} from './catalogue.js';
import { DomainValidationError } from './domain.errors.js';

describe('catalogue', () => {
  it('has the eight built-in moment kinds', () => {
    expect(builtInMomentKinds).toEqual([
      'information',
      'advice',
      'order_received',
      'hospitality',
      'belongings_care',
      'incident',
      'billing',
      'payment',
    ]);
    expect(defaultMomentCatalogue.kinds).toEqual(builtInMomentKinds);
  });

  it.each([
    ['in_person', 'personal'],
    ['branch', 'personal'],
    ['sales_visit', 'personal'],
    ['phone', 'telephone'],
    ['letter', 'print'],
    ['form', 'print'],
    ['email', 'electronic'],
    ['web', 'electronic'],
    ['chat', 'electronic'],
    ['app', 'electronic'],
    ['social', 'electronic'],
  ] as const)('puts channel %s in group %s', (channel, group) => {
    expect(channelGroup(channel)).toBe(group);
  });

  it('has exactly the eleven channels', () => {
    expect([...channels].sort()).toEqual([
      'app',
      'branch',
      'chat',
      'email',
      'form',
      'in_person',
      'letter',
      'phone',
      'sales_visit',
      'social',
      'web',
    ]);
  });

  it('guards the closed value sets', () => {
    expect([isChannel('phone'), isChannel('fax'), isChannel(undefined)]).toEqual([true, false, false]);
    expect([isOutcome('negative'), isOutcome('bad')]).toEqual([true, false]);
    expect([isSeverity('critical'), isSeverity('urgent')]).toEqual([true, false]);
    expect([isTier('A'), isTier('B'), isTier('C'), isTier('D'), isTier('a')]).toEqual([true, true, true, false, false]);
  });
});

describe('moment catalogue from configuration', () => {
  it('adds extra kinds after the built-in ones', () => {
    const catalogue = createMomentCatalogue(['delivery', 'installation_2']);
    expect(catalogue.kinds).toEqual([...builtInMomentKinds, 'delivery', 'installation_2']);
    expect(isMomentKind(catalogue, 'delivery')).toBe(true);
    expect(isMomentKind(defaultMomentCatalogue, 'delivery')).toBe(false);
  });

  it('ignores extra kinds that repeat a built-in kind or each other', () => {
    expect(createMomentCatalogue(['billing', 'delivery', 'delivery']).kinds).toEqual([...builtInMomentKinds, 'delivery']);
  });

  it('rejects kind names that are not snake_case, naming each by position', () => {
    let thrown: unknown;
    try {
      createMomentCatalogue(['delivery', 'Delivery', '2fa', 'after-sales', '', 'x'.repeat(65)]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainValidationError);
    expect((thrown as DomainValidationError).issues.map((issue) => issue.field)).toEqual([
      'extraKinds[1]',
      'extraKinds[2]',
      'extraKinds[3]',
      'extraKinds[4]',
      'extraKinds[5]',
    ]);
  });

  it('cannot be changed after it is built', () => {
    const catalogue = createMomentCatalogue(['delivery']);
    expect(() => (catalogue.kinds as string[]).push('hack')).toThrow(TypeError);
    expect(isMomentKind(catalogue, 'hack')).toBe(false);
  });
});
