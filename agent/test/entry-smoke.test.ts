/**
 * Smoke test of the real production entry (`agent/src/main.ts` → `job.ts`) without a LiveKit server:
 * `console --connect-addr` runs the job in-process and talks to a TCP broker; the broker here plays
 * the sample caller (48 kHz, real time) after the greeting, answers playout flushes like a speaker
 * would, and records what the agent says and hears. Covers defineAgent, prewarm, production config,
 * the job's Riva wiring and the shutdown path.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
// @livekit/protocol is the message package @livekit/agents itself is built on (same installed version).
import { AgentSession as pb } from '@livekit/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/src/logger.ts';
import { type SpeechServer, startSpeechServer } from '../../speech-server/src/server.ts';
import { resampleLinear } from '../src/simulate/wav.ts';
import { loadCaller } from './support/pipeline.ts';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const WIRE_RATE = 48_000;
const FRAME = WIRE_RATE / 50;

interface BrokerRecord {
  agentAudioSamples: number;
  agentAudioPeak: number;
  finals: string[];
  items: string[];
  flushes: number;
  connected: boolean;
}

class ConsoleBroker {
  readonly record: BrokerRecord = {
    agentAudioSamples: 0,
    agentAudioPeak: 0,
    finals: [],
    items: [],
    flushes: 0,
    connected: false,
  };
  #server: Server;
  #socket: Socket | undefined;
  #segmentSamples = 0;
  #segmentStarted = 0;
  #callerStarted = false;
  #feedTimer: NodeJS.Timeout | undefined;
  readonly port: Promise<number>;

  constructor(private readonly caller: Int16Array) {
    this.#server = createServer((socket) => this.#onConnection(socket));
    this.port = new Promise((done) =>
      this.#server.listen(0, '127.0.0.1', () => {
        const address = this.#server.address();
        done(typeof address === 'object' && address ? address.port : 0);
      }),
    );
  }

  #send(message: pb.AgentSessionMessage): void {
    const data = message.toBinary();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(data.length, 0);
    this.#socket?.write(Buffer.concat([header, data]));
  }

  #onConnection(socket: Socket): void {
    this.#socket = socket;
    this.record.connected = true;
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
        const length = buffer.readUInt32BE(0);
        this.#onMessage(pb.AgentSessionMessage.fromBinary(buffer.subarray(4, 4 + length)));
        buffer = buffer.subarray(4 + length);
      }
    });
    socket.on('error', () => {});
  }

  #onMessage(message: pb.AgentSessionMessage): void {
    const m = message.message;
    if (m.case === 'audioOutput') {
      const samples = new Int16Array(
        m.value.data.buffer.slice(m.value.data.byteOffset, m.value.data.byteOffset + m.value.data.byteLength),
      );
      if (this.#segmentSamples === 0) this.#segmentStarted = Date.now();
      this.#segmentSamples += samples.length;
      this.record.agentAudioSamples += samples.length;
      for (const s of samples) this.record.agentAudioPeak = Math.max(this.record.agentAudioPeak, Math.abs(s));
    } else if (m.case === 'audioPlaybackFlush') {
      this.record.flushes++;
      // Report the segment played out when a speaker would have finished it.
      const playMs = (this.#segmentSamples / WIRE_RATE) * 1000;
      const remaining = Math.max(0, this.#segmentStarted + playMs - Date.now());
      this.#segmentSamples = 0;
      setTimeout(() => {
        this.#send(
          new pb.AgentSessionMessage({
            message: {
              case: 'audioPlaybackFinished',
              value: new pb.AgentSessionMessage_ConsoleIO_AudioPlaybackFinished(),
            },
          }),
        );
        if (!this.#callerStarted) {
          this.#callerStarted = true;
          this.#feedCaller();
        }
      }, remaining);
    } else if (m.case === 'audioPlaybackClear') {
      this.#segmentSamples = 0;
    } else if (m.case === 'event') {
      const ev = m.value.event;
      if (ev.case === 'userInputTranscribed' && ev.value.isFinal)
        this.record.finals.push(ev.value.transcript);
      if (ev.case === 'conversationItemAdded')
        this.record.items.push(JSON.stringify(ev.value.item?.toJson() ?? {}));
    }
  }

  /** The caller's audio at real-time pace, then silence, as 20 ms frames at 48 kHz. */
  #feedCaller(): void {
    const started = Date.now();
    let sent = 0;
    const tick = () => {
      const due = Math.floor((Date.now() - started) / 20) + 1;
      for (; sent < due; sent++) {
        const frame = new Int16Array(FRAME);
        frame.set(this.caller.subarray(sent * FRAME, (sent + 1) * FRAME));
        this.#send(
          new pb.AgentSessionMessage({
            message: {
              case: 'audioInput',
              value: new pb.AgentSessionMessage_ConsoleIO_AudioFrame({
                data: new Uint8Array(frame.buffer),
                sampleRate: WIRE_RATE,
                numChannels: 1,
                samplesPerChannel: FRAME,
              }),
            },
          }),
        );
      }
      this.#feedTimer = setTimeout(tick, 20);
    };
    tick();
  }

  close(): void {
    if (this.#feedTimer) clearTimeout(this.#feedTimer);
    this.#socket?.destroy();
    this.#server.close();
  }
}

let speech: SpeechServer;
let broker: ConsoleBroker;
let child: ChildProcess | undefined;

beforeAll(async () => {
  speech = await startSpeechServer({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ level: 'silent', service: 'speech-server' }),
  });
  await speech.warmed;
  const caller = loadCaller();
  broker = new ConsoleBroker(resampleLinear(caller.samples, caller.sampleRate, WIRE_RATE));
});

afterAll(async () => {
  // Console mode keeps the process alive after the session (rtc-node FFI): it has to be killed.
  child?.kill('SIGKILL');
  broker?.close();
  await speech?.stop();
});

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the agent');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('production entry in console mode', () => {
  it('greets, hears the caller through Riva, answers from the flow, and ends on goodbye', async () => {
    const port = await broker.port;
    const stderr: string[] = [];
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        resolve(ROOT, 'agent/src/main.ts'),
        'console',
        '--connect-addr',
        `127.0.0.1:${port}`,
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          RIVA_URL: `127.0.0.1:${speech.port}`,
          LOG_LEVEL: 'warn',
          LIVEKIT_API_KEY: '',
          LIVEKIT_API_SECRET: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const stdout: string[] = [];
    child.stdout?.on('data', (d: Buffer) => stdout.push(d.toString()));

    await waitFor(() => broker.record.connected, 60_000);
    // Greeting, then the caller's two turns (13 s of audio), then the goodbye reply.
    await waitFor(() => broker.record.items.some((i) => i.includes('Goodbye')), 90_000).catch(
      (err: Error) => {
        throw new Error(
          `${err.message}; finals=${JSON.stringify(broker.record.finals)} stderr=${stderr.join('').slice(-2000)}`,
        );
      },
    );

    expect(broker.record.agentAudioSamples).toBeGreaterThan(WIRE_RATE); // more than a second of speech
    expect(broker.record.agentAudioPeak).toBeGreaterThan(1000);
    expect(broker.record.finals.join(' ')).toMatch(/appointment/);
    const spoken = broker.record.items.join('\n');
    expect(spoken).toContain('Riverside clinic. How can I help you today?');
    expect(spoken).toContain('Which day and time would suit you?');
    expect(broker.record.flushes).toBeGreaterThanOrEqual(3);
    // Logs (stdout and stderr) never carry what the caller said.
    expect(stdout.join('') + stderr.join('')).not.toMatch(/appointment|tuesday/i);
  }, 180_000);
});
