/**
 * One simulated call: the production call session (call-session.ts) with the caller's WAV fed at
 * real-time pace and the agent's audio played out on a simulated clock. Used by `npm run simulate`,
 * the pipeline tests and the benchmark. Latency is measured against ground truth taken from the
 * caller's audio itself (where its speech really ends), not from the agent's own estimates.
 */
import { llm, type VAD, voice } from '@livekit/agents';
import type { Logger } from '../../../common/src/logger.ts';
import type { ReplyBrain } from '../brains/reply-brain.ts';
import {
  type CallEndReason,
  type CallSession,
  type CallSettings,
  createCallSession,
  type TranscriptSink,
} from '../call-session.ts';
import type { AgentMetrics } from '../metrics.ts';
import { createRivaModels, type RivaSettings } from '../riva.ts';
import { PacedCallerInput, type PlayedSegment, RecordingAudioOutput, SimClock } from './audio-io.ts';
import { findSpeechSegments, type MonoPcm16 } from './wav.ts';

export interface SimulatedCallOptions {
  callId?: string;
  caller: MonoPcm16;
  brain: ReplyBrain;
  riva: RivaSettings;
  settings: CallSettings;
  vad: VAD;
  logger: Logger;
  metrics?: AgentMetrics;
  transcripts?: TranscriptSink;
  /**
   * When the caller's WAV starts: 'after-greeting' waits for the greeting to finish, as a polite caller
   * does; 'with-greeting' starts it when the greeting's audio starts (a WAV with leading silence then
   * barges in at a known point of the greeting); 'immediately' starts it with the call.
   */
  callerStart?: 'after-greeting' | 'with-greeting' | 'immediately';
  /**
   * 'wait-for-reply' (default): before each later turn the caller waits until the agent has answered the
   * previous one, as a person does (on a loaded machine the recogniser can fall seconds behind, and a
   * recorded caller would talk over it). 'as-recorded' plays the WAV's own timing regardless.
   */
  turnTaking?: 'wait-for-reply' | 'as-recorded';
  /** After the caller's audio is over and the agent is idle this long, the caller hangs up. */
  hangupGraceMs?: number;
  /** Hard cap on the call's length. */
  maxDurationMs?: number;
  outputSampleRate?: number;
  /** Live transcript lines (timeline ms, who, text). */
  onTranscript?: (line: TranscriptLine) => void;
  /** Called once the session has started (tests use it to inject faults mid-call). */
  onStarted?: (call: CallSession, clock: SimClock) => void;
}

export interface TranscriptLine {
  atMs: number;
  speaker: 'caller' | 'agent';
  text: string;
  interrupted?: boolean;
}

export interface TurnLatency {
  end_of_speech_to_final: number | null;
  /** End of caller speech → the session commits the turn (endpoint window from Silero's end of speech, final). */
  end_of_turn: number | null;
  /** The agent's own share: turn committed → first agent audio (reply, TTS unless preemptive, output). */
  reply: number | null;
  tts_first_audio: number | null;
  voice_to_voice: number | null;
}

export interface TurnSummary {
  caller_text: string;
  agent_text: string;
  caller_speech_ms: { start: number; end: number };
  agent_audio_start_ms: number | null;
  interrupted: boolean;
  latency_ms: TurnLatency;
}

export interface BargeIn {
  callerSpeechStartMs: number;
  agentStoppedMs: number;
  stopLatencyMs: number;
}

export interface SimulatedCallResult {
  callId: string;
  endReason: CallEndReason;
  durationMs: number;
  callerStartMs: number;
  greeting: { text: string; interrupted: boolean } | null;
  turns: TurnSummary[];
  bargeIns: BargeIn[];
  transcript: TranscriptLine[];
  agentSegments: PlayedSegment[];
  outputSampleRate: number;
  agentTrack: Int16Array;
  callerTrack: Int16Array;
  /** Silence prompts the agent spoke (silent-caller handling). */
  silencePrompts: number;
  /** Session events on the timeline (state changes, interim and final transcripts), for diagnosis. */
  events: Array<{ atMs: number; kind: string; detail: string }>;
}

interface AssistantReply {
  text: string;
  startMs: number | null;
  interrupted: boolean;
  ttsTtfbMs: number | null;
}

