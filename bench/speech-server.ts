/**
 * Benchmark of the CPU speech server, run as its own process (as in deployment) so its CPU is
 * measured apart from the client's:
 * - startup: spawn to listening, and until the warm decoders have loaded;
 * - ASR: real-time factor and CPU per stream (one stream, unpaced);
 * - capacity: N concurrent streams paced at real time; a level "holds" when every final arrives
 *   within 1 s of the end of its utterance audio (p95);
 * - TTS: first-audio time of SynthesizeOnline and Synthesize latency.
 *
 *   npx tsx bench/speech-server.ts [--levels 1,2,4,6,8] [--json-out FILE]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import type { RecognitionConfig, SynthesizeSpeechResponse__Output } from '../proto/src/index.ts';
import { type Clients, connect, readWavData, streamRecognize } from '../speech-server/test/helpers.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const SAMPLE = resolve(ROOT, 'agent/assets/sample-caller.wav');
const PCM16K: RecognitionConfig = {
  encoding: 'LINEAR_PCM',
  sample_rate_hertz: 16000,
  language_code: 'en-US',
};
/** Ends of the two turns in sample-caller.wav (s): 0.3 + 4.42, and 8.72 + 3.87. */
const TURN_ENDS_S = [4.72, 12.59];
const HOLD_P95_MS = 1000;

