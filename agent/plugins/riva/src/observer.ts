/**
 * Hooks that let an application count what the plugin does on faults and how fast it is, without the
 * plugin depending on a metrics library. Every hook is optional; a hook that throws is ignored so a bad
 * metrics callback can never break a call.
 */
export interface RivaObserver {
  /** A Riva stream was reopened; `reason` is the lower-case gRPC status name or `server_closed`. */
  reconnect?(reason: string): void;
  /** Audio that never reached Riva (buffer bound hit while disconnected, or replay history cut short). */
  audioDropped?(ms: number): void;
  /** Seconds from the last caller audio of an utterance (its last word's end) being sent to its final. */
  asrFinalLatency?(seconds: number): void;
  /** Seconds from a synthesis request being sent to its first audio bytes. */
  ttsFirstAudio?(seconds: number): void;
  /** A Riva call failed; `kind` is `asr.<status>` or `tts.<status>` (lower-case gRPC status name). */
  streamError?(kind: string): void;
}

type Hook = keyof RivaObserver;
type HookArg<K extends Hook> = Parameters<NonNullable<RivaObserver[K]>>[0];

/** Calls one observer hook, swallowing anything it throws. */
export function notify<K extends Hook>(observer: RivaObserver | undefined, hook: K, arg: HookArg<K>): void {
  const fn = observer?.[hook] as ((a: HookArg<K>) => void) | undefined;
  if (!fn) return;
  try {
    fn.call(observer, arg);
  } catch {
    // Metrics must never take the audio path down.
  }
}
