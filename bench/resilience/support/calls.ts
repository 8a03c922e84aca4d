/**
 * Shared pieces of the resilience tests: production call settings (the agent's config defaults), the
 * sample flow, Silero VAD, quiet logging, callers built from the sample caller's speech, and word-level
 * comparison of what the session heard with what the caller said.
 */
import { fileURLToPath } from 'node:url';
import type { VAD } from '@livekit/agents';
import { createScriptedBrain, type ReplyBrain } from '../../../agent/src/brains/reply-brain.ts';
import { loadFlowFile, type ScriptedFlow } from '../../../agent/src/brains/scripted-flow.ts';
import type { CallSettings } from '../../../agent/src/call-session.ts';
import { type AgentConfig, loadAgentConfig } from '../../../agent/src/config.ts';
import { type RivaSettings, rivaSettingsFromConfig } from '../../../agent/src/riva.ts';
import { callSettingsFromConfig, initAgentsLogger, loadCallVad } from '../../../agent/src/runtime.ts';
import { type MonoPcm16, readWavFile } from '../../../agent/src/simulate/wav.ts';
import { createLogger, type Logger } from '../../../common/src/logger.ts';
import { speechClips } from '../../support/bench-call.ts';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface CallKit {
  config: AgentConfig;
  flow: ScriptedFlow;
  settings: CallSettings;
  vad: VAD;
  logger: Logger;
  brain(): ReplyBrain;
  riva(url: string): RivaSettings;
}

/** Everything a production call needs but the Riva server, built once per process from the default config. */
export async function callKit(logLevel = 'silent'): Promise<CallKit> {
  const config = loadAgentConfig({});
  initAgentsLogger('error');
  const flow = loadFlowFile(`${ROOT}/agent/flows/sample-flow.yaml`);
  const settings = callSettingsFromConfig(config);
  const vad = await loadCallVad(settings);
  return {
    config,
    flow,
    settings,
    vad,
    logger: createLogger({ level: logLevel, service: 'bench' }),
    brain: () => createScriptedBrain(flow),
    riva: (url) => rivaSettingsFromConfig(config, url, flow.boostPhrases()),
  };
}

export function sampleCaller(): MonoPcm16 {
  return readWavFile(`${ROOT}/agent/assets/sample-caller.wav`);
}

/** The first speech clip of the sample caller, cut to `ms` (distinct lengths tell utterances apart). */
export function clipOf(ms: number): Int16Array {
  const sample = sampleCaller();
  const clip = speechClips(sample)[0]!;
  return clip.slice(0, Math.min(clip.length, Math.round((ms / 1000) * sample.sampleRate)));
}

/** Words of `expected` missing from `got`, and words of `got` beyond `expected` (longest common subsequence). */
export function wordDiff(expected: string[], got: string[]): { lost: number; extra: number } {
  const a = expected.join(' ').toLowerCase().split(/\s+/).filter(Boolean);
  const b = got.join(' ').toLowerCase().split(/\s+/).filter(Boolean);
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      row[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    }
    prev = row;
  }
  const common = prev[b.length]!;
  return { lost: a.length - common, extra: b.length - common };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
