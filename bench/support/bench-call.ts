/**
 * One metered call for the capacity benchmark and the resilience tests: the production call session
 * (`createCallSession`, Riva plugins, Silero VAD, scripted flow) with the simulated-call harness's paced
 * caller input and recording output (agent/src/simulate/audio-io.ts), subclassed only to time frames:
 *  - input: a caller frame is late when the session pulls it more than 40 ms after its slot on the
 *    caller's 20 ms clock (the pipeline fell behind real time);
 *  - output: an agent frame is late when it arrives more than 40 ms after the previous frame of the same
 *    reply finished playing (an audible gap).
 * Turn latencies are measured against the caller audio itself (where its speech really ends), as the
 * harness does. Voice-to-voice = end of turn + the agent's own share, where
 *  - end of turn: end of speech -> the session commits the turn (the later of the final transcript and the
 *    endpoint window, which runs from where Silero heard the speech end; `vadLag` is how far that is past the
 *    real end);
 *  - the agent's own share: turn committed -> first reply audio out (reply text, TTS request and its first
 *    audio unless preemptive generation already had it, frames through the session to the output).
 * End of speech -> final transcript (ASR) and TTS first audio (time to first byte) are reported beside them.
 */
import { type ReadableStream, TransformStream } from 'node:stream/web';
import { llm, type VAD, voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import type { ReplyBrain } from '../../agent/src/brains/reply-brain.ts';
import {
  type CallEndReason,
  type CallSession,
  type CallSettings,
  createCallSession,
  type TranscriptSink,
} from '../../agent/src/call-session.ts';
import { createRivaModels, type RivaSettings } from '../../agent/src/riva.ts';
import { PacedCallerInput, RecordingAudioOutput, SimClock } from '../../agent/src/simulate/audio-io.ts';
import { findSpeechSegments, type MonoPcm16 } from '../../agent/src/simulate/wav.ts';
import type { Logger } from '../../common/src/logger.ts';

export const LATE_MS = 40;

export interface FrameStats {
  frames: number;
  late: number;
  maxLagMs: number;
}

/** The harness's paced caller, with each frame's pull time checked against its slot. */
export class MeteredCallerInput extends PacedCallerInput {
  readonly stats: FrameStats = { frames: 0, late: 0, maxLagMs: 0 };
  readonly #clock: SimClock;
  readonly #originMs: number;
  #metered: ReadableStream<AudioFrame> | undefined;

  constructor(clock: SimClock, audio: MonoPcm16, frameMs?: number) {
    super(clock, audio, [], frameMs);
    this.#clock = clock;
    // The base class starts its frame clock in its constructor (ReadableStream start runs synchronously).
    this.#originMs = clock.nowMs();
  }

  override get stream(): ReadableStream<AudioFrame> {
    this.#metered ??= super.stream.pipeThrough(
      new TransformStream<AudioFrame, AudioFrame>({
        transform: (frame, controller) => {
          const lag = this.#clock.nowMs() - (this.#originMs + this.stats.frames * this.frameMs);
          this.stats.frames++;
          if (lag > LATE_MS) this.stats.late++;
          if (lag > this.stats.maxLagMs) this.stats.maxLagMs = lag;
          controller.enqueue(frame);
        },
      }),
    );
    return this.#metered;
  }
}

/** The harness's recording output, with gaps inside a reply counted. */
export class MeteredAudioOutput extends RecordingAudioOutput {
  readonly stats: FrameStats = { frames: 0, late: 0, maxLagMs: 0 };
  readonly #clock: SimClock;
  #playsUntil: number | undefined;

  constructor(clock: SimClock, sampleRate: number) {
    super(clock, sampleRate);
    this.#clock = clock;
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    const now = this.#clock.nowMs();
    const durationMs = (frame.samplesPerChannel / frame.sampleRate) * 1000;
    this.stats.frames++;
    if (this.#playsUntil !== undefined) {
      const lag = now - this.#playsUntil;
      if (lag > LATE_MS) this.stats.late++;
      if (lag > this.stats.maxLagMs) this.stats.maxLagMs = lag;
    }
    this.#playsUntil = Math.max(now, this.#playsUntil ?? now) + durationMs;
    await super.captureFrame(frame);
  }

