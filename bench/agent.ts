/**
 * Agent benchmark: `npx tsx bench/agent.ts [--calls 1,5,10,20]`
 *
 * Runs N simultaneous simulated calls (the production call session, sample caller, scripted flow,
 * 300 ms endpoint window) in this process against the CPU speech server in a child process, so the
 * CPU and memory measured here are the agent's alone. Prints a progress line per run, a table, and a
 * JSON line: voice-to-voice p50/p95 and its parts, CPU cores and RSS per concurrent call.
 *
 * Targets: agent's own share of voice-to-voice ≤ 20 ms p95; voice-to-voice ≤ 600 ms p95; ≤ 0.02 core
 * and ≤ 100 MB per call.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initializeLogger } from '@livekit/agents';
import { dispose } from '@livekit/rtc-node';
import { createScriptedBrain } from '../agent/src/brains/reply-brain.ts';
import { loadFlowFile } from '../agent/src/brains/scripted-flow.ts';
import type { CallSettings } from '../agent/src/call-session.ts';
import { loadAgentConfig } from '../agent/src/config.ts';
import { rivaSettingsFromConfig } from '../agent/src/riva.ts';
import { callSettingsFromConfig, loadCallVad } from '../agent/src/runtime.ts';
import { startLocalSpeechServer } from '../agent/src/simulate/local-speech-server.ts';
import { runSimulatedCall, type SimulatedCallResult } from '../agent/src/simulate/simulated-call.ts';
import { readWavFile } from '../agent/src/simulate/wav.ts';
import { createLogger } from '../common/src/logger.ts';
import { formatTable } from './support/report.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);

const { values } = parseArgs({ options: { calls: { type: 'string', default: '1,5,10,20' } } });
const callCounts = values.calls
  .split(',')
  .map((v) => Number.parseInt(v.trim(), 10))
  .filter((n) => Number.isFinite(n) && n > 0);

const defaultConfig = loadAgentConfig({});
const settings: CallSettings = callSettingsFromConfig(defaultConfig);

interface RunFigures {
  calls: number;
  completed: number;
  turns: number;
  v2v_ms: { p50: number | null; p95: number | null };
  end_of_speech_to_final_ms: { p50: number | null; p95: number | null };
  agent_share_ms: { p50: number | null; p95: number | null };
  tts_first_audio_ms: { p50: number | null; p95: number | null };
  cpu_cores_total: number;
  cpu_cores_per_call: number;
  rss_mb_baseline: number;
  rss_mb_peak: number;
  rss_mb_per_call: number;
  wall_s: number;
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}

function spread(values: number[]) {
  return { p50: percentile(values, 50), p95: percentile(values, 95) };
}

async function main(): Promise<void> {
  initializeLogger({ pretty: false, level: 'error' });
  const logger = createLogger({ level: 'error', service: 'bench-agent' });
  const maxCalls = Math.max(...callCounts);
  const speech = await startLocalSpeechServer({ mode: 'child', maxStreams: maxCalls * 3 + 4 });
  const flow = loadFlowFile(resolve(ROOT, 'agent/flows/sample-flow.yaml'));
  const brain = createScriptedBrain(flow);
  const caller = readWavFile(resolve(ROOT, 'agent/assets/sample-caller.wav'));
  const vad = await loadCallVad(settings);
  const riva = rivaSettingsFromConfig(defaultConfig, speech.url, []);

  // One warm-up call so module loading and first-use costs are not billed to the first run.
  console.log('warm-up call…');
  await runSimulatedCall({ caller, brain, riva, settings, vad, logger });

  const results: RunFigures[] = [];
  try {
    for (const n of callCounts) {
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const cpuStart = process.cpuUsage();
      const started = performance.now();
      let done = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
        const elapsed = ((performance.now() - started) / 1000).toFixed(1);
        process.stdout.write(
          `\r[${n} calls] ${done}/${n} done, ${elapsed} s, rss ${(peak / 2 ** 20).toFixed(0)} MB   `,
        );
      }, 250);
      const calls: Array<Promise<SimulatedCallResult | undefined>> = [];
      for (let i = 0; i < n; i++) {
        calls.push(
          runSimulatedCall({ callId: `bench-${n}-${i}`, caller, brain, riva, settings, vad, logger })
            .catch(() => undefined)
            .finally(() => {
              done++;
            }),
        );
      }
      const finished = (await Promise.all(calls)).filter((r): r is SimulatedCallResult => r !== undefined);
      clearInterval(sampler);
      const wallMs = performance.now() - started;
      const cpu = process.cpuUsage(cpuStart);
      const cores = (cpu.user + cpu.system) / 1000 / wallMs;
      const turns = finished.flatMap((r) => r.turns);
      const pick = (key: 'voice_to_voice' | 'end_of_speech_to_final' | 'reply' | 'tts_first_audio') =>
        turns.map((t) => t.latency_ms[key]).filter((v): v is number => v !== null);
      const figures: RunFigures = {
        calls: n,
        completed: finished.filter((r) => r.endReason === 'goodbye').length,
        turns: turns.length,
        v2v_ms: spread(pick('voice_to_voice')),
        end_of_speech_to_final_ms: spread(pick('end_of_speech_to_final')),
        agent_share_ms: spread(pick('reply')),
        tts_first_audio_ms: spread(pick('tts_first_audio')),
        cpu_cores_total: Number(cores.toFixed(3)),
        cpu_cores_per_call: Number((cores / n).toFixed(4)),
        rss_mb_baseline: Math.round(baseline / 2 ** 20),
        rss_mb_peak: Math.round(peak / 2 ** 20),
        rss_mb_per_call: Number(((peak - baseline) / 2 ** 20 / n).toFixed(1)),
        wall_s: Number((wallMs / 1000).toFixed(1)),
      };
      results.push(figures);
      process.stdout.write(
        `\r[${n} calls] done in ${figures.wall_s} s: v2v p95 ${figures.v2v_ms.p95} ms, ${figures.cpu_cores_per_call} core/call\n`,
      );
    }
  } finally {
    await speech.stop();
  }

  const header = [
    'calls',
    'ok',
    'v2v p50',
    'v2v p95',
    'EOS→final p95',
    'agent p95',
    'TTS 1st p95',
    'core/call',
    'MB/call',
    'RSS peak',
  ];
  const rows = results.map((r) => [
    String(r.calls),
    `${r.completed}/${r.calls}`,
    String(r.v2v_ms.p50 ?? '—'),
    String(r.v2v_ms.p95 ?? '—'),
    String(r.end_of_speech_to_final_ms.p95 ?? '—'),
    String(r.agent_share_ms.p95 ?? '—'),
    String(r.tts_first_audio_ms.p95 ?? '—'),
    r.cpu_cores_per_call.toFixed(3),
    r.rss_mb_per_call.toFixed(1),
    `${r.rss_mb_peak} MB`,
  ]);
  console.log(`\n${formatTable(header, rows, true)}`);
  console.log(
    '\nms unless noted; targets: agent share p95 ≤ 20 ms, v2v p95 ≤ 600 ms, ≤ 0.02 core and ≤ 100 MB per call',
  );
  console.log(JSON.stringify({ benchmark: 'agent', runs: results }));
}

main()
  .then(async () => {
    await dispose();
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    console.error(err);
    await dispose().catch(() => undefined);
    process.exit(1);
  });
