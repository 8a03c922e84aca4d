/**
 * A real caller: a LiveKit participant (`@livekit/rtc-node`) that joins a call room with the caller token,
 * publishes a WAV as its microphone at real-time pace (20 ms frames, silence between utterances like a live
 * microphone), records the agent's audio as the caller hears it, and collects the room's `lk.transcription`
 * text streams. Every time is measured here, at the caller, on one timeline (ms since the caller joined).
 *
 * Turn taking: by default the caller speaks its next utterance only after the agent has answered the last
 * one and gone quiet, as a person does; `as-recorded` plays the WAV's own timing (for barge-in).
 */
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  DisconnectReason,
  LocalAudioTrack,
  type RemoteParticipant,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { findSpeechSegments, type MonoPcm16, resampleLinear } from '../../agent/src/simulate/wav.ts';
import { AgentVoiceDetector, type VoiceBurst } from './agent-voice.ts';

const FRAME_MS = 20;
/** Rate the agent's audio is recorded at. */
export const RECORD_RATE = 16_000;

export interface CallerOptions {
  url: string;
  token: string;
  audio: MonoPcm16;
  /** 'after-greeting' (default) waits for the agent's greeting to end; 'with-greeting' starts when it starts. */
  start?: 'after-greeting' | 'with-greeting' | 'immediately';
  turnTaking?: 'wait-for-agent' | 'as-recorded';
  /** Silence from the agent (ms) that counts as "the agent has finished". */
  agentQuietMs?: number;
  /** How long (ms) the caller waits for the greeting or an answer before it speaks anyway (default 20 s). */
  answerTimeoutMs?: number;
  /** Hang up this many ms after the agent starts answering utterance N (1-based): a caller leaving mid-reply. */
  hangUpDuringReply?: { utterance: number; afterMs: number };
  /** After the last utterance has been answered and the agent is quiet this long, the caller hangs up. */
  lingerMs?: number;
  maxDurationMs?: number;
  onEvent?: (event: CallerEvent) => void;
}

export type CallerEvent =
  | { type: 'connected'; atMs: number; identity: string; room: string }
  | { type: 'utterance'; atMs: number; index: number; speechStartMs: number; speechEndMs: number }
  | { type: 'agent_audio'; atMs: number; state: 'start' | 'end' }
  | {
      type: 'transcription';
      atMs: number;
      from: string;
      speaker: 'caller' | 'agent';
      text: string;
      final: boolean;
      segmentId: string;
    }
  | { type: 'participant'; atMs: number; identity: string; state: 'joined' | 'left'; kind: string }
  | { type: 'ended'; atMs: number; by: 'caller' | 'room'; reason: string };

export interface PlayedUtterance {
  index: number;
  /** Where the caller's speech starts and ends on the timeline. */
  speechStartMs: number;
  speechEndMs: number;
}

export interface CallerResult {
  identity: string;
  endedBy: 'caller' | 'room';
  endReason: string;
  durationMs: number;
  utterances: PlayedUtterance[];
  agentBursts: VoiceBurst[];
  transcriptions: Extract<CallerEvent, { type: 'transcription' }>[];
  events: CallerEvent[];
  /** What the caller sent and what it heard, on the shared timeline, at RECORD_RATE. */
  callerTrack: Int16Array;
  agentTrack: Int16Array;
  /** Frames the pacing loop sent more than one frame late. */
  lateFrames: number;
}

interface Piece {
  from: number;
  to: number;
  speechStartMs: number;
  speechEndMs: number;
}

/** Cuts the WAV at the middle of each pause, so each piece holds one utterance with its own silences. */
export function splitUtterances(audio: MonoPcm16): Piece[] {
  const segments = findSpeechSegments(audio, { mergeGapMs: 900 });
  const perMs = audio.sampleRate / 1000;
  const pieces: Piece[] = [];
  segments.forEach((seg, i) => {
    const prev = segments[i - 1];
    const next = segments[i + 1];
    const fromMs = prev ? Math.round((prev.endMs + seg.startMs) / 2) : 0;
    const toMs = next ? Math.round((seg.endMs + next.startMs) / 2) : audio.samples.length / perMs;
    pieces.push({
      from: Math.round(fromMs * perMs),
      to: Math.round(toMs * perMs),
      speechStartMs: seg.startMs - fromMs,
      speechEndMs: seg.endMs - fromMs,
    });
  });
  return pieces;
}

