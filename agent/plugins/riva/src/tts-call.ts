/**
 * One synthesis request: `SynthesizeOnline` with exactly one request followed by a half-close, which
 * works with both the pre-2026 server-streaming RPC and the 2026 bidirectional one (an old server drops
 * requests 2..N silently, so we never send more). Unary `Synthesize` is the fallback for servers that
 * lack streaming. Aborting cancels the gRPC call at once so a barge-in frees the server immediately.
 */
import { status as Status } from '@grpc/grpc-js';
import type {
  SynthesizeSpeechRequest,
  SynthesizeSpeechResponse__Output,
} from '../../../../proto/src/index.ts';
import type { RivaChannel } from './channel.ts';
import { unaryCall } from './client.ts';
import { statusName, statusOf, toAPIError } from './errors.ts';
import { notify, type RivaObserver } from './observer.ts';

export interface SynthesisOptions {
  signal: AbortSignal;
  firstAudioTimeoutMs: number;
  observer: RivaObserver | undefined;
  /** Use unary `Synthesize` straight away. */
  unary: boolean;
  /** Fall back to unary when the server says UNIMPLEMENTED. */
  unaryFallback: boolean;
  onAudio(pcm: Buffer): void;
}

export interface SynthesisResult {
  /** Seconds from the request being sent to its first audio, if any arrived. */
  firstAudioSec: number | undefined;
  /** The server lacks SynthesizeOnline and unary was used: callers may skip streaming from now on. */
  usedUnaryFallback: boolean;
  aborted: boolean;
}

export async function synthesize(
  channel: RivaChannel,
  req: SynthesizeSpeechRequest,
  o: SynthesisOptions,
): Promise<SynthesisResult> {
  if (o.signal.aborted) return { firstAudioSec: undefined, usedUnaryFallback: false, aborted: true };
  if (o.unary) return synthesizeUnary(channel, req, o, false);
  try {
    return await synthesizeOnline(channel, req, o);
  } catch (e) {
    if (o.unaryFallback && statusOf(e) === Status.UNIMPLEMENTED)
      return synthesizeUnary(channel, req, o, true);
    notify(o.observer, 'streamError', `tts.${statusName(statusOf(e))}`);
    throw toAPIError(e, 'SynthesizeOnline', channel.target);
  }
}

function synthesizeOnline(
  channel: RivaChannel,
  req: SynthesizeSpeechRequest,
  o: SynthesisOptions,
): Promise<SynthesisResult> {
  return new Promise<SynthesisResult>((resolve, reject) => {
    const call = channel.tts.SynthesizeOnline(channel.metadata(), {});
    const t0 = performance.now();
    let firstAudioSec: number | undefined;
    let timedOut = false;
    let settled = false;
    // No audio for firstAudioTimeoutMs — before the first chunk or between chunks (a server that stalls
    // mid-sentence) — cancels the call: a reply must fail rather than hang.
    let timer = setTimeout(onTimeout, o.firstAudioTimeoutMs);
    function onTimeout(): void {
      timedOut = true;
      call.cancel();
    }
    const onAbort = (): void => call.cancel();
    o.signal.addEventListener('abort', onAbort, { once: true });
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      fn();
    };
    call.on('data', (res: SynthesizeSpeechResponse__Output) => {
      const audio = res.audio;
      if (!audio || audio.length === 0 || settled) return;
      clearTimeout(timer);
      timer = setTimeout(onTimeout, o.firstAudioTimeoutMs);
      if (firstAudioSec === undefined) {
        firstAudioSec = (performance.now() - t0) / 1000;
        notify(o.observer, 'ttsFirstAudio', firstAudioSec);
      }
      o.onAudio(audio);
    });
    call.on('error', (err: Error & { code?: number }) => {
      if (o.signal.aborted)
        return settle(() => resolve({ firstAudioSec, usedUnaryFallback: false, aborted: true }));
      if (timedOut) {
        const details = `no audio for ${o.firstAudioTimeoutMs} ms`;
        const e = Object.assign(new Error(details), {
          code: Status.DEADLINE_EXCEEDED,
          details,
          metadata: undefined,
        });
        return settle(() => reject(e));
      }
      settle(() => reject(err));
    });
    call.on('end', () => settle(() => resolve({ firstAudioSec, usedUnaryFallback: false, aborted: false })));
    // Exactly one request, then half-close: see the module comment.
    call.write(req);
    call.end();
  });
}

async function synthesizeUnary(
  channel: RivaChannel,
  req: SynthesizeSpeechRequest,
  o: SynthesisOptions,
  fallback: boolean,
): Promise<SynthesisResult> {
  const t0 = performance.now();
  try {
    const res = await unaryCall<SynthesizeSpeechResponse__Output>(
      channel,
      'Synthesize',
      (md, opts, cb) => channel.tts.Synthesize(req, md, opts, cb),
      { signal: o.signal, timeoutMs: Math.max(o.firstAudioTimeoutMs, channel.unaryTimeoutMs) },
    );
    let firstAudioSec: number | undefined;
    if (res.audio && res.audio.length > 0) {
      firstAudioSec = (performance.now() - t0) / 1000;
      notify(o.observer, 'ttsFirstAudio', firstAudioSec);
      o.onAudio(res.audio);
    }
    return { firstAudioSec, usedUnaryFallback: fallback, aborted: false };
  } catch (e) {
    if (o.signal.aborted) return { firstAudioSec: undefined, usedUnaryFallback: fallback, aborted: true };
    notify(o.observer, 'streamError', `tts.${e instanceof Error ? errorKind(e) : 'unknown'}`);
    throw e;
  }
}

function errorKind(e: Error): string {
  const m = /failed: ([A-Z_]+)/.exec(e.message);
  return (m?.[1] ?? 'UNKNOWN').toLowerCase();
}
