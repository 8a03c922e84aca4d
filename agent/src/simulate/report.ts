/**
 * What a simulated call leaves behind: `summary.json`, `agent.wav`, `mix.wav` (caller left, agent
 * right, on one timeline), and the latency table printed at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimulatedCallResult, TurnLatency } from './simulated-call.ts';
import { writeWavFile } from './wav.ts';

export interface SimulationSummary {
  call_id: string;
  end_reason: string;
  duration_ms: number;
  caller_file: string;
  flow_file: string;
  riva_url: string;
  greeting: { text: string; interrupted: boolean } | null;
  turns: Array<{
    caller_text: string;
    agent_text: string;
    interrupted: boolean;
    latency_ms: TurnLatency;
  }>;
  barge_ins: SimulatedCallResult['bargeIns'];
  silence_prompts: number;
  caller_speech_ms: Array<{ start: number; end: number }>;
  events: SimulatedCallResult['events'];
}

export function buildSummary(
  result: SimulatedCallResult,
  meta: { callerFile: string; flowFile: string; rivaUrl: string },
): SimulationSummary {
  return {
    call_id: result.callId,
    end_reason: result.endReason,
    duration_ms: Math.round(result.durationMs),
    caller_file: meta.callerFile,
    flow_file: meta.flowFile,
    riva_url: meta.rivaUrl,
    greeting: result.greeting,
    turns: result.turns.map((t) => ({
      caller_text: t.caller_text,
      agent_text: t.agent_text,
      interrupted: t.interrupted,
      latency_ms: t.latency_ms,
    })),
    barge_ins: result.bargeIns,
    silence_prompts: result.silencePrompts,
    caller_speech_ms: result.turns.map((t) => t.caller_speech_ms),
    events: result.events,
  };
}

export function writeSimulationOutputs(
  dir: string,
  result: SimulatedCallResult,
  summary: SimulationSummary,
): { summary: string; agent: string; mix: string } {
  mkdirSync(dir, { recursive: true });
  const paths = {
    summary: join(dir, 'summary.json'),
    agent: join(dir, 'agent.wav'),
    mix: join(dir, 'mix.wav'),
  };
  writeFileSync(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
  writeWavFile(paths.agent, result.outputSampleRate, [result.agentTrack]);
  writeWavFile(paths.mix, result.outputSampleRate, [result.callerTrack, result.agentTrack]);
  return paths;
}

const COLUMNS: Array<[keyof TurnLatency, string]> = [
  ['end_of_speech_to_final', 'EOS→final'],
  ['end_of_turn', 'EOS→turn end'],
  ['reply', 'reply'],
  ['tts_first_audio', 'TTS 1st audio'],
  ['voice_to_voice', 'voice-to-voice'],
];

export function formatLatencyTable(turns: SimulationSummary['turns']): string {
  const header = ['turn', ...COLUMNS.map(([, label]) => `${label} ms`)];
  const rows = turns.map((t, i) => [
    String(i + 1),
    ...COLUMNS.map(([key]) => (t.latency_ms[key] === null ? '—' : String(t.latency_ms[key]))),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
