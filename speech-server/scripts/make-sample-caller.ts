/**
 * Builds the simulated caller's audio: two turns separated by a pause long enough for any
 * endpointer to close the first turn, spoken by flite `rms` (the voice the local PocketSphinx
 * server transcribes best), plus the same audio as an 8 kHz mu-law WAV for the phone path.
 *
 *   npx tsx speech-server/scripts/make-sample-caller.ts [outDir]
 *
 * Writes `<outDir>/sample-caller.wav` (16 kHz mono PCM16) and `<outDir>/sample-caller-8k-mulaw.wav`.
 * Needs the Debian `flite` and `sox` packages.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const SAMPLE_CALLER_TURNS = [
  'Hello, I would like to book an appointment for next Tuesday.',
  'Yes, at ten in the morning please. Thank you, goodbye.',
] as const;

/** Seconds of silence before the first turn, between the turns, and after the last one. */
const LEAD_IN_S = 0.3;
const GAP_S = 4;
const TAIL_S = 0.5;

export function makeSampleCaller(outDir: string): { wav16k: string; wav8kMulaw: string } {
  const work = mkdtempSync(join(tmpdir(), 'sample-caller-'));
  try {
    const turnFiles = SAMPLE_CALLER_TURNS.map((text, i) => {
      const file = join(work, `turn${i}.wav`);
      // flite writes nothing to a Node pipe, so it always gets a real file.
      execFileSync('flite', ['-voice', 'rms', '-t', text, '-o', file]);
      return file;
    });
    const silence = (seconds: number, name: string): string => {
      const file = join(work, name);
      execFileSync('sox', [
        '-n',
        '-r',
        '16000',
        '-c',
        '1',
        '-b',
        '16',
        '-e',
        'signed-integer',
        file,
        'trim',
        '0',
        String(seconds),
      ]);
      return file;
    };
    const parts = [
      silence(LEAD_IN_S, 'lead.wav'),
      turnFiles[0]!,
      silence(GAP_S, 'gap.wav'),
      turnFiles[1]!,
      silence(TAIL_S, 'tail.wav'),
    ];
    const wav16k = join(outDir, 'sample-caller.wav');
    const wav8kMulaw = join(outDir, 'sample-caller-8k-mulaw.wav');
    execFileSync('sox', [...parts, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', wav16k]);
    execFileSync('sox', [wav16k, '-r', '8000', '-c', '1', '-e', 'mu-law', wav8kMulaw]);
    return { wav16k, wav8kMulaw };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === new URL(import.meta.url).pathname;
if (invokedDirectly) {
  const outDir = resolve(process.argv[2] ?? new URL('../../agent/assets', import.meta.url).pathname);
  const written = makeSampleCaller(outDir);
  process.stdout.write(`${written.wav16k}\n${written.wav8kMulaw}\n`);
}
