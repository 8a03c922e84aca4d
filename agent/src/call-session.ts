/**
 * One call = one AgentSession, built here for both the LiveKit worker and the simulated call so that
 * the code a test or benchmark exercises is the code production runs.
 *
 * Behaviour: greet, listen, reply (scripted flow or LLM), prompt a silent caller then release the
 * line, end on the caller's goodbye once the goodbye reply has played, end on hang-up. Finished
 * transcript segments go to a sink (the control-API uploader). Turn detection and interruption mode
 * are always explicit: their defaults reach LiveKit Cloud.
 */
import { EventEmitter } from 'node:events';
import { llm, type stt, type tts, type VAD, voice } from '@livekit/agents';
import type { Room } from '@livekit/rtc-node';
import type { Logger } from '../../common/src/logger.ts';
import { CallAgent, type ReplyBrain, type ScriptedReplyEvent } from './brains/reply-brain.ts';
import { installLeakFreeRace } from './leak-free-race.ts';
import type { AgentMetrics } from './metrics.ts';
import { installTaskChainRelease } from './task-chain-release.ts';
import type { TranscriptSegmentInput } from './transcript-uploader.ts';

// Every session needs these before it starts: without them @livekit/agents 1.9 keeps every audio frame
// (leak-free-race.ts) and every user turn (task-chain-release.ts) of a call in memory until the call ends.
installLeakFreeRace();
installTaskChainRelease();

export interface CallSettings {
  /** 'vad': Silero end of speech + `endpointSilenceMs`; 'stt': Riva's own endpointing. */
  turnDetection: 'vad' | 'stt';
  endpointSilenceMs: number;
  /** Caller speech needed before the agent stops talking (barge-in). */
  interruptMinSpeechMs: number;
  /** Start the reply (text and TTS) on the recogniser's preflight transcript. */
  preemptiveGeneration: boolean;
  silencePromptMs: number;
  silenceReleaseMs: number;
  /**
   * Conversation items (caller and agent turns) kept in memory for the reply brain; older ones are dropped
   * (the system instructions stay). Bounds a call's memory and an LLM's context however long the call;
   * the full transcript goes to the transcript sink as it happens.
   */
  historyItems: number;
}

export type CallEndReason = 'goodbye' | 'hangup' | 'silence' | 'error' | 'shutdown';

export interface TranscriptSink {
  add(segment: TranscriptSegmentInput): void;
}

export interface CallSessionDeps {
  callId: string;
  settings: CallSettings;
  stt: stt.STT;
  tts: tts.TTS;
  vad: VAD;
  brain: ReplyBrain;
  logger: Logger;
  metrics?: AgentMetrics;
  transcripts?: TranscriptSink;
  /** Runs once the call has ended (the worker deletes the room there, which hangs up a phone caller). */
  onEnded?: (reason: CallEndReason) => Promise<void> | void;
}

export interface CallSessionEvents {
  scripted_reply: [ScriptedReplyEvent];
  ending: [CallEndReason];
}

export interface CallSession {
  readonly callId: string;
  readonly session: voice.AgentSession;
  readonly agent: CallAgent;
  readonly events: EventEmitter<CallSessionEvents>;
  /** Resolves with the reason once the call has ended and the session is closed. */
  readonly ended: Promise<CallEndReason>;
  /**
   * Joins the session to the room and speaks the greeting, or the resume line when `resumed`.
   * `timelineStartMs` (epoch ms) anchors segment times; every agent of one call passes the same one (the
   * room's creation), so a resumed agent's segments follow the lost agent's. Defaults to now.
   */
  start(options?: { room?: Room; resumed?: boolean; timelineStartMs?: number }): Promise<void>;
  endCall(reason: CallEndReason): Promise<void>;
}

