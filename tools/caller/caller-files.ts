/** What the caller command reads and writes besides the call itself: the URL it dials and its output files. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeWavFile } from '../../agent/src/simulate/wav.ts';
import { type CallerResult, RECORD_RATE } from './caller.ts';

export type CallerReport = Omit<CallerResult, 'callerTrack' | 'agentTrack'>;

/** The control API hands out its LiveKit API URL (http/https); participants connect over ws/wss. */
export function signallingUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  else if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new Error(`--url must be ws://, wss://, http:// or https://, got ${parsed.protocol}`);
  }
  return parsed.toString().replace(/\/$/, '');
}

export function writeCallerOutputs(dir: string, result: CallerResult): void {
  mkdirSync(dir, { recursive: true });
  const { callerTrack, agentTrack, ...rest } = result;
  const report: CallerReport = rest;
  writeFileSync(join(dir, 'caller.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeWavFile(join(dir, 'agent.wav'), RECORD_RATE, [agentTrack]);
  const length = Math.max(callerTrack.length, agentTrack.length);
  const left = new Int16Array(length);
  left.set(callerTrack);
  const right = new Int16Array(length);
  right.set(agentTrack);
  writeWavFile(join(dir, 'mix.wav'), RECORD_RATE, [left, right]);
}

export function readCallerReport(dir: string): CallerReport {
  return JSON.parse(readFileSync(join(dir, 'caller.json'), 'utf8')) as CallerReport;
}
