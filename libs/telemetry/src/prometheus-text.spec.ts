import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { parsePrometheusText, PrometheusTextError } from './prometheus-text';

describe('parsePrometheusText', () => {
  it('reads samples, labels, special values and ignores comments and timestamps', () => {
    const text = [
      '# HELP invalidator_events_consumed_total Messages read',
      '# TYPE invalidator_events_consumed_total counter',
      'invalidator_events_consumed_total 1027',
      'invalidator_events_dead_lettered_total{reason="BAD_JSON"} 3 1700000000000',
      'x_bucket{le="+Inf",a = "b" } +Inf',
      'y NaN',
      'z -1.5e-3',
      '',
    ].join('\n');
    const samples = parsePrometheusText(text);
    expect(samples).toHaveLength(5);
    expect(samples[0]).toEqual({ name: 'invalidator_events_consumed_total', labels: {}, value: 1027 });
    expect(samples[1]).toEqual({ name: 'invalidator_events_dead_lettered_total', labels: { reason: 'BAD_JSON' }, value: 3 });
    expect(samples[2]).toEqual({ name: 'x_bucket', labels: { le: '+Inf', a: 'b' }, value: Number.POSITIVE_INFINITY });
    expect(samples[3].value).toBeNaN();
    expect(samples[4].value).toBe(-0.0015);
  });

  it('unescapes quotes, backslashes and newlines in label values', () => {
    const [s] = parsePrometheusText('m{path="C:\\\\tmp",msg="say \\"hi\\"\\nbye"} 1');
    expect(s.labels).toEqual({ path: 'C:\\tmp', msg: 'say "hi"\nbye' });
  });

  it('names the line it cannot read', () => {
    expect(() => parsePrometheusText('ok 1\nbroken{le="1" 2')).toThrow(PrometheusTextError);
    expect(() => parsePrometheusText('ok 1\nbroken{le="1" 2')).toThrow(/line 2/);
    expect(() => parsePrometheusText('m twelve')).toThrow(/not a number/);
  });

  it('reads back exactly what prom-client writes, whatever the label values (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.string(), fc.nat(1_000_000)), { minLength: 1, maxLength: 8 }), async (entries) => {
        const registry = new Registry();
        const counter = new Counter({ name: 'c_total', help: 'h', labelNames: ['reason'], registers: [registry] });
        const expected = new Map<string, number>();
        for (const [reason, n] of entries) {
          counter.inc({ reason }, n);
          expected.set(reason, (expected.get(reason) ?? 0) + n);
        }
        const read = new Map(parsePrometheusText(await registry.metrics()).map((s) => [s.labels.reason, s.value]));
        expect(read).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it('reads a prom-client histogram', async () => {
    const registry = new Registry();
    const h = new Histogram({ name: 'lat_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] });
    h.observe(0.05);
    h.observe(0.5);
    const buckets = parsePrometheusText(await registry.metrics()).filter((s) => s.name === 'lat_seconds_bucket');
    expect(buckets.map((b) => [b.labels.le, b.value])).toEqual([
      ['0.1', 1],
      ['1', 2],
      ['+Inf', 2],
    ]);
  });

  it('reads prom-client\'s "Nan" spelling (empty event-loop histogram) like Prometheus does', () => {
    const [lag, inf] = parsePrometheusText('nodejs_eventloop_lag_mean_seconds Nan\nbig_bucket{le="+inf"} 3\nx -inf\n');
    expect(lag.value).toBeNaN();
    expect(inf.labels.le).toBe('+inf');
  });
});