/** A growing PCM buffer addressed by timeline position. */
class Timeline {
  #buf = new Int16Array(RECORD_RATE * 60);
  length = 0;
  write(atSample: number, data: Int16Array): void {
    const end = atSample + data.length;
    if (end > this.#buf.length) {
      const grown = new Int16Array(Math.max(end, this.#buf.length * 2));
      grown.set(this.#buf.subarray(0, this.length));
      this.#buf = grown;
    }
    this.#buf.set(data, atSample);
    this.length = Math.max(this.length, end);
  }
  take(): Int16Array {
    return this.#buf.slice(0, this.length);
  }
}

export async function runCaller(opts: CallerOptions): Promise<CallerResult> {
  const rate = opts.audio.sampleRate;
  const frameSamples = Math.round((rate * FRAME_MS) / 1000);
  const pieces = splitUtterances(opts.audio);
  const quietMs = opts.agentQuietMs ?? 700;
  const lingerMs = opts.lingerMs ?? 6000;
  const answerTimeoutMs = opts.answerTimeoutMs ?? 20_000;
  const maxMs = opts.maxDurationMs ?? 180_000;
  const events: CallerEvent[] = [];
  const room = new Room();
  let t0 = performance.now();
  const now = () => performance.now() - t0;
  const emit = (ev: CallerEvent) => {
    events.push(ev);
    opts.onEvent?.(ev);
  };
  const voice = new AgentVoiceDetector({
    quietMs,
    onChange: (state, atMs) => emit({ type: 'agent_audio', atMs, state }),
  });
  const callerLine = new Timeline();
  const agentLine = new Timeline();
  let ended: { by: 'caller' | 'room'; reason: string } | undefined;
  const streams: AudioStream[] = [];

  room.on(RoomEvent.Disconnected, (reason: DisconnectReason) => {
    ended ??= { by: 'room', reason: DisconnectReason[reason] ?? String(reason) };
  });
  room.on(RoomEvent.ParticipantConnected, (p: RemoteParticipant) =>
    emit({ type: 'participant', atMs: now(), identity: p.identity, state: 'joined', kind: String(p.kind) }),
  );
  room.on(RoomEvent.ParticipantDisconnected, (p: RemoteParticipant) =>
    emit({ type: 'participant', atMs: now(), identity: p.identity, state: 'left', kind: String(p.kind) }),
  );
  room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    const stream = new AudioStream(track, { sampleRate: RECORD_RATE, numChannels: 1 });
    streams.push(stream);
    void (async () => {
      let pos = -1;
      for await (const frame of stream) {
        const at = now();
        const expected = Math.round((at * RECORD_RATE) / 1000) - frame.samplesPerChannel;
        // Frames arrive continuously while the track is live; re-anchor only after a real gap.
        if (pos < 0 || expected - pos > RECORD_RATE / 10) pos = Math.max(0, expected);
        agentLine.write(pos, frame.data);
        pos += frame.samplesPerChannel;
        voice.push(frame.data, at);
      }
    })();
  });
  room.registerTextStreamHandler('lk.transcription', (reader, info) => {
    // A stream still open when the call ends fails with "Disconnected while receiving": nothing to keep.
    void reader
      .readAll()
      .catch(() => undefined)
      .then((text) => {
        if (text === undefined) return;
        const attrs = reader.info.attributes ?? {};
        const from = info.identity;
        emit({
          type: 'transcription',
          atMs: now(),
          from,
          speaker: from === room.localParticipant?.identity ? 'caller' : 'agent',
          text,
          final: attrs['lk.transcription_final'] === 'true',
          segmentId: attrs['lk.segment_id'] ?? '',
        });
      });
  });

  await room.connect(opts.url, opts.token, { autoSubscribe: true, dynacast: false });
  t0 = performance.now();
  const identity = room.localParticipant?.identity ?? '';
  emit({ type: 'connected', atMs: 0, identity, room: room.name ?? '' });
  const source = new AudioSource(rate, 1, 200);
  const track = LocalAudioTrack.createAudioTrack('microphone', source);
  const publish = new TrackPublishOptions();
  publish.source = TrackSource.SOURCE_MICROPHONE;
  await room.localParticipant?.publishTrack(track, publish);

  const utterances: PlayedUtterance[] = [];
  const silence = new Int16Array(frameSamples);
  let piece = -1;
  let offset = 0;
  let waitingSince = 0;
  let lateFrames = 0;
  let frameNo = 0;
  const loopStart = performance.now();

  const readyForNext = (at: number): boolean => {
    const next = piece + 1;
    if (next >= pieces.length) return false;
    if (next === 0) {
      if (opts.start === 'immediately') return true;
      if (opts.start === 'with-greeting')
        return voice.speaking || voice.bursts.length > 0 || at > answerTimeoutMs;
      return (voice.bursts.length > 0 && voice.quietFor(at) >= quietMs) || at > answerTimeoutMs;
    }
    if (opts.turnTaking === 'as-recorded') return true;
    const last = utterances.at(-1);
    const answered = last !== undefined && voice.bursts.some((b) => b.startMs > last.speechEndMs);
    return (answered && voice.quietFor(at) >= quietMs) || at - waitingSince > answerTimeoutMs;
  };

  while (!ended) {
    const at = now();
    voice.update(at);
    if (at > maxMs) {
      ended = { by: 'caller', reason: 'max duration' };
      break;
    }
    const hang = opts.hangUpDuringReply;
    if (hang) {
      const u = utterances[hang.utterance - 1];
      const reply = u && voice.bursts.find((b) => b.startMs > u.speechEndMs);
      if (reply && at - reply.startMs >= hang.afterMs) {
        ended = { by: 'caller', reason: 'hang-up during reply' };
        break;
      }
    }
    const playing = piece >= 0 && piece < pieces.length && offset < (pieces[piece]?.to ?? 0);
    let frame = silence;
    if (!playing && readyForNext(at)) {
      piece += 1;
      const p = pieces[piece] as Piece;
      offset = p.from;
      const startMs = at;
      const u = {
        index: piece,
        speechStartMs: startMs + p.speechStartMs,
        speechEndMs: startMs + p.speechEndMs,
      };
      utterances.push(u);
      emit({ type: 'utterance', atMs: at, ...u });
    }
    const current = pieces[piece];
    if (current && offset < current.to) {
      frame = opts.audio.samples.slice(offset, Math.min(offset + frameSamples, current.to));
      if (frame.length < frameSamples) {
        const padded = new Int16Array(frameSamples);
        padded.set(frame);
        frame = padded;
      }
      offset += frameSamples;
      if (offset >= current.to) waitingSince = at;
    } else if (piece >= pieces.length - 1 && utterances.length === pieces.length) {
      const last = utterances.at(-1) as PlayedUtterance;
      const answered = voice.bursts.some((b) => b.startMs > last.speechEndMs);
      if (answered && voice.quietFor(at) >= lingerMs) {
        ended = { by: 'caller', reason: 'done' };
        break;
      }
    }
    callerLine.write(Math.round((at * RECORD_RATE) / 1000), resampleLinear(frame, rate, RECORD_RATE));
    await source.captureFrame(new AudioFrame(frame, rate, 1, frameSamples));
    frameNo += 1;
    const due = loopStart + frameNo * FRAME_MS;
    const wait = due - performance.now();
    if (wait < -FRAME_MS) lateFrames += 1;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  const end = ended ?? { by: 'caller' as const, reason: 'done' };
  emit({ type: 'ended', atMs: now(), by: end.by, reason: end.reason });
  const durationMs = now();
  voice.finish(durationMs);
  for (const s of streams) void s.cancel().catch(() => undefined);
  await track.close().catch(() => undefined);
  if (end.by === 'caller') await room.disconnect().catch(() => undefined);
  await source.close().catch(() => undefined);
  return {
    identity,
    endedBy: end.by,
    endReason: end.reason,
    durationMs,
    utterances,
    agentBursts: voice.bursts,
    transcriptions: events.filter(
      (e): e is Extract<CallerEvent, { type: 'transcription' }> => e.type === 'transcription',
    ),
    events,
    callerTrack: callerLine.take(),
    agentTrack: agentLine.take(),
    lateFrames,
  };
}
