/**
 * Test and benchmark helpers: a plain @grpc/grpc-js Riva client built from loadRivaProtos(), WER,
 * WAV reading and flite-synthesised fixtures.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  loadRivaProtos,
  type RecognitionConfig,
  type RivaSpeechRecognitionClient,
  type RivaSpeechSynthesisClient,
  type StreamingRecognizeRequest,
  type StreamingRecognizeResponse__Output,
} from '../../proto/src/index.ts';
import { parseWavHeader, toMonoPcm16 } from '../src/audio/codecs.ts';

export interface Clients {
  asr: RivaSpeechRecognitionClient;
  tts: RivaSpeechSynthesisClient;
  close(): void;
}

export function connect(address: string, maxMessageBytes = 64 * 1024 * 1024): Clients {
  const protos = loadRivaProtos();
  const options = {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  };
  const creds = grpc.credentials.createInsecure();
  const asr = new protos.asr.RivaSpeechRecognition(address, creds, options);
  const tts = new protos.tts.RivaSpeechSynthesis(address, creds, options);
  return {
    asr,
    tts,
    close() {
      asr.close();
      tts.close();
    },
  };
}

export interface StreamOutcome {
  responses: StreamingRecognizeResponse__Output[];
  /** Wall-clock ms (from the first write) at which each response arrived. */
  arrivals: number[];
  finals: string[];
  transcript: string;
  error: grpc.ServiceError | undefined;
}

export interface StreamOptions {
  config: RecognitionConfig;
  interim?: boolean;
  chunkBytes?: number;
  /** Milliseconds between chunks (0 = as fast as possible). */
  paceMs?: number;
  /** Cancel the call after this many chunks. */
  cancelAfterChunks?: number;
  /** Raw messages sent before the config (for error tests). */
  before?: StreamingRecognizeRequest[];
  extra?: StreamingRecognizeRequest[];
}

/** Streams `audio` through StreamingRecognize and collects everything. */
export function streamRecognize(
  clients: Clients,
  audio: Buffer,
  opts: StreamOptions,
): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const call = clients.asr.StreamingRecognize();
    const out: StreamOutcome = { responses: [], arrivals: [], finals: [], transcript: '', error: undefined };
    const t0 = performance.now();
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      out.transcript = out.finals.join(' ').trim();
      resolve(out);
    };
    call.on('data', (r: StreamingRecognizeResponse__Output) => {
      out.responses.push(r);
      out.arrivals.push(performance.now() - t0);
      for (const res of r.results ?? []) {
        if (res.is_final) out.finals.push(res.alternatives[0]?.transcript ?? '');
      }
    });
    call.on('error', (err: grpc.ServiceError) => {
      out.error = err;
      settle();
    });
    call.on('end', settle);
    call.on('status', () => setImmediate(settle));
    for (const m of opts.before ?? []) call.write(m);
    call.write({ streaming_config: { config: opts.config, interim_results: opts.interim ?? true } });
    for (const m of opts.extra ?? []) call.write(m);
    const chunk = opts.chunkBytes ?? 3200;
    const chunks: Buffer[] = [];
    for (let off = 0; off < audio.length; off += chunk) chunks.push(audio.subarray(off, off + chunk));
    let i = 0;
    const pump = () => {
      while (i < chunks.length) {
        if (settled) return;
        if (opts.cancelAfterChunks !== undefined && i >= opts.cancelAfterChunks) {
          call.cancel();
          return;
        }
        call.write({ audio_content: chunks[i++] });
        if (opts.paceMs) {
          setTimeout(pump, opts.paceMs);
          return;
        }
      }
      call.end();
    };
    pump();
  });
}

/** Polls `condition` every 10 ms until it holds; throws after `timeoutMs` (a bounded wait, not a sleep). */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what = 'condition',
): Promise<number> {
  const t0 = performance.now();
  while (!condition()) {
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - t0;
}

/** Word error rate in percent, over lower-cased word sequences (Levenshtein on words). */
export function wordErrors(ref: string, hyp: string): { errors: number; words: number } {
  const norm = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9' ]+/g, ' ')
      .split(/\s+/)
      .filter(Boolean);
  const r = norm(ref);
  const h = norm(hyp);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const cur = [i];
    for (let j = 1; j <= h.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return { errors: prev[h.length]!, words: r.length };
}

/** flite `rms` audio for a text, as 16 kHz PCM16 (no header), made with the system flite. */
export function fliteRms(text: string, voice = 'rms'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'speech-test-'));
  try {
    const file = join(dir, 'a.wav');
    execFileSync('flite', ['-voice', voice, '-t', text, '-o', file]);
    return readWavData(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The audio bytes of a WAV file (header stripped; format as stored). */
export function readWavData(file: string): Buffer {
  const bytes = readFileSync(file);
  const wav = parseWavHeader(bytes);
  if (wav.kind !== 'wav') throw new Error(`${file} is not a WAV file`);
  return bytes.subarray(wav.dataOffset);
}

/** Mono PCM16 samples and rate of a WAV file. */
export function readWavPcm(file: string): { samples: Int16Array; sampleRate: number } {
  const bytes = readFileSync(file);
  const wav = parseWavHeader(bytes);
  if (wav.kind !== 'wav') throw new Error(`${file} is not a WAV file`);
  return {
    samples: toMonoPcm16(bytes.subarray(wav.dataOffset), wav.format),
    sampleRate: wav.format.sampleRate,
  };
}

/** Half a second of silence at 16 kHz PCM16, to end an utterance. */
export function silence16k(ms: number): Buffer {
  return Buffer.alloc(Math.round((16000 * ms) / 1000) * 2);
}

export const PCM16K: RecognitionConfig = {
  encoding: 'LINEAR_PCM',
  sample_rate_hertz: 16000,
  language_code: 'en-US',
  max_alternatives: 1,
  enable_word_time_offsets: true,
};

/** Phone-call sentences (numbers in word form) for loopback WER. */
export const PHONE_SENTENCES = [
  'Hello, I would like to book an appointment for next Tuesday.',
  'Can you tell me your full name please?',
  'My account number is four five six seven.',
  'I am calling about my last bill.',
  'Could you please call me back tomorrow morning?',
  'The delivery did not arrive yesterday.',
  'I would like to speak to a manager.',
  'Yes, that works for me, thank you.',
  'What time does the office open on Monday?',
  'Please cancel my order and send a refund.',
];