  override flush(): void {
    this.#playsUntil = undefined;
    super.flush();
  }

  override clearBuffer(): void {
    this.#playsUntil = undefined;
    super.clearBuffer();
  }
}

export interface TurnTiming {
  callerText: string;
  agentText: string;
  endOfSpeechToFinalMs: number | null;
  /** End of speech -> turn committed by the session. */
  endOfSpeechToTurnEndMs: number | null;
  /** Where Silero put the end of speech, after the real one (the endpoint window starts there). */
  vadLagMs: number | null;
  agentShareMs: number | null;
  ttsFirstAudioMs: number | null;
  voiceToVoiceMs: number | null;
}

export interface BenchCallResult {
  callId: string;
  endReason: CallEndReason;
  durationMs: number;
  turns: TurnTiming[];
  /** Final transcripts in order (what the session committed as the caller's words). */
  finals: string[];
  input: FrameStats;
  output: FrameStats;
  greetingPlayed: boolean;
}

export interface BenchCallOptions {
  callId: string;
  caller: MonoPcm16;
  brain: ReplyBrain;
  riva: RivaSettings;
  settings: CallSettings;
  vad: VAD;
  logger: Logger;
  transcripts?: TranscriptSink;
  /** After the caller's audio is over and the agent is idle this long, the caller hangs up. */
  hangupGraceMs?: number;
  /** Caller frame length (default 20 ms, SIP packetisation; LiveKit's AudioStream delivers 10 ms frames). */
  frameMs?: number;
  maxDurationMs?: number;
  onStarted?: (call: CallSession) => void;
}

export async function runBenchCall(o: BenchCallOptions): Promise<BenchCallResult> {
  const clock = new SimClock();
  const input = new MeteredCallerInput(clock, o.caller, o.frameMs);
  const output = new MeteredAudioOutput(clock, 16000);
  const { stt, tts } = createRivaModels(o.riva);
  const call = createCallSession({
    callId: o.callId,
    settings: o.settings,
    stt,
    tts,
    vad: o.vad,
    brain: o.brain,
    logger: o.logger,
    transcripts: o.transcripts,
  });
  const { session } = call;
  session.input.audio = input;
  session.output.audio = output;

  const finals: Array<{ atMs: number; text: string }> = [];
  const replies: Array<{ text: string; startMs: number | null; ttsMs: number | null }> = [];
  const turnEnds: Array<{ atMs: number; vadSpeechEndMs: number | null }> = [];
  session.on(voice.AgentSessionEventTypes.MetricsCollected, (ev) => {
    if (ev.metrics.type !== 'eou_metrics') return;
    const lastSpeaking = ev.metrics.lastSpeakingTimeMs;
    turnEnds.push({
      atMs: clock.nowMs(),
      vadSpeechEndMs: lastSpeaking ? lastSpeaking - clock.epochMs : null,
    });
  });
  session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
    if (ev.isFinal && ev.transcript.trim() !== '')
      finals.push({ atMs: clock.nowMs(), text: ev.transcript.trim() });
  });
  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (ev) => {
    const item = ev.item;
    if (!(item instanceof llm.ChatMessage) || item.role !== 'assistant') return;
    const started = item.metrics.startedSpeakingAt;
    const ttfb = item.metrics.ttsNodeTtfb;
    replies.push({
      text: item.textContent ?? '',
      startMs: started === undefined ? null : started * 1000 - clock.epochMs,
      ttsMs: ttfb === undefined ? null : ttfb * 1000,
    });
  });
  let greetingPlayed = false;
  output.once(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, () => {
    greetingPlayed = true;
    input.startCaller();
  });
  setTimeout(() => input.startCaller(), 15_000).unref();

  const callerMs = (o.caller.samples.length / o.caller.sampleRate) * 1000;
  const maxDurationMs = o.maxDurationMs ?? callerMs + 45_000;
  const hangupGraceMs = o.hangupGraceMs ?? 2500;
  await call.start();
  o.onStarted?.(call);
  let idleSince: number | undefined;
  const watchdog = setInterval(() => {
    const now = clock.nowMs();
    if (now > maxDurationMs) return void call.endCall('hangup');
    const callerOver =
      input.callerStartMs !== undefined && now >= input.callerStartMs + callerMs && now >= output.lastAudioMs;
    if (callerOver && session.agentState === 'listening' && session.userState !== 'speaking') {
      idleSince ??= now;
      if (now - idleSince >= hangupGraceMs) void call.endCall('hangup');
    } else idleSince = undefined;
  }, 100);
  const endReason = await call.ended;
  clearInterval(watchdog);
  input.stop();
  await Promise.allSettled([stt.close(), tts.close()]);

  const callerStartMs = input.callerStartMs ?? 0;
  const speech = findSpeechSegments(o.caller).map((s) => ({
    startMs: s.startMs + callerStartMs,
    endMs: s.endMs + callerStartMs,
  }));
  return {
    callId: o.callId,
    endReason,
    durationMs: clock.nowMs(),
    turns: buildTurns(speech, finals, replies, turnEnds),
    finals: finals.map((f) => f.text),
    input: input.stats,
    output: output.stats,
    greetingPlayed,
  };
}

