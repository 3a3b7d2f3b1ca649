import { parseExposition, samplesOf } from './exposition.parser.js';
import { escapeLabelValue, formatValue, MetricsRegistry } from './metrics.registry.js';

describe('metrics registry: text exposition format 0.0.4', () => {
  it('renders HELP, TYPE and one line per labelled series, which parse back to the same values', async () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter({ name: 'spec_requests_total', help: 'Requests.', labelNames: ['method', 'code'] });
    requests.inc({ method: 'GET', code: 200 });
    requests.inc({ method: 'GET', code: 200 }, 2);
    requests.inc({ method: 'POST', code: '202' }, 0.5);
    const text = await registry.exposition();

    expect(text).toBe(
      [
        '# HELP spec_requests_total Requests.',
        '# TYPE spec_requests_total counter',
        'spec_requests_total{method="GET",code="200"} 3',
        'spec_requests_total{method="POST",code="202"} 0.5',
        '',
      ].join('\n'),
    );
    const parsed = parseExposition(text);
    expect(parsed.types.get('spec_requests_total')).toBe('counter');
    expect(parsed.help.get('spec_requests_total')).toBe('Requests.');
    // 1 + 2 = 3 for GET 200; 0.5 for POST 202.
    expect(parsed.samples).toEqual([
      { name: 'spec_requests_total', labels: { method: 'GET', code: '200' }, value: 3 },
      { name: 'spec_requests_total', labels: { method: 'POST', code: '202' }, value: 0.5 },
    ]);
  });

  it('escapes backslashes, double quotes and line feeds in label values, and backslashes and line feeds in HELP', async () => {
    const registry = new MetricsRegistry();
    const nasty = 'C:\\temp "quoted"\nnext line ünïcode';
    registry.gauge({ name: 'spec_escaping', help: 'Help with a \\ backslash\nand a second line.', labelNames: ['value'] }).set({ value: nasty }, 1);
    const text = await registry.exposition();

    expect(escapeLabelValue(nasty)).toBe('C:\\\\temp \\"quoted\\"\\nnext line ünïcode');
    expect(text).toContain('# HELP spec_escaping Help with a \\\\ backslash\\nand a second line.\n');
    expect(text).toContain('spec_escaping{value="C:\\\\temp \\"quoted\\"\\nnext line ünïcode"} 1\n');
    // Every sample is on one line: 3 lines for HELP, TYPE and the sample, plus the final line feed.
    expect(text.split('\n')).toHaveLength(4);
    const parsed = parseExposition(text);
    expect(parsed.samples[0].labels.value).toBe(nasty);
    expect(parsed.help.get('spec_escaping')).toBe('Help with a \\ backslash\nand a second line.');
  });

  it('counts a histogram into cumulative buckets, le inclusive, with +Inf, _sum and _count', async () => {
    const registry = new MetricsRegistry();
    const latency = registry.histogram({ name: 'spec_latency_seconds', help: 'Latency.', labelNames: ['op'], buckets: [0.1, 0.5, 1] });
    for (const value of [0.05, 0.1, 0.3, 0.7, 2]) latency.observe({ op: 'read' }, value);
    latency.observe({ op: 'write' }, 0.5);
    const parsed = parseExposition(await registry.exposition());

    const buckets = samplesOf(parsed, 'spec_latency_seconds_bucket', { op: 'read' }).map((s) => [s.labels.le, s.value]);
    // le=0.1: 0.05 and 0.1 (on the bound) = 2; le=0.5: + 0.3 = 3; le=1: + 0.7 = 4; +Inf: + 2 = 5.
    expect(buckets).toEqual([['0.1', 2], ['0.5', 3], ['1', 4], ['+Inf', 5]]);
    // 0.05 + 0.1 + 0.3 + 0.7 + 2 = 3.15
    expect(samplesOf(parsed, 'spec_latency_seconds_sum', { op: 'read' })[0].value).toBeCloseTo(3.15, 10);
    expect(samplesOf(parsed, 'spec_latency_seconds_count', { op: 'read' })[0].value).toBe(5);
    // 0.5 lies on a bound: counted in le=0.5 and every bucket above, not in le=0.1.
    expect(samplesOf(parsed, 'spec_latency_seconds_bucket', { op: 'write' }).map((s) => s.value)).toEqual([0, 1, 1, 1]);
    expect(parsed.types.get('spec_latency_seconds')).toBe('histogram');
    for (const op of ['read', 'write']) {
      const values = samplesOf(parsed, 'spec_latency_seconds_bucket', { op }).map((s) => s.value);
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
  });

  it('runs collect callbacks at each scrape, and leaves out a metric whose collect fails, keeping the others', async () => {
    const failures: string[] = [];
    const registry = new MetricsRegistry({ onCollectError: (metric) => failures.push(metric) });
    let reads = 0;
    registry.gauge({ name: 'spec_reads', help: 'Reads.', collect: (gauge) => gauge.set(undefined, ++reads) });
    registry.gauge({
      name: 'spec_broken',
      help: 'Broken.',
      collect: () => {
        throw new Error('database down');
      },
    });
    const first = parseExposition(await registry.exposition());
    const second = parseExposition(await registry.exposition());

    expect(samplesOf(first, 'spec_reads')[0].value).toBe(1);
    expect(samplesOf(second, 'spec_reads')[0].value).toBe(2);
    expect(first.types.has('spec_broken')).toBe(false);
    expect(failures).toEqual(['spec_broken', 'spec_broken']);
  });

  it('shows a counter without labels at 0 before anything happened, and a labelled one only once it has a series', async () => {
    const registry = new MetricsRegistry();
    registry.counter({ name: 'spec_plain_total', help: 'Plain.' });
    registry.counter({ name: 'spec_labelled_total', help: 'Labelled.', labelNames: ['kind'] });
    const parsed = parseExposition(await registry.exposition());
    expect(parsed.samples).toEqual([{ name: 'spec_plain_total', labels: {}, value: 0 }]);
    expect(parsed.types.get('spec_labelled_total')).toBe('counter');
  });

  it('writes special values as Prometheus does', () => {
    expect([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 0.25, 1e-7, 12].map(formatValue)).toEqual(['+Inf', '-Inf', 'NaN', '0.25', '1e-7', '12']);
    const parsed = parseExposition('# TYPE x gauge\nx +Inf\nx{a="1"} 1e-7 1700000000000\n');
    expect(parsed.samples.map((s) => s.value)).toEqual([Number.POSITIVE_INFINITY, 1e-7]);
  });

  it('refuses what would render a broken exposition', () => {
    const registry = new MetricsRegistry();
    expect(() => registry.counter({ name: 'bad-name', help: '' })).toThrow(/invalid metric name/);
    expect(() => registry.counter({ name: 'spec_x_total', help: '', labelNames: ['__reserved'] })).toThrow(/invalid label name/);
    expect(() => registry.histogram({ name: 'spec_h', help: '', labelNames: ['le'], buckets: [1] })).toThrow(/invalid label name/);
    expect(() => registry.histogram({ name: 'spec_h', help: '', buckets: [1, 1] })).toThrow(/must increase/);
    const counter = registry.counter({ name: 'spec_c_total', help: '', labelNames: ['a'] });
    expect(() => counter.inc({ a: 'x' }, -1)).toThrow(/only goes up/);
    expect(() => counter.inc({} as { a: string })).toThrow(/label a is missing/);
    expect(() => counter.inc({ a: 'x', b: 'y' } as { a: string })).toThrow(/exactly a/);
    registry.histogram({ name: 'spec_dup', help: '', buckets: [1] });
    expect(() => registry.counter({ name: 'spec_c_total', help: '' })).toThrow(/already registered/);
    expect(() => registry.gauge({ name: 'spec_dup_count', help: '' })).toThrow(/already registered/);
  });

  it('has a parser that rejects malformed input (so the tests above prove something)', () => {
    expect(() => parseExposition('x 1\n')).toThrow(/no TYPE/);
    expect(() => parseExposition('# TYPE x gauge\nx{a="1} 1\n')).toThrow(/unterminated/);
    expect(() => parseExposition('# TYPE x gauge\nx{a="\\t"} 1\n')).toThrow(/bad escape/);
    expect(() => parseExposition('# TYPE x gauge\nx one\n')).toThrow(/bad value/);
    expect(() => parseExposition('# TYPE x gauge\nx 1')).toThrow(/line feed/);
    expect(() => parseExposition('# TYPE x gauge\n# TYPE x counter\n')).toThrow(/twice/);
  });
});
