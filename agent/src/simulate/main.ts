/**
 * `npm run simulate -- --caller <wav> --out <dir> [--flow <file>]`
 *
 * A whole call on this machine: the caller's WAV (any rate; PCM16, μ-law or A-law) is fed at real-time
 * pace into the same call session the LiveKit worker runs, against RIVA_URL or, when that is unset, a
 * Riva-compatible CPU speech server started in this process. Prints the live transcript and a latency
 * table; writes summary.json, agent.wav and mix.wav. With no arguments it uses the shipped sample
 * caller and sample flow and writes to ./out/simulate.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { dispose } from '@livekit/rtc-node';
import { ConfigError } from '../../../common/src/config.ts';
import { createLogger } from '../../../common/src/logger.ts';
import { createLlmBrain, createScriptedBrain, type ReplyBrain } from '../brains/reply-brain.ts';
import { FlowError, loadFlowFile } from '../brains/scripted-flow.ts';
import { type AgentConfig, loadAgentConfig } from '../config.ts';
import { rivaSettingsFromConfig } from '../riva.ts';
import { callSettingsFromConfig, initAgentsLogger, loadCallVad } from '../runtime.ts';
import { startLocalSpeechServer } from './local-speech-server.ts';
import { buildSummary, formatLatencyTable, writeSimulationOutputs } from './report.ts';
import { runSimulatedCall } from './simulated-call.ts';
import { readWavFile, WavError } from './wav.ts';

const AGENT_DIR = resolve(new URL('../..', import.meta.url).pathname);
const DEFAULT_CALLER = resolve(AGENT_DIR, 'assets/sample-caller.wav');
const DEFAULT_FLOW = resolve(AGENT_DIR, 'flows/sample-flow.yaml');

const USAGE = `usage: npm run simulate -- [--caller <wav>] [--out <dir>] [--flow <file>] [--barge-in]

  --caller   caller audio, any WAV (PCM 8-32 bit, float, mu-law, A-law; any rate)  [agent/assets/sample-caller.wav]
  --out      output directory for summary.json, agent.wav, mix.wav                 [./out/simulate]
  --flow     scripted call flow, YAML or JSON (ignored when BRAIN=llm)            [FLOW_FILE or agent/flows/sample-flow.yaml]
  --barge-in start the caller's audio with the greeting instead of after it

Riva: RIVA_URL if set, else a local CPU speech server is started for the call.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      caller: { type: 'string' },
      out: { type: 'string' },
      flow: { type: 'string' },
      'barge-in': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadAgentConfig(process.env);
  const logger = createLogger({
    level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
    service: 'simulate',
  });
  // The framework's own warnings (e.g. "VAD inference is slower than realtime" on a busy machine) would
  // drown the live transcript; LOG_LEVEL=warn or lower shows them.
  initAgentsLogger(config.LOG_LEVEL === 'info' ? 'error' : config.LOG_LEVEL);

  const callerFile = resolve(values.caller ?? DEFAULT_CALLER);
  const flowFile = resolve(values.flow ?? (process.env.FLOW_FILE ? config.FLOW_FILE : DEFAULT_FLOW));
  const outDir = resolve(values.out ?? 'out/simulate');
  const caller = readWavFile(callerFile);
  const flow = loadFlowFile(flowFile);
  const brain = makeBrain(config, flow);

  // A child process, not in-process: its decoders' native calls would share this process's libuv thread
  // pool with Silero VAD and, on a busy machine, delay voice activity detection by seconds.
  const speechServer = config.RIVA_URL ? undefined : await startLocalSpeechServer({ mode: 'child' });
  const rivaUrl = config.RIVA_URL ?? speechServer!.url;
  const settings = callSettingsFromConfig(config);
  process.stdout.write(
    `simulated call: caller ${rel(callerFile)} (${caller.sampleRate} Hz, ${(caller.samples.length / caller.sampleRate).toFixed(1)} s), ` +
      `flow ${rel(flowFile)}, brain ${brain.kind}, Riva ${rivaUrl}${speechServer ? ' (local CPU speech server)' : ''}\n\n`,
  );
  try {
    const vad = await loadCallVad(settings);
    const result = await runSimulatedCall({
      caller,
      brain,
      riva: rivaSettingsFromConfig(
        config,
        rivaUrl,
        config.RIVA_BOOST_FLOW_PHRASES ? flow.boostPhrases() : [],
      ),
      settings,
      vad,
      logger,
      callerStart: values['barge-in'] ? 'with-greeting' : 'after-greeting',
      onTranscript: (line) => {
        const who = line.speaker === 'caller' ? 'caller' : 'agent ';
        const cut = line.interrupted ? ' [interrupted]' : '';
        process.stdout.write(`[${(line.atMs / 1000).toFixed(2).padStart(6)} s] ${who}: ${line.text}${cut}\n`);
      },
    });
    const summary = buildSummary(result, { callerFile: rel(callerFile), flowFile: rel(flowFile), rivaUrl });
    const paths = writeSimulationOutputs(outDir, result, summary);
    process.stdout.write(
      `\ncall ended: ${result.endReason} after ${(result.durationMs / 1000).toFixed(1)} s\n\n`,
    );
    process.stdout.write(`${formatLatencyTable(summary.turns)}\n\n`);
    for (const b of result.bargeIns) {
      process.stdout.write(
        `barge-in: agent audio stopped ${b.stopLatencyMs} ms after the caller started speaking\n`,
      );
    }
    process.stdout.write(`wrote ${rel(paths.summary)}, ${rel(paths.agent)}, ${rel(paths.mix)}\n`);
    return summary.turns.length > 0 ? 0 : 1;
  } finally {
    await speechServer?.stop();
  }
}

function makeBrain(config: AgentConfig, flow: ReturnType<typeof loadFlowFile>): ReplyBrain {
  if (config.BRAIN === 'scripted') return createScriptedBrain(flow);
  if (!config.LLM_BASE_URL || !config.LLM_MODEL) {
    throw new ConfigError([
      { variable: 'LLM_BASE_URL', message: 'BRAIN=llm needs LLM_BASE_URL and LLM_MODEL' },
    ]);
  }
  return createLlmBrain(flow, {
    baseURL: config.LLM_BASE_URL,
    model: config.LLM_MODEL,
    apiKey: config.LLM_API_KEY,
    systemPrompt: config.LLM_SYSTEM_PROMPT,
  });
}

function rel(path: string): string {
  const cwd = process.cwd();
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}

main()
  .then(async (code) => {
    // rtc-node's FFI handle keeps Node alive until disposed.
    await dispose();
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    const known = err instanceof ConfigError || err instanceof FlowError || err instanceof WavError;
    process.stderr.write(
      `simulate: ${known ? (err as Error).message : String((err as Error)?.stack ?? err)}\n`,
    );
    await dispose().catch(() => undefined);
    process.exit(1);
  });