function progress(msg: string): void {
  process.stderr.write(`\r\x1b[K${msg}`);
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error('speech server exited');
    const open = await new Promise<boolean>((done) => {
      const sock = new Socket();
      sock.once('connect', () => {
        sock.destroy();
        done(true);
      });
      sock.once('error', () => done(false));
      sock.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** CPU seconds (user + system) used so far by a process, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function ttsTimes(
  clients: Clients,
): Promise<{ onlineFirstAudioMs: number; onlineTotalMs: number; unaryMs: number }> {
  const reply =
    'Thank you for calling. Your appointment is booked for Tuesday at ten. Is there anything else I can help with?';
  const firsts: number[] = [];
  const totals: number[] = [];
  const unary: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    let first = 0;
    await new Promise<void>((res, rej) => {
      const call = clients.tts.SynthesizeOnline();
      call.on('data', (_m: SynthesizeSpeechResponse__Output) => {
        if (!first) first = performance.now() - t0;
      });
      call.on('end', () => res());
      call.on('error', rej);
      call.write({ text: reply, sample_rate_hz: 16000, language_code: 'en-US' });
      call.end();
    });
    firsts.push(first);
    totals.push(performance.now() - t0);
    const t1 = performance.now();
    await new Promise<void>((res, rej) =>
      clients.tts.Synthesize({ text: 'How can I help you today?', sample_rate_hz: 16000 }, (e) =>
        e ? rej(e) : res(),
      ),
    );
    unary.push(performance.now() - t1);
  }
  return {
    onlineFirstAudioMs: percentile(firsts, 50),
    onlineTotalMs: percentile(totals, 50),
    unaryMs: percentile(unary, 50),
  };
}

interface LevelResult {
  streams: number;
  finalLagP50Ms: number;
  finalLagP95Ms: number;
  cpuPerStreamRtf: number;
  serverCpuPercent: number;
  errors: number;
  holds: boolean;
}

/** N streams of the sample caller, paced at real time in 100 ms chunks. */
async function level(clients: Clients, pid: number, n: number, audio: Buffer): Promise<LevelResult> {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new Promise<void>((r) => setTimeout(r, i * 37)).then(() => {
        const started = performance.now();
        return streamRecognize(clients, audio, {
          config: PCM16K,
          interim: true,
          chunkBytes: 3200,
          paceMs: 100,
        }).then((o) => ({
          o,
          started,
        }));
      }),
    ),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const lags: number[] = [];
  let errors = 0;
  for (const { o } of outcomes) {
    if (o.error) errors++;
    const finals = o.responses
      .map((r, i) => ({ r: r.results[0], at: o.arrivals[i]! }))
      .filter((x) => x.r?.is_final);
    finals.forEach((f, k) => {
      // Audio for turn k was fully sent TURN_ENDS_S[k] s after the stream started (paced).
      const end = TURN_ENDS_S[k];
      if (end !== undefined) lags.push(f.at - end * 1000);
    });
    if (finals.length < TURN_ENDS_S.length) errors++;
  }
  const audioS = (audio.length / 32000) * n;
  const p95 = percentile(lags, 95);
  return {
    streams: n,
    finalLagP50Ms: Math.round(percentile(lags, 50)),
    finalLagP95Ms: Math.round(p95),
    cpuPerStreamRtf: Number((cpu / audioS).toFixed(3)),
    serverCpuPercent: Math.round((100 * cpu) / wallS),
    errors,
    holds: errors === 0 && p95 <= HOLD_P95_MS,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const levels = (args.includes('--levels') ? args[args.indexOf('--levels') + 1]! : '1,2,4,6,8')
    .split(',')
    .map(Number);
  const jsonOut = args.includes('--json-out') ? args[args.indexOf('--json-out') + 1] : undefined;
  const port = await freePort();
  const spawnAt = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'speech-server/src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      SPEECH_SERVER_PORT: String(port),
      SPEECH_SERVER_MAX_STREAMS: String(Math.max(...levels) + 2),
      SPEECH_SERVER_WARM_DECODERS: '2',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    progress('starting the speech server…');
    await waitForPort(port, child);
    const listenMs = performance.now() - spawnAt;
    const clients = connect(`127.0.0.1:${port}`);
    const audio = readWavData(SAMPLE);
    // A first stream pays for the decoder load if warm-up has not finished; measure that too.
    progress('first stream (cold)…');
    const firstAt = performance.now();
    const cold = await streamRecognize(clients, audio.subarray(0, 32000), { config: PCM16K });
    const firstStreamMs = performance.now() - firstAt;
    if (cold.error) throw new Error(`first stream failed: ${cold.error.message}`);

    progress('single stream, unpaced…');
    const cpu0 = cpuSeconds(child.pid!);
    const t0 = performance.now();
    const single = await streamRecognize(clients, audio, { config: PCM16K, interim: true });
    const wallS = (performance.now() - t0) / 1000;
    const cpuS = cpuSeconds(child.pid!) - cpu0;
    const audioS = audio.length / 32000;
    if (single.error) throw new Error(single.error.message);

    progress('TTS…');
    const tts = await ttsTimes(clients);

    const results: LevelResult[] = [];
    for (const n of levels) {
      progress(`capacity: ${n} concurrent real-time streams (${audioS.toFixed(0)} s)…`);
      results.push(await level(clients, child.pid!, n, audio));
    }
    progress('');
    clients.close();

    const held = results.filter((r) => r.holds).map((r) => r.streams);
    const summary = {
      cores: cpus().length,
      startup: { listenMs: Math.round(listenMs), firstShortStreamMs: Math.round(firstStreamMs) },
      asrSingleStream: {
        audioSeconds: Number(audioS.toFixed(2)),
        wallRtf: Number((wallS / audioS).toFixed(3)),
        speedX: Number((audioS / wallS).toFixed(1)),
        cpuRtf: Number((cpuS / audioS).toFixed(3)),
      },
      tts: {
        onlineFirstAudioMs: Math.round(tts.onlineFirstAudioMs),
        onlineThreeSentencesTotalMs: Math.round(tts.onlineTotalMs),
        unaryOneSentenceMs: Math.round(tts.unaryMs),
      },
      capacity: results,
      maxRealTimeStreamsHeld: held.length > 0 ? Math.max(...held) : 0,
    };

    console.log(`\nSpeech server benchmark (${summary.cores} cores)`);
    console.log(
      `  startup: listening after ${summary.startup.listenMs} ms (process spawn incl. tsx); first 1 s stream answered after ${summary.startup.firstShortStreamMs} ms`,
    );
    console.log(
      `  ASR one stream (${audioS.toFixed(1)} s, unpaced): wall RTF ${summary.asrSingleStream.wallRtf} (${summary.asrSingleStream.speedX}x real time), CPU RTF ${summary.asrSingleStream.cpuRtf}`,
    );
    console.log(
      `  TTS: SynthesizeOnline first audio ${summary.tts.onlineFirstAudioMs} ms (3 sentences done in ${summary.tts.onlineThreeSentencesTotalMs} ms); Synthesize one sentence ${summary.tts.unaryOneSentenceMs} ms`,
    );
    console.log(
      '\n| Streams | Final lag p50 ms | Final lag p95 ms | CPU RTF per stream | Server CPU % | Errors | Holds real time |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(
        `| ${r.streams} | ${r.finalLagP50Ms} | ${r.finalLagP95Ms} | ${r.cpuPerStreamRtf} | ${r.serverCpuPercent} | ${r.errors} | ${r.holds ? 'yes' : 'no'} |`,
      );
    }
    console.log(`\nConcurrent real-time streams held: ${summary.maxRealTimeStreamsHeld}`);
    console.log(JSON.stringify(summary));
    if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    child.kill('SIGTERM');
  }
}

await main();