export async function runSimulatedCall(options: SimulatedCallOptions): Promise<SimulatedCallResult> {
  const callId = options.callId ?? `sim-${Date.now().toString(36)}`;
  const outputRate = options.outputSampleRate ?? 16000;
  const clock = new SimClock();
  const wavSpeech = findSpeechSegments(options.caller);
  const toSample = (ms: number) => Math.round((ms / 1000) * options.caller.sampleRate);
  const holds =
    (options.turnTaking ?? 'wait-for-reply') === 'wait-for-reply'
      ? wavSpeech.slice(1).map((seg, i) => toSample(Math.max(wavSpeech[i]!.endMs, seg.startMs - 200)))
      : [];
  const input = new PacedCallerInput(clock, options.caller, holds);
  const output = new RecordingAudioOutput(clock, outputRate);
  const { stt, tts } = createRivaModels(options.riva, options.metrics);
  const call = createCallSession({
    callId,
    settings: options.settings,
    stt,
    tts,
    vad: options.vad,
    brain: options.brain,
    logger: options.logger,
    metrics: options.metrics,
    transcripts: options.transcripts,
  });
  const { session } = call;
  session.input.audio = input;
  session.output.audio = output;

  const transcript: TranscriptLine[] = [];
  const finals: Array<{ atMs: number; text: string }> = [];
  const replies: AssistantReply[] = [];
  let silencePrompts = 0;
  const emit = (line: TranscriptLine) => {
    transcript.push(line);
    options.onTranscript?.(line);
  };
  const events: SimulatedCallResult['events'] = [];
  const note = (kind: string, detail = '') => events.push({ atMs: Math.round(clock.nowMs()), kind, detail });
  session.on(voice.AgentSessionEventTypes.UserStateChanged, (ev) => note('user_state', ev.newState));
  session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) => note('agent_state', ev.newState));
  session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
    note(ev.isFinal ? 'final' : 'interim', ev.transcript);
    if (!ev.isFinal || ev.transcript.trim() === '') return;
    const atMs = clock.nowMs();
    finals.push({ atMs, text: ev.transcript.trim() });
    emit({ atMs, speaker: 'caller', text: ev.transcript.trim() });
  });
  const turnEnds: number[] = [];
  session.on(voice.AgentSessionEventTypes.MetricsCollected, (ev) => {
    if (ev.metrics.type === 'eou_metrics') turnEnds.push(clock.nowMs());
  });
  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (ev) => {
    const item = ev.item;
    if (!(item instanceof llm.ChatMessage) || item.role !== 'assistant') return;
    const text = item.textContent ?? '';
    const startMs =
      item.metrics.startedSpeakingAt !== undefined
        ? item.metrics.startedSpeakingAt * 1000 - clock.epochMs
        : null;
    const ttfb = item.metrics.ttsNodeTtfb;
    replies.push({
      text,
      startMs,
      interrupted: item.interrupted,
      ttsTtfbMs: ttfb === undefined ? null : ttfb * 1000,
    });
    if (text === options.brain.flow.silencePrompt) silencePrompts++;
    emit({ atMs: startMs ?? clock.nowMs(), speaker: 'agent', text, interrupted: item.interrupted });
  });

  const callerStart = options.callerStart ?? 'after-greeting';
  if (callerStart === 'immediately') input.startCaller();
  else if (callerStart === 'with-greeting') {
    output.once(voice.AudioOutput.EVENT_PLAYBACK_STARTED, () => input.startCaller());
  } else {
    output.once(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, () => input.startCaller());
    // A caller who never hears a greeting still starts talking eventually.
    setTimeout(() => input.startCaller(), 15_000).unref();
  }

  const callerDurationMs = (options.caller.samples.length / options.caller.sampleRate) * 1000;
  const maxDurationMs = options.maxDurationMs ?? callerDurationMs + 45_000 + 20_000 * holds.length;
  const hangupGraceMs = options.hangupGraceMs ?? 2500;

  await call.start();
  options.onStarted?.(call, clock);

  // Turn-taking and hang-up: the caller goes on once the agent has answered (or after 20 s of waiting),
  // and hangs up once its audio is over and the agent has answered its last turn (or stayed silent 15 s).
  let lastPlayoutEndMs = Number.NEGATIVE_INFINITY;
  output.on(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, () => {
    lastPlayoutEndMs = clock.nowMs();
  });
  const answeredSince = (ms: number) => lastPlayoutEndMs > ms && session.agentState === 'listening';
  let holdStartedAt: number | undefined;
  let idleSince: number | undefined;
  const watchdog = setInterval(() => {
    const now = clock.nowMs();
    if (now > maxDurationMs) {
      void call.endCall('hangup');
      return;
    }
    if (input.holding) {
      holdStartedAt ??= now;
      const cursor = input.runs.at(-1)?.wavEnd ?? 0;
      const previous = wavSpeech.filter((seg) => toSample(seg.endMs) <= cursor).at(-1);
      const previousEnd = previous ? (input.timelineMsOf(toSample(previous.endMs)) ?? 0) : 0;
      if (answeredSince(previousEnd) || now - holdStartedAt > 20_000) {
        holdStartedAt = undefined;
        input.release();
      }
    }
    const doneAt = input.callerDoneAtMs;
    const lastSpeech = wavSpeech.at(-1);
    const lastSpeechEnd = lastSpeech ? (input.timelineMsOf(toSample(lastSpeech.endMs)) ?? 0) : 0;
    const callerOver =
      doneAt !== undefined &&
      now >= output.lastAudioMs &&
      (answeredSince(lastSpeechEnd) || now - doneAt > 15_000);
    const idle = session.agentState === 'listening' && session.userState !== 'speaking';
    if (callerOver && idle) {
      idleSince ??= now;
      if (now - idleSince >= hangupGraceMs) void call.endCall('hangup');
    } else {
      idleSince = undefined;
    }
  }, 100);

  const endReason = await call.ended;
  clearInterval(watchdog);
  input.stop();
  const durationMs = clock.nowMs();
  await Promise.allSettled([stt.close(), tts.close()]);

  const callerStartMs = input.callerStartMs ?? durationMs;
  const totalMs = Math.max(durationMs, output.lastAudioMs, input.callerDoneAtMs ?? 0);
  const callerTrack = input.renderTimeline(totalMs, outputRate);
  const agentTrack = output.renderTimeline(totalMs);
  // Ground truth: where the caller's speech really was on the call timeline.
  const speech = wavSpeech.flatMap((s) => {
    const startMs = input.timelineMsOf(toSample(s.startMs));
    const endMs = input.timelineMsOf(toSample(s.endMs));
    return startMs === undefined || endMs === undefined ? [] : [{ startMs, endMs }];
  });
  const { greeting, turns } = buildTurns(speech, finals, replies, turnEnds);
  return {
    callId,
    endReason,
    durationMs,
    callerStartMs,
    greeting,
    turns,
    bargeIns: findBargeIns(speech, output.segments),
    transcript,
    agentSegments: output.segments,
    outputSampleRate: outputRate,
    agentTrack,
    callerTrack,
    silencePrompts,
    events,
  };
}

