/**
 * Shared pieces for the audio end-to-end tests: the real CPU speech server, Silero VAD, the sample
 * flow and caller, and settings matching production defaults.
 */
import { resolve } from 'node:path';
import { initializeLogger, type VAD } from '@livekit/agents';
import { createLogger, type Logger } from '../../../common/src/logger.ts';
import { startSpeechServer } from '../../../speech-server/src/server.ts';
import { createScriptedBrain, type ReplyBrain } from '../../src/brains/reply-brain.ts';
import { loadFlowFile, type ScriptedFlow } from '../../src/brains/scripted-flow.ts';
import type { CallSettings } from '../../src/call-session.ts';
import { loadAgentConfig } from '../../src/config.ts';
import { type RivaSettings, rivaSettingsFromConfig } from '../../src/riva.ts';
import { callSettingsFromConfig, loadCallVad } from '../../src/runtime.ts';
import {
  runSimulatedCall,
  type SimulatedCallOptions,
  type SimulatedCallResult,
} from '../../src/simulate/simulated-call.ts';
import { type MonoPcm16, readWavFile } from '../../src/simulate/wav.ts';

export const AGENT_DIR = resolve(new URL('../..', import.meta.url).pathname);
export const SAMPLE_CALLER = resolve(AGENT_DIR, 'assets/sample-caller.wav');
export const SAMPLE_CALLER_8K_MULAW = resolve(AGENT_DIR, 'assets/sample-caller-8k-mulaw.wav');
export const SAMPLE_FLOW = resolve(AGENT_DIR, 'flows/sample-flow.yaml');

export const quietLogger: Logger = createLogger({ level: 'warn', service: 'agent-test' });

export function initTestLogging(): void {
  initializeLogger({ pretty: false, level: 'error' });
}

/** The agent's default call settings (VAD turns, 300 ms endpoint, preflight replies, 8 s silence timeouts). */
const defaultConfig = loadAgentConfig({});
export const testSettings: CallSettings = callSettingsFromConfig(defaultConfig);

/** The agent's default Riva settings (plaintext, en-US, 300 ms endpoint, preflight on), no boosting. */
export function rivaSettings(url: string, _flow?: ScriptedFlow): RivaSettings {
  return rivaSettingsFromConfig(defaultConfig, url, []);
}

export interface Pipeline {
  flow: ScriptedFlow;
  brain: ReplyBrain;
  vad: VAD;
  speechUrl: string;
  stop(): Promise<void>;
  call(overrides: Partial<SimulatedCallOptions> & { caller: MonoPcm16 }): Promise<SimulatedCallResult>;
}

export async function startPipeline(): Promise<Pipeline> {
  initTestLogging();
  const server = await startSpeechServer({
    host: '127.0.0.1',
    port: 0,
    maxStreams: 16,
    logger: createLogger({ level: 'error', service: 'speech-server' }),
  });
  await server.warmed;
  const flow = loadFlowFile(SAMPLE_FLOW);
  const brain = createScriptedBrain(flow);
  const vad = await loadCallVad(testSettings);
  const speechUrl = `127.0.0.1:${server.port}`;
  return {
    flow,
    brain,
    vad,
    speechUrl,
    stop: () => server.stop(),
    call: (overrides) =>
      runSimulatedCall({
        brain,
        riva: rivaSettings(speechUrl, flow),
        settings: testSettings,
        vad,
        logger: quietLogger,
        ...overrides,
      }),
  };
}

export function loadCaller(path = SAMPLE_CALLER): MonoPcm16 {
  return readWavFile(path);
}

/** The caller's audio with `ms` of silence before it. */
export function withLeadingSilence(audio: MonoPcm16, ms: number): MonoPcm16 {
  const pad = Math.round((audio.sampleRate * ms) / 1000);
  const samples = new Int16Array(pad + audio.samples.length);
  samples.set(audio.samples, pad);
  return { sampleRate: audio.sampleRate, samples };
}

export function silence(ms: number, sampleRate = 16000): MonoPcm16 {
  return { sampleRate, samples: new Int16Array(Math.round((sampleRate * ms) / 1000)) };
}

/** RMS of a PCM16 track (0 = digital silence). */
export function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / Math.max(1, samples.length));
}
