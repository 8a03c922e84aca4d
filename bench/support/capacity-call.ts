/**
 * What the two capacity benchmarks share: the minimal Riva server in a child process with the call's script,
 * the caller every benchmark call plays (five turns built from the sample caller), and turn figures as
 * p50/p95 pairs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type MonoPcm16, readWavFile } from '../../agent/src/simulate/wav.ts';
import {
  type BenchCallResult,
  composeCaller,
  percentile,
  speechClips,
  type TurnTiming,
} from './bench-call.ts';

export const BENCH_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What the minimal server answers, turn by turn (the scripted flow's book / time / hours / cancel / goodbye). */
export const CALL_SCRIPT = [
  'I would like to book an appointment',
  'at ten in the morning',
  'what are your opening hours',
  'I want to cancel',
  'goodbye',
];

export async function startMinimalRivaChild(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      `${BENCH_ROOT}/bench/support/minimal-riva-server.ts`,
      '--serve',
      '--script',
      JSON.stringify(CALL_SCRIPT),
    ],
    { cwd: BENCH_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  return {
    url: line.toString().trim(),
    stop: async () => {
      child.stdin.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/** Greeting, then five caller turns at real-time pace (~50 s of call). */
export function benchCaller(): MonoPcm16 {
  const sample = readWavFile(`${BENCH_ROOT}/agent/assets/sample-caller.wav`);
  const [book, bye] = speechClips(sample);
  if (!book || !bye) throw new Error('sample caller: expected two utterances');
  return composeCaller(sample.sampleRate, [
    { clip: book, gapMs: 5500 },
    { clip: book, gapMs: 5500 },
    { clip: book, gapMs: 6500 },
    { clip: book, gapMs: 5500 },
    { clip: bye, gapMs: 1000 },
  ]);
}

export interface P50P95 {
  p50: number | null;
  p95: number | null;
}

export interface TurnFigures {
  callsDropped: number;
  turns: number;
  turnsAnswered: number;
  v2v: P50P95;
  endOfSpeechToFinal: P50P95;
  endOfSpeechToTurnEnd: P50P95;
  vadLag: P50P95;
  agentShare: P50P95;
  ttsFirstAudio: P50P95;
}

export function turnFigures(results: BenchCallResult[]): TurnFigures {
  const turns = results.flatMap((r) => r.turns);
  const pick = (f: (t: TurnTiming) => number | null): P50P95 => {
    const v = turns.map(f).filter((x): x is number => x !== null);
    return { p50: round(percentile(v, 50)), p95: round(percentile(v, 95)) };
  };
  return {
    callsDropped: results.filter((r) => r.endReason !== 'goodbye').length,
    turns: turns.length,
    turnsAnswered: turns.filter((t) => t.voiceToVoiceMs !== null).length,
    v2v: pick((t) => t.voiceToVoiceMs),
    endOfSpeechToFinal: pick((t) => t.endOfSpeechToFinalMs),
    endOfSpeechToTurnEnd: pick((t) => t.endOfSpeechToTurnEndMs),
    vadLag: pick((t) => t.vadLagMs),
    agentShare: pick((t) => t.agentShareMs),
    ttsFirstAudio: pick((t) => t.ttsFirstAudioMs),
  };
}

const round = (v: number | null) => (v === null ? null : Math.round(v));
