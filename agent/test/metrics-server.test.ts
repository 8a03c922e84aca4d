/**
 * The metrics and health server: the agent's metric names, job-process pushes summed into /metrics
 * (finished jobs folded in, counters never going backwards), loopback-only pushes, health and readiness;
 * pushes checked and bounded before they are kept, and a finished job's series dropped.
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

describe('job metrics pushes', () => {
  const post = async (port: number, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}/internal/job-metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const scrape = async (port: number) => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };
  const jobPush = async (job: ReturnType<typeof createAgentMetrics>, pid: number, final = false) => ({
    pid,
    final,
    metrics: await job.registry.getMetricsAsJSON(),
  });
  const counterPush = (pid: number, metric: Record<string, unknown>) => ({
    pid,
    final: false,
    metrics: [
      { name: 'job_things_total', help: 'h', type: 'counter', aggregator: 'sum', values: [], ...metric },
    ],
  });

  it('refuses malformed pushes with 400, and /metrics keeps working for everyone', async () => {
    const main = createAgentMetrics();
    main.activeCalls.set(1);
    server = await startMetricsServer({ port: 0, registry: main.registry, logger });
    const malformed: unknown[] = [
      'not json',
      { pid: 7, final: false },
      { pid: -1, final: false, metrics: [] },
      counterPush(7, { values: [{ value: null, labels: {} }] }),
      counterPush(7, { aggregator: 'bogus' }),
      counterPush(7, { name: '1-bad name' }),
      counterPush(7, { values: [{ value: 1, labels: { 'bad-label': 'x' } }] }),
      counterPush(7, { values: [{ value: 1, labels: {}, metricName: 'other_metric' }] }),
      // A name the main process already uses as a gauge, pushed as a counter.
      counterPush(7, { name: 'agent_active_calls' }),
      { pid: 7, final: false, metrics: [counterPush(7, {}).metrics[0], counterPush(7, {}).metrics[0]] },
    ];
    for (const body of malformed) {
      expect(await post(server.port, body), JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(sample(await scrape(server.port), 'agent_active_calls')).toBe(1);
    }
    const job = createAgentMetrics();
    job.callEvent('started');
    expect(await post(server.port, await jobPush(job, 7))).toBe(204);
    const text = await scrape(server.port);
    expect(sample(text, 'agent_call_events_total{event="started"')).toBe(1);
    expect(sample(text, 'agent_active_calls')).toBe(1);
  });

  it('bounds the number of pushers and the size of a push', async () => {
    const main = createAgentMetrics();
    server = await startMetricsServer({
      port: 0,
      registry: main.registry,
      logger,
      pushLimits: { maxPushers: 3, maxBytes: 20_000 },
    });
    const job = createAgentMetrics();
    job.callEvent('started');
    for (const pid of [101, 102, 103]) expect(await post(server.port, await jobPush(job, pid))).toBe(204);
    expect(await post(server.port, await jobPush(job, 104))).toBe(429);
    // A known pusher may still update; a job that ends frees its place.
    expect(await post(server.port, await jobPush(job, 103))).toBe(204);
    expect(await post(server.port, await jobPush(job, 102, true))).toBe(204);
    expect(await post(server.port, await jobPush(job, 104))).toBe(204);
    const big = counterPush(105, { help: 'x'.repeat(30_000) });
    expect(await post(server.port, big)).toBe(413);
    expect(sample(await scrape(server.port), 'agent_call_events_total{event="started"')).toBe(4);
  });

  it("drops a job's series when it ends: its gauges go, its counters stay in the totals", async () => {
    let clock = 1_000_000;
    const main = createAgentMetrics();
    main.activeCalls.set(1);
    server = await startMetricsServer({
      port: 0,
      registry: main.registry,
      logger,
      now: () => clock,
      pushLimits: { staleMs: 30_000 },
    });
    const ending = createAgentMetrics();
    ending.activeCalls.set(1);
    ending.callEvent('started');
    const crashing = createAgentMetrics();
    crashing.activeCalls.set(1);
    crashing.callEvent('started');
    const removed = createAgentMetrics();
    removed.activeCalls.set(1);
    removed.callEvent('started');
    expect(await post(server.port, await jobPush(ending, 201))).toBe(204);
    expect(await post(server.port, await jobPush(crashing, 202))).toBe(204);
    expect(await post(server.port, await jobPush(removed, 203))).toBe(204);
    let text = await scrape(server.port);
    expect(sample(text, 'agent_active_calls')).toBe(4);
    expect(sample(text, 'agent_call_events_total{event="started"')).toBe(3);

    ending.activeCalls.set(0);
    ending.callEvent('ended_goodbye');
    expect(await post(server.port, await jobPush(ending, 201, true))).toBe(204);
    await server.endJob(203);
    text = await scrape(server.port);
    expect(sample(text, 'agent_active_calls')).toBe(2);
    expect(sample(text, 'agent_call_events_total{event="started"')).toBe(3);
    expect(sample(text, 'agent_call_events_total{event="ended_goodbye"')).toBe(1);

    // The crashed job never sends a final push: after staleMs of silence its series go too.
    clock += 30_001;
    text = await scrape(server.port);
    expect(sample(text, 'agent_active_calls')).toBe(1);
    expect(sample(text, 'agent_call_events_total{event="started"')).toBe(3);
  });
});
