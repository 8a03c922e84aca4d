import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../src/http-retry.ts';
import { counter, createMetricsRegistry, histogram, renderMetrics } from '../src/metrics.ts';

describe('metrics registry', () => {
  it('returns the same metric when asked twice and renders the text format', async () => {
    const registry = createMetricsRegistry({ service: 'test' });
    const a = counter(registry, { name: 'calls_total', help: 'calls', labelNames: ['result'] });
    const b = counter(registry, { name: 'calls_total', help: 'calls', labelNames: ['result'] });
    expect(a).toBe(b);
    a.inc({ result: 'ok' });
    histogram(registry, { name: 'lat_seconds', help: 'latency', buckets: [0.1, 1] }).observe(0.05);
    const { body, contentType } = await renderMetrics(registry);
    expect(contentType).toContain('text/plain');
    expect(body).toContain('calls_total{result="ok",service="test"} 1');
    expect(body).toContain('lat_seconds_bucket{le="0.1",service="test"} 1');
  });
});

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap, with jitter in the upper half', () => {
    const opts = { initialMs: 100, maxMs: 1000 };
    expect(backoffDelayMs(0, opts, () => 0)).toBe(50);
    expect(backoffDelayMs(0, opts, () => 1)).toBe(100);
    expect(backoffDelayMs(3, opts, () => 1)).toBe(800);
    expect(backoffDelayMs(10, opts, () => 1)).toBe(1000);
  });
});
