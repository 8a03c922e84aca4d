import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isSpeech, ResultWatchdog, SPEECH_RMS } from '../src/stt-watchdog.ts';

const RATE = 16000;
const T = 300;
/** One 100 ms chunk at a constant level. */
const chunk = (level: number): Buffer => {
  const b = Buffer.alloc((RATE / 10) * 2);
  for (let i = 0; i < b.length; i += 2) b.writeInt16LE(i % 4 === 0 ? level : -level, i);
  return b;
};
const SPEECH = chunk(3000);
const SILENCE = chunk(0);
const NOISE = chunk(SPEECH_RMS - 50);
const interim = [{ is_final: false, alternatives: [{ transcript: 'alpha' }] }];
const final = [{ is_final: true, alternatives: [{ transcript: 'alpha' }] }];

let stalls = 0;
function dog(interimResults = true, timeoutMs = T): ResultWatchdog {
  return new ResultWatchdog({ timeoutMs, sampleRate: RATE, interimResults, onStall: () => stalls++ });
}
/** Sends `n` chunks in real time (100 ms each). */
function talk(w: ResultWatchdog, c: Buffer, n: number): void {
  for (let i = 0; i < n; i++) {
    w.onSent(c);
    vi.advanceTimersByTime(100);
  }
}

beforeEach(() => {
  stalls = 0;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => vi.useRealTimers());

describe('ResultWatchdog (definition of a stalled recognition stream)', () => {
  it('classifies speech by RMS: keepalive silence and line noise are not speech', () => {
    expect(isSpeech(SPEECH)).toBe(true);
    expect(isSpeech(SILENCE)).toBe(false);
    expect(isSpeech(NOISE)).toBe(false);
    expect(isSpeech(chunk(SPEECH_RMS + 50))).toBe(true);
    // An odd byte offset (a Buffer slice) is read correctly too.
    expect(isSpeech(Buffer.concat([Buffer.alloc(1), SPEECH]).subarray(1))).toBe(true);
  });

  it('silence or noise with no utterance open is never owed a result, however long', () => {
    const w = dog();
    talk(w, SILENCE, 50);
    talk(w, NOISE, 50);
    vi.advanceTimersByTime(10 * T);
    expect(stalls).toBe(0);
    expect(w.owedMs).toBe(0);
  });

  it('unanswered speech stalls once both timeoutMs of wall time and of audio have passed', () => {
    const w = dog();
    talk(w, SPEECH, 3); // 300 ms of audio, 300 ms of wall time: due now
    expect(stalls).toBe(1);
    talk(w, SPEECH, 10);
    expect(stalls).toBe(1); // once
  });

  it('audio faster than real time waits for the wall time; the timer fires without more audio', () => {
    const w = dog();
    for (let i = 0; i < 20; i++) w.onSent(SPEECH); // 2 s of audio at once (a replay, a file)
    vi.advanceTimersByTime(T - 1);
    expect(stalls).toBe(0);
    vi.advanceTimersByTime(1);
    expect(stalls).toBe(1);
  });

  it('audio slower than real time (input stopped, starved process) waits for the audio', () => {
    const w = dog();
    w.onSent(SPEECH);
    vi.advanceTimersByTime(10 * T);
    expect(stalls).toBe(0);
    w.onSent(SILENCE);
    expect(stalls).toBe(0);
    w.onSent(SILENCE); // 300 ms of audio since the speech: due
    expect(stalls).toBe(1);
  });

  it('any response clears the owed time; an open utterance is owed its final even on silence', () => {
    const w = dog();
    talk(w, SPEECH, 2);
    w.onResponse(interim);
    expect(w.owedMs).toBe(0);
    talk(w, SPEECH, 2);
    w.onResponse(interim);
    talk(w, SILENCE, 2);
    expect(stalls).toBe(0);
    talk(w, SILENCE, 1); // no final 300 ms into the silence after an interim
    expect(stalls).toBe(1);
  });

  it('after a final, silence is not owed anything', () => {
    const w = dog();
    talk(w, SPEECH, 2);
    w.onResponse(interim);
    talk(w, SILENCE, 1);
    w.onResponse(final);
    talk(w, SILENCE, 30);
    expect(stalls).toBe(0);
    // An empty interim (Riva's "nothing yet") does not open an utterance either.
    w.onResponse([{ is_final: false, alternatives: [{ transcript: ' ' }] }]);
    talk(w, SILENCE, 30);
    expect(stalls).toBe(0);
  });

  it('with interim results off, a long utterance is not a stall, its unanswered end is', () => {
    const w = dog(false);
    talk(w, SPEECH, 50); // 5 s of speech: Riva answers only at the endpoint
    expect(stalls).toBe(0);
    talk(w, SILENCE, 1);
    expect(stalls).toBe(0);
    talk(w, SILENCE, 1); // 300 ms (wall and audio) from the last speech chunk
    expect(stalls).toBe(1);
  });

  it('after the half-close the end of the stream is owed, on wall time alone', () => {
    const w = dog();
    talk(w, SILENCE, 5);
    w.onHalfClose();
    vi.advanceTimersByTime(T - 1);
    w.onResponse(final); // a response restarts the wait for the end
    vi.advanceTimersByTime(T - 1);
    expect(stalls).toBe(0);
    vi.advanceTimersByTime(1);
    expect(stalls).toBe(1);
  });

  it('stop() and timeoutMs 0 turn it off', () => {
    const a = dog();
    a.onSent(SPEECH);
    a.stop();
    vi.advanceTimersByTime(10 * T);
    const b = dog(true, 0);
    talk(b, SPEECH, 50);
    b.onHalfClose();
    vi.advanceTimersByTime(10 * T);
    expect(stalls).toBe(0);
  });
});