function buildTurns(
  speech: Array<{ startMs: number; endMs: number }>,
  finals: Array<{ atMs: number; text: string }>,
  replies: Array<{ text: string; startMs: number | null; ttsMs: number | null }>,
  turnEnds: Array<{ atMs: number; vadSpeechEndMs: number | null }>,
): TurnTiming[] {
  return speech.map((segment, i) => {
    const nextStart = speech[i + 1]?.startMs ?? Number.POSITIVE_INFINITY;
    const own = finals.filter((f) => f.atMs >= segment.startMs && f.atMs < nextStart);
    const reply = replies.find(
      (r) => r.startMs !== null && r.startMs >= segment.endMs && r.startMs < nextStart,
    );
    const last = own.at(-1);
    const eos = last ? last.atMs - segment.endMs : null;
    const v2v = reply?.startMs != null ? reply.startMs - segment.endMs : null;
    const tts = reply?.ttsMs ?? null;
    const turnEnd = turnEnds.find((t) => t.atMs >= segment.endMs && t.atMs < nextStart);
    const toTurnEnd = turnEnd ? turnEnd.atMs - segment.endMs : null;
    return {
      callerText: own.map((f) => f.text).join(' '),
      agentText: reply?.text ?? '',
      endOfSpeechToFinalMs: eos,
      endOfSpeechToTurnEndMs: toTurnEnd,
      vadLagMs: turnEnd?.vadSpeechEndMs != null ? turnEnd.vadSpeechEndMs - segment.endMs : null,
      agentShareMs: v2v !== null && toTurnEnd !== null ? v2v - toTurnEnd : null,
      ttsFirstAudioMs: tts,
      voiceToVoiceMs: v2v,
    };
  });
}

/** A caller built from clips: `lead` ms of silence, then each clip followed by its gap. */
export function composeCaller(
  rate: number,
  parts: Array<{ clip: Int16Array; gapMs: number }>,
  leadMs = 500,
): MonoPcm16 {
  const gapSamples = (ms: number) => Math.round((ms / 1000) * rate);
  const total = gapSamples(leadMs) + parts.reduce((n, p) => n + p.clip.length + gapSamples(p.gapMs), 0);
  const samples = new Int16Array(total);
  let at = gapSamples(leadMs);
  for (const p of parts) {
    samples.set(p.clip, at);
    at += p.clip.length + gapSamples(p.gapMs);
  }
  return { sampleRate: rate, samples };
}

/** The speech clips of a caller WAV (by the harness's own speech finder). */
export function speechClips(audio: MonoPcm16): Int16Array[] {
  return findSpeechSegments(audio).map((s) =>
    audio.samples.slice(
      Math.round((s.startMs / 1000) * audio.sampleRate),
      Math.round((s.endMs / 1000) * audio.sampleRate),
    ),
  );
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
