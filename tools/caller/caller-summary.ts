/**
 * A real call's summary in the simulated call's format (`summary.json`): turns with the caller's and the
 * agent's text and latencies measured at the caller. What the caller cannot observe (the agent's internal
 * turn end, reply and TTS shares) stays null; `voice_to_voice` is end of caller speech in the WAV → first
 * agent audio received, and `end_of_speech_to_final` is end of speech → the caller's own final transcript
 * arriving over the room's text stream.
 */
import type { SimulationSummary } from '../../agent/src/simulate/report.ts';
import type { CallerReport } from './caller-files.ts';

export interface LiveKitSummary extends SimulationSummary {
  mode: 'livekit';
  caller_identity: string;
  late_frames: number;
}

export interface CallerTurn {
  callerText: string;
  agentText: string;
  speechStartMs: number;
  speechEndMs: number;
  finalAfterMs: number | null;
  voiceToVoiceMs: number | null;
}

/** One segment's text per agent segment id, in arrival order (agent streams are deltas). */
export function agentSegments(report: CallerReport): Array<{ text: string; atMs: number }> {
  const bySegment = new Map<string, { text: string; atMs: number }>();
  for (const t of report.transcriptions) {
    if (t.speaker !== 'agent') continue;
    const seen = bySegment.get(t.segmentId);
    if (seen) seen.text += t.text;
    else bySegment.set(t.segmentId, { text: t.text, atMs: t.atMs });
  }
  return [...bySegment.values()].map((s) => ({ text: s.text.trim(), atMs: s.atMs }));
}

/** Pairs each played utterance with the caller's final transcript and the agent's answer after it. */
export function callerTurns(report: CallerReport): CallerTurn[] {
  const finals = report.transcriptions.filter((t) => t.speaker === 'caller' && t.final);
  const agent = agentSegments(report);
  return report.utterances.map((u, i) => {
    const next = report.utterances[i + 1];
    const final = finals.find((f) => f.atMs >= u.speechStartMs && (!next || f.atMs < next.speechStartMs));
    const burst = report.agentBursts.find((b) => b.startMs > u.speechEndMs);
    const answer = agent.find((a) => a.atMs > u.speechEndMs && (!next || a.atMs < next.speechStartMs));
    return {
      callerText: final?.text ?? '',
      agentText: answer?.text ?? '',
      speechStartMs: u.speechStartMs,
      speechEndMs: u.speechEndMs,
      finalAfterMs: final ? Math.round(final.atMs - u.speechEndMs) : null,
      voiceToVoiceMs:
        burst && (!next || burst.startMs < next.speechStartMs)
          ? Math.round(burst.startMs - u.speechEndMs)
          : null,
    };
  });
}

export function buildLiveKitSummary(
  report: CallerReport,
  meta: { callId: string; callerFile: string; flowFile: string; rivaUrl: string },
): LiveKitSummary {
  const agent = agentSegments(report);
  const firstUtterance = report.utterances[0];
  const greeting =
    agent[0] && (!firstUtterance || agent[0].atMs < firstUtterance.speechEndMs) ? agent[0] : null;
  return {
    mode: 'livekit',
    call_id: meta.callId,
    end_reason: `${report.endedBy}: ${report.endReason}`,
    duration_ms: Math.round(report.durationMs),
    caller_file: meta.callerFile,
    flow_file: meta.flowFile,
    riva_url: meta.rivaUrl,
    caller_identity: report.identity,
    greeting: greeting ? { text: greeting.text, interrupted: false } : null,
    turns: callerTurns(report).map((t) => ({
      caller_text: t.callerText,
      agent_text: t.agentText,
      interrupted: false,
      latency_ms: {
        end_of_speech_to_final: t.finalAfterMs,
        end_of_turn: null,
        reply: null,
        tts_first_audio: null,
        voice_to_voice: t.voiceToVoiceMs,
      },
    })),
    barge_ins: [],
    silence_prompts: 0,
    caller_speech_ms: report.utterances.map((u) => ({
      start: Math.round(u.speechStartMs),
      end: Math.round(u.speechEndMs),
    })),
    events: [],
    late_frames: report.lateFrames,
  };
}
