/** One sample line of the Prometheus text format. */
export type Sample = { name: string; labels: Record<string, string>; value: number };

export type Exposition = {
  help: Map<string, string>;
  types: Map<string, string>;
  samples: Sample[];
};

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value in ${JSON.stringify(line)}`);
  return Number(text);
}

function unescape(text: string, allowed: string, line: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => {
    if (!allowed.includes(c)) throw new Error(`bad escape \\${c} in ${JSON.stringify(line)}`);
    return c === 'n' ? '\n' : c;
  });
}

/**
 * Parses the text exposition format 0.0.4 strictly (for tests and tools): HELP and TYPE lines,
 * samples with escaped label values and an optional timestamp. Throws on anything malformed, on a
 * sample whose family has no TYPE before it, and on a family declared twice.
 */
export function parseExposition(text: string): Exposition {
  const result: Exposition = { help: new Map(), types: new Map(), samples: [] };
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      const target = kind === 'HELP' ? result.help : result.types;
      if (target.has(name)) throw new Error(`${kind} of ${name} given twice`);
      if (kind === 'TYPE' && !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad TYPE in ${JSON.stringify(line)}`);
      target.set(name, kind === 'HELP' ? unescape(rest, '\\n', line) : rest);
      continue;
    }
    if (line.startsWith('#')) continue;

    const name = NAME.exec(line)?.[0];
    if (!name) throw new Error(`bad sample ${JSON.stringify(line)}`);
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      while (!rest.startsWith('}')) {
        const label = LABEL.exec(rest)?.[0];
        if (!label || rest[label.length] !== '=' || rest[label.length + 1] !== '"') throw new Error(`bad label in ${JSON.stringify(line)}`);
        rest = rest.slice(label.length + 2);
        let end = 0;
        while (end < rest.length && rest[end] !== '"') end += rest[end] === '\\' ? 2 : 1;
        if (end >= rest.length) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
        if (label in labels) throw new Error(`label ${label} twice in ${JSON.stringify(line)}`);
        labels[label] = unescape(rest.slice(0, end), '\\"n', line);
        rest = rest.slice(end + 1);
        if (rest.startsWith(',')) rest = rest.slice(1);
        else if (!rest.startsWith('}')) throw new Error(`bad label list in ${JSON.stringify(line)}`);
      }
      rest = rest.slice(1);
    }
    const fields = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
    if (!fields) throw new Error(`bad sample ${JSON.stringify(line)}`);
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => result.types.has(n));
    if (!family) throw new Error(`sample ${name} has no TYPE before it`);
    result.samples.push({ name, labels, value: parseValue(fields[1], line) });
  }
  return result;
}

/** The samples named `name` whose labels include `labels`. */
export function samplesOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
