/**
 * The metrics and health server: the agent's metric names, job-process pushes summed into /metrics
 * (finished jobs folded in, counters never going backwards), loopback-only pushes, health and readiness.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/src/logger.ts';
import { createAgentMetrics } from '../src/metrics.ts';
import { type MetricsServer, startJobMetricsPush, startMetricsServer } from '../src/metrics-server.ts';

const logger = createLogger({ level: 'silent', service: 'agent-test' });
let server: MetricsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found === undefined ? undefined : Number(found.split(' ').at(-1));
}

describe('metrics server', () => {
  it('serves the agent metrics, health and readiness', async () => {
    const main = createAgentMetrics();
    let ready = true;
    server = await startMetricsServer({ port: 0, registry: main.registry, logger, isReady: () => ready });
    main.activeCalls.set(3);
    const base = `http://127.0.0.1:${server.port}`;

    const text = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'riva_tts_first_audio_seconds',
      'riva_asr_final_latency_seconds',
      'agent_voice_to_voice_seconds',
      'agent_call_events_total',
      'agent_errors_total',
      'agent_riva_reconnects_total',
      'agent_audio_dropped_seconds_total',
      'agent_active_calls',
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect(sample(text, 'agent_active_calls')).toBe(3);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    ready = false;
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('sums what job processes push, and keeps finished jobs in the totals', async () => {
    const main = createAgentMetrics();
    server = await startMetricsServer({ port: 0, registry: main.registry, logger });
    const job = createAgentMetrics();
    job.callEvent('started');
    job.voiceToVoice.observe(0.42);
    job.rivaReconnects.inc(2);
    const push = startJobMetricsPush({ registry: job.registry, port: server.port, intervalMs: 50 });
    await new Promise((r) => setTimeout(r, 200));

    let text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(sample(text, 'agent_call_events_total{event="started"')).toBe(1);
    expect(sample(text, 'agent_voice_to_voice_seconds_count')).toBe(1);
    expect(sample(text, 'agent_riva_reconnects_total')).toBe(2);

    job.callEvent('ended_goodbye');
    await push.stop(); // final push: folded into the retired totals
    const second = createAgentMetrics();
    second.callEvent('started');
    const push2 = startJobMetricsPush({ registry: second.registry, port: server.port, intervalMs: 50 });
    await new Promise((r) => setTimeout(r, 200));
    text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(sample(text, 'agent_call_events_total{event="started"')).toBe(2);
    expect(sample(text, 'agent_call_events_total{event="ended_goodbye"')).toBe(1);
    expect(sample(text, 'agent_voice_to_voice_seconds_count')).toBe(1);
    await push2.stop();
  });
});
