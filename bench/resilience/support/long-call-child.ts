/**
 * Child process for the long-call memory test (run with --expose-gc): one production call session against
 * the minimal Riva server at RIVA_URL, for MINUTES of call, in real time by default (SPEED=1).
 *
 * SPEED > 1 runs the call on a faster clock. It is NOT honest with @livekit/agents 1.9 and is kept only to
 * show why: the framework maps the recogniser's word times (audio time) onto the wall clock
 * (`audio_recognition.js`, shouldHoldSttEvent / withinIgnoreWindow: `startTime * 1000 + inputStartedAt`), so
 * with audio running ahead of the clock final transcripts land in hold windows and are dropped (0 finals
 * in a 4x run). The design of the faster clock: the caller's audio is fed SPEED× faster and the agent's audio is
 * played out SPEED× faster; the call's endpoint delay and barge-in minimum are divided by SPEED, and the speech server (minimal) and Silero VAD count audio time in samples,
 * so each turn goes through the same code in the same order as in real time, only sooner.
 *
 * The simulate harness's audio classes keep the whole call in memory (they write agent.wav and mix.wav), which
 * for hours of audio would be the harness's memory, not the agent's; this test uses a looping caller and an
 * output that plays out and forgets, below. Prints `sample` JSON lines (after a forced GC) and a `result` line.
 */
import { join } from 'node:path';
import { ReadableStream } from 'node:stream/web';
import { writeHeapSnapshot } from 'node:v8';
import { voice } from '@livekit/agents';
import { AudioFrame, dispose } from '@livekit/rtc-node';
import { createCallSession } from '../../../agent/src/call-session.ts';
import { createRivaModels } from '../../../agent/src/riva.ts';
import { callKit, clipOf } from './calls.ts';

const SPEED = Number(process.env.SPEED ?? 1);
const MINUTES = Number(process.env.MINUTES ?? 20);
const SAMPLE_EVERY_MIN = Number(process.env.SAMPLE_EVERY_MIN ?? 1);
const RIVA_URL = process.env.RIVA_URL ?? '';
/** When set, a heap snapshot is written there at every sample (diagnostics: diff two to find what grows). */
const HEAP_SNAPSHOT_DIR = process.env.HEAP_SNAPSHOT_DIR;
const RATE = 16000;
const FRAME = 320; // 20 ms
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !RIVA_URL) throw new Error('run with --expose-gc and RIVA_URL');

/**
 * One caller turn, looped: speech then silence, at most SPEED× faster than real time. Frames are made when the
 * session pulls them, so a pipeline slower than SPEED× slows the call down instead of piling audio up.
 */
