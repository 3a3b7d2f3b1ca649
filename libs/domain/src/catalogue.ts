import { validate, when } from './validation.js';

export const builtInMomentKinds = [
  'information',
  'advice',
  'order_received',
  'hospitality',
  'belongings_care',
  'incident',
  'billing',
  'payment',
] as const;
export type BuiltInMomentKind = (typeof builtInMomentKinds)[number];
/** A built-in kind or one a company configured; check it against a MomentCatalogue. */
export type MomentKind = string;

export const channelGroups = ['personal', 'telephone', 'print', 'electronic'] as const;
export type ChannelGroup = (typeof channelGroups)[number];

const groupOfChannel = {
  in_person: 'personal',
  branch: 'personal',
  sales_visit: 'personal',
  phone: 'telephone',
  letter: 'print',
  form: 'print',
  email: 'electronic',
  web: 'electronic',
  chat: 'electronic',
  app: 'electronic',
  social: 'electronic',
} as const satisfies Record<string, ChannelGroup>;

export type Channel = keyof typeof groupOfChannel;
export const channels = Object.keys(groupOfChannel) as readonly Channel[];

export function channelGroup(channel: Channel): ChannelGroup {
  return groupOfChannel[channel];
}

export const outcomes = ['positive', 'neutral', 'negative'] as const;
export type Outcome = (typeof outcomes)[number];

export const severities = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof severities)[number];

/** The ABC pyramid: A = VIP, B = active/medium, C = the rest (every customer starts here). */
export const tiers = ['A', 'B', 'C'] as const;
export type Tier = (typeof tiers)[number];
export const defaultTier: Tier = 'C';

const isOneOf =
  <T extends string>(values: readonly T[]) =>
  (value: unknown): value is T =>
    typeof value === 'string' && (values as readonly string[]).includes(value);

export const isChannel = isOneOf(channels);
export const isOutcome = isOneOf(outcomes);
export const isSeverity = isOneOf(severities);
export const isTier = isOneOf(tiers);

/** The moment kinds one company records: the eight built-in kinds plus its configured extras. */
export type MomentCatalogue = {
  /** Built-in kinds first, then the extras in configuration order, without repeats. */
  readonly kinds: readonly MomentKind[];
};

const MOMENT_KIND = /^[a-z][a-z0-9_]*$/;
const MAX_KIND_LENGTH = 64;

/**
 * Builds the catalogue from configuration. Extra kinds are snake_case names; naming a built-in
 * kind again, or one extra twice, is harmless and ignored.
 */
export function createMomentCatalogue(extraKinds: readonly string[] = []): MomentCatalogue {
  validate(
    ...extraKinds.map((kind, index) =>
      when(
        typeof kind !== 'string' || !MOMENT_KIND.test(kind) || kind.length > MAX_KIND_LENGTH,
        `extraKinds[${index}]`,
        `must match ${MOMENT_KIND.source} and be at most ${MAX_KIND_LENGTH} characters`,
      ),
    ),
  );
  return Object.freeze({ kinds: Object.freeze([...new Set<string>([...builtInMomentKinds, ...extraKinds])]) });
}

export const defaultMomentCatalogue: MomentCatalogue = createMomentCatalogue();

export function isMomentKind(catalogue: MomentCatalogue, kind: unknown): kind is MomentKind {
  return typeof kind === 'string' && catalogue.kinds.includes(kind);
}