export function createCallSession(deps: CallSessionDeps): CallSession {
  const { settings, logger, metrics } = deps;
  const log = logger.child({ callId: deps.callId });
  const events = new EventEmitter<CallSessionEvents>();
  const agent = new CallAgent({
    brain: deps.brain,
    onScriptedReply: (reply) => events.emit('scripted_reply', reply),
  });
  const session = new voice.AgentSession({
    stt: deps.stt,
    tts: deps.tts,
    vad: deps.vad,
    llm: deps.brain.llm,
    turnHandling: {
      turnDetection: settings.turnDetection,
      endpointing: { mode: 'fixed', minDelay: settings.endpointSilenceMs, maxDelay: 3000 },
      interruption: {
        enabled: true,
        mode: 'vad',
        minDuration: settings.interruptMinSpeechMs,
        // A clipped reply is not resumed: on a phone line a restarted sentence sounds broken.
        resumeFalseInterruption: false,
      },
      preemptiveGeneration: { enabled: settings.preemptiveGeneration, preemptiveTts: true },
    },
    // The warm-up would block barge-in for 3 s of every reply.
    aecWarmupDuration: null,
    // Silence is handled below with separate prompt and release timeouts.
    userAwayTimeout: null,
  });

  let resolveEnded!: (reason: CallEndReason) => void;
  const ended = new Promise<CallEndReason>((resolve) => {
    resolveEnded = resolve;
  });
  let ending: CallEndReason | undefined;
  let startedAtMs = Date.now();
  let agentState: voice.AgentState = 'initializing';
  let userState: voice.UserState = 'listening';
  let silenceTimer: NodeJS.Timeout | undefined;
  let silencePrompted = false;
  let lastUserWasGoodbye = false;
  // The caller spoke and their words are still being recognised: not silence, even if the recogniser
  // lags (bounded, so a lost transcript cannot hold the line open for ever).
  let awaitingTranscriptSince: number | undefined;
  const TRANSCRIPT_WAIT_MS = 15_000;

  const disarmSilence = () => {
    if (silenceTimer) clearTimeout(silenceTimer);
    silenceTimer = undefined;
  };
  const armSilence = () => {
    disarmSilence();
    if (ending || agentState !== 'listening' || userState !== 'listening') return;
    if (awaitingTranscriptSince !== undefined) {
      const waited = Date.now() - awaitingTranscriptSince;
      if (waited < TRANSCRIPT_WAIT_MS) {
        silenceTimer = setTimeout(armSilence, TRANSCRIPT_WAIT_MS - waited);
        silenceTimer.unref?.();
        return;
      }
      awaitingTranscriptSince = undefined;
    }
    silenceTimer = setTimeout(
      () => {
        silenceTimer = undefined;
        if (!silencePrompted) {
          silencePrompted = true;
          metrics?.callEvent('silence_prompt');
          log.info('caller silent, prompting');
          session.say(deps.brain.flow.silencePrompt);
        } else {
          log.info('caller still silent, releasing the call');
          void endCall('silence');
        }
      },
      silencePrompted ? settings.silenceReleaseMs : settings.silencePromptMs,
    );
    silenceTimer.unref?.();
  };

  session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) => {
    agentState = ev.newState;
    if (ev.newState === 'thinking' || ev.newState === 'speaking') awaitingTranscriptSince = undefined;
    armSilence();
  });
  session.on(voice.AgentSessionEventTypes.UserStateChanged, (ev) => {
    userState = ev.newState;
    if (ev.newState === 'speaking') {
      silencePrompted = false;
      awaitingTranscriptSince = Date.now();
    }
    armSilence();
  });
  session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
    if (!ev.isFinal) return;
    awaitingTranscriptSince = undefined;
    armSilence();
  });
  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (ev) => {
    const item = ev.item;
    if (!(item instanceof llm.ChatMessage)) return;
    const text = item.textContent ?? '';
    if (item.role === 'user') {
      lastUserWasGoodbye = deps.brain.flow.isGoodbye(text);
    }
    if (item.role === 'assistant') {
      if (item.interrupted) metrics?.callEvent('interrupted');
      const e2e = item.metrics.e2eLatency;
      if (e2e !== undefined && e2e >= 0) metrics?.voiceToVoice.observe(e2e);
    }
    if ((item.role === 'user' || item.role === 'assistant') && text.trim() !== '') {
      const startedMs =
        secondsToCallMs(item.metrics.startedSpeakingAt, startedAtMs) ?? item.createdAt - startedAtMs;
      const endedMs = secondsToCallMs(item.metrics.stoppedSpeakingAt, startedAtMs) ?? startedMs;
      deps.transcripts?.add({
        speaker: item.role === 'user' ? 'caller' : 'agent',
        text,
        startMs: Math.max(0, Math.round(startedMs)),
        endMs: Math.max(0, Math.round(Math.max(endedMs, startedMs))),
      });
    }
    // The goodbye reply has played in full (the item is added after playout): end the call.
    if (item.role === 'assistant' && lastUserWasGoodbye && !item.interrupted) void endCall('goodbye');
    // Both live contexts, in place: every copy the framework makes later (reply, preemptive reply) is bounded.
    session.history.truncate(settings.historyItems);
    agent._chatCtx.truncate(settings.historyItems);
  });
  session.on(voice.AgentSessionEventTypes.Error, (ev) => {
    const source = ev.error as { type?: string; recoverable?: boolean };
    const kind = source.type === 'stt_error' ? 'stt' : source.type === 'tts_error' ? 'tts' : 'llm';
    metrics?.error(source.type?.endsWith('_error') ? kind : 'session');
    log.warn({ kind, recoverable: source.recoverable ?? false }, 'session error');
  });
  session.on(voice.AgentSessionEventTypes.Close, (ev) => {
    disarmSilence();
    // Closed by the framework (the caller left the room, or an unrecoverable error): a hang-up.
    if (!ending) {
      const reason: CallEndReason = ev.error ? 'error' : 'hangup';
      ending = reason;
      events.emit('ending', reason);
      void finish(reason);
    }
  });

  let finished = false;
  const finish = async (reason: CallEndReason) => {
    if (finished) return;
    finished = true;
    disarmSilence();
    metrics?.callEvent(`ended_${reason}`);
    log.info({ reason, durationMs: Date.now() - startedAtMs }, 'call ended');
    try {
      await deps.onEnded?.(reason);
    } catch (err) {
      log.warn({ err }, 'call end hook failed');
    }
    resolveEnded(reason);
  };

  async function endCall(reason: CallEndReason): Promise<void> {
    if (ending) return;
    ending = reason;
    disarmSilence();
    events.emit('ending', reason);
    try {
      if (reason === 'silence') {
        const handle = session.say(deps.brain.flow.silenceRelease, { allowInterruptions: false });
        await handle.waitForPlayout();
      }
      // A Riva stream stuck in reconnects must not keep a finished call open.
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        session.close().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), 10_000);
        }),
      ]);
      clearTimeout(timer);
      if (!closed) log.warn('session did not close within 10 s, ending the call anyway');
    } catch (err) {
      log.warn({ err }, 'closing the session failed');
    }
    await finish(reason);
  }

  return {
    callId: deps.callId,
    session,
    agent,
    events,
    ended,
    async start(options = {}) {
      const now = Date.now();
      const anchor = options.timelineStartMs;
      // A clock-skewed or missing anchor falls back to now (within a day in the past only).
      startedAtMs = anchor !== undefined && anchor <= now && now - anchor < 86_400_000 ? anchor : now;
      await session.start({
        agent,
        ...(options.room ? { room: options.room } : {}),
      });
      metrics?.callEvent('started');
      const resumed = options.resumed === true;
      log.info({ brain: deps.brain.kind, turnDetection: settings.turnDetection, resumed }, 'call started');
      session.say(resumed ? deps.brain.flow.resumeLine : deps.brain.flow.greeting);
    },
    endCall,
  };
}

function secondsToCallMs(epochSeconds: number | undefined, callStartMs: number): number | undefined {
  return epochSeconds === undefined ? undefined : epochSeconds * 1000 - callStartMs;
}