class LoopingCaller extends voice.AudioInput {
  framesSent = 0;
  #stopped = false;
  constructor(cycle: Int16Array) {
    super();
    const start = performance.now();
    this.multiStream.addInputStream(
      new ReadableStream<AudioFrame>(
        {
          pull: async (controller) => {
            if (this.#stopped) return controller.close();
            const wait = start + (this.framesSent * 20) / SPEED - performance.now();
            if (wait > 1) await new Promise((r) => setTimeout(r, wait));
            const at = (this.framesSent * FRAME) % cycle.length;
            const data = new Int16Array(FRAME);
            data.set(cycle.subarray(at, Math.min(cycle.length, at + FRAME)));
            controller.enqueue(new AudioFrame(data, RATE, 1, FRAME));
            this.framesSent++;
          },
        },
        { highWaterMark: 1 },
      ),
    );
  }
  get audioMs(): number {
    return this.framesSent * 20;
  }
  stop(): void {
    this.#stopped = true;
  }
}

/** Plays the agent's audio out SPEED× faster and keeps none of it. */
class PlayAndForgetOutput extends voice.AudioOutput {
  #segmentMs = 0;
  #startedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  constructor() {
    super(RATE, undefined, { pause: false });
  }
  override async captureFrame(frame: AudioFrame): Promise<void> {
    await super.captureFrame(frame);
    if (this.#startedAt === undefined) {
      this.#startedAt = performance.now();
      this.onPlaybackStarted(Date.now());
    }
    this.#segmentMs += (frame.samplesPerChannel / frame.sampleRate) * 1000;
  }
  override flush(): void {
    super.flush();
    if (this.#startedAt === undefined) return;
    const left = this.#segmentMs / SPEED - (performance.now() - this.#startedAt);
    this.#timer = setTimeout(() => this.#finish(false), Math.max(0, left));
  }
  clearBuffer(): void {
    if (this.#startedAt === undefined) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#finish(true);
  }
  #finish(interrupted: boolean): void {
    if (this.#startedAt === undefined) return;
    const played = Math.min(this.#segmentMs, (performance.now() - this.#startedAt) * SPEED);
    this.#startedAt = undefined;
    this.#segmentMs = 0;
    this.#timer = undefined;
    this.onPlaybackFinished({ playbackPosition: played / 1000, interrupted });
  }
}

const kit = await callKit();
const settings = {
  ...kit.settings,
  endpointSilenceMs: Math.max(1, Math.round(kit.settings.endpointSilenceMs / SPEED)),
  interruptMinSpeechMs: Math.max(1, Math.round(kit.settings.interruptMinSpeechMs / SPEED)),
  // The silence timeouts stay in wall time: the caller speaks every 11.3 s of call time, which is at most
  // 11.3 s of wall time, so they never fire, whatever speed the pipeline manages.
};
// A turn: 1.3 s of speech, then GAP_S of silence for the agent's answer (call time).
const GAP_S = Number(process.env.GAP_S ?? (SPEED > 1 ? 10 : 4.5));
const clip = clipOf(1300);
const cycle = new Int16Array(clip.length + Math.round(GAP_S * RATE));
cycle.set(clip);
const { stt, tts } = createRivaModels(kit.riva(RIVA_URL));
const call = createCallSession({
  callId: 'long-call',
  settings,
  stt,
  tts,
  vad: kit.vad,
  brain: kit.brain(),
  logger: kit.logger,
});
const input = new LoopingCaller(cycle);
call.session.input.audio = input;
call.session.output.audio = new PlayAndForgetOutput();
let replies = 0;
let finals = 0;
call.session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (ev) => {
  if ('role' in ev.item && ev.item.role === 'assistant') replies++;
});
call.session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
  if (ev.isFinal) finals++;
});
const t0 = performance.now();
await call.start();
let nextSampleMin = 0;
const sample = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  if (HEAP_SNAPSHOT_DIR)
    writeHeapSnapshot(join(HEAP_SNAPSHOT_DIR, `call-${Math.round(input.audioMs / 1000)}s.heapsnapshot`));
  process.stdout.write(
    `${JSON.stringify({
      sample: true,
      callMin: Math.round(input.audioMs / 600) / 100,
      wallS: Math.round((performance.now() - t0) / 100) / 10,
      rssMb: Math.round((m.rss / 2 ** 20) * 10) / 10,
      heapMb: Math.round((m.heapUsed / 2 ** 20) * 10) / 10,
      externalMb: Math.round((m.external / 2 ** 20) * 10) / 10,
      finals,
      replies,
    })}\n`,
  );
};
await new Promise<void>((resolve) => {
  const check = setInterval(() => {
    const min = input.audioMs / 60_000;
    if (min >= nextSampleMin) {
      sample();
      nextSampleMin += SAMPLE_EVERY_MIN;
    }
    if (min >= MINUTES) {
      clearInterval(check);
      resolve();
    }
  }, 50);
});
const ending = call.ended;
void call.endCall('hangup');
const reason = await ending;
input.stop();
await Promise.allSettled([stt.close(), tts.close()]);
process.stdout.write(
  `${JSON.stringify({
    result: true,
    endReason: reason,
    callMin: input.audioMs / 60_000,
    finals,
    replies,
    wallS: (performance.now() - t0) / 1000,
    // Conversation items still in memory at the end (bounded by settings.historyItems).
    historyItems: call.session.history.items.length,
    agentContextItems: call.agent._chatCtx.items.length,
    historyLimit: settings.historyItems,
  })}\n`,
);
await dispose();
process.exit(0);
