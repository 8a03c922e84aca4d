/**
 * Runs Debian's flite once per sentence. flite writes its WAV only when synthesis is finished and
 * writes nothing at all when its stdout is a Node pipe (a UNIX socket), so it always gets a temp file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWavHeader, toMonoPcm16 } from '../audio/codecs.ts';

export interface Pcm {
  samples: Int16Array;
  sampleRate: number;
}

/** A scratch directory for one server; removed on close. */
export class Flite {
  readonly #dir: string;
  #n = 0;

  constructor(binary = 'flite') {
    this.binary = binary;
    this.#dir = mkdtempSync(join(tmpdir(), 'speech-server-tts-'));
  }

  readonly binary: string;

  async synthesize(voice: string, sentence: string, signal?: AbortSignal): Promise<Pcm> {
    const file = join(this.#dir, `${process.pid}-${this.#n++}.wav`);
    try {
      await new Promise<void>((resolve, reject) => {
        execFile(
          this.binary,
          ['-voice', voice, '-t', sentence, '-o', file],
          { timeout: 30_000, ...(signal ? { signal } : {}) },
          (err) => (err ? reject(err) : resolve()),
        );
      });
      const bytes = await readFile(file);
      const wav = parseWavHeader(bytes);
      if (wav.kind !== 'wav') throw new Error('flite produced no WAV');
      return {
        samples: toMonoPcm16(bytes.subarray(wav.dataOffset), wav.format),
        sampleRate: wav.format.sampleRate,
      };
    } finally {
      await unlink(file).catch(() => {});
    }
  }

  close(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