function buildTurns(
  speech: Array<{ startMs: number; endMs: number }>,
  finals: Array<{ atMs: number; text: string }>,
  replies: AssistantReply[],
  turnEnds: number[],
): { greeting: SimulatedCallResult['greeting']; turns: TurnSummary[] } {
  const firstSpeech = speech[0]?.startMs ?? Number.POSITIVE_INFINITY;
  const greetingReply = replies.find((r) => r.startMs !== null && r.startMs < firstSpeech);
  const turns = speech.map((segment, i): TurnSummary => {
    const nextStart = speech[i + 1]?.startMs ?? Number.POSITIVE_INFINITY;
    const own = finals.filter((f) => f.atMs >= segment.startMs && f.atMs < nextStart);
    const reply = replies.find(
      (r) =>
        r.startMs !== null && r.startMs >= segment.startMs && r.startMs < nextStart && r !== greetingReply,
    );
    const lastFinal = own.at(-1);
    const eosToFinal = lastFinal ? lastFinal.atMs - segment.endMs : null;
    const v2v = reply?.startMs != null ? reply.startMs - segment.endMs : null;
    const ttsFirst = reply?.ttsTtfbMs ?? null;
    const turnEnd = turnEnds.find((at) => at >= segment.endMs && at < nextStart);
    const endOfTurn = turnEnd !== undefined ? turnEnd - segment.endMs : null;
    const agentShare = v2v !== null && endOfTurn !== null ? v2v - endOfTurn : null;
    return {
      caller_text: own.map((f) => f.text).join(' '),
      agent_text: reply?.text ?? '',
      caller_speech_ms: { start: Math.round(segment.startMs), end: Math.round(segment.endMs) },
      agent_audio_start_ms: reply?.startMs != null ? Math.round(reply.startMs) : null,
      interrupted: reply?.interrupted ?? false,
      latency_ms: {
        end_of_speech_to_final: round(eosToFinal),
        end_of_turn: round(endOfTurn),
        reply: round(agentShare),
        tts_first_audio: round(ttsFirst),
        voice_to_voice: round(v2v),
      },
    };
  });
  return {
    greeting: greetingReply ? { text: greetingReply.text, interrupted: greetingReply.interrupted } : null,
    turns,
  };
}

function findBargeIns(speech: Array<{ startMs: number; endMs: number }>, played: PlayedSegment[]): BargeIn[] {
  const out: BargeIn[] = [];
  for (const segment of played) {
    if (!segment.interrupted) continue;
    const cause = speech.find((s) => s.startMs >= segment.startMs && s.startMs <= segment.endMs);
    if (!cause) continue;
    out.push({
      callerSpeechStartMs: Math.round(cause.startMs),
      agentStoppedMs: Math.round(segment.endMs),
      stopLatencyMs: Math.round(segment.endMs - cause.startMs),
    });
  }
  return out;
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v);
}
