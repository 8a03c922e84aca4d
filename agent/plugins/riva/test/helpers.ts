import { initializeLogger } from '@livekit/agents';

// The framework's classes log through a global logger that must exist first.
initializeLogger({ pretty: false, level: process.env.RIVA_TEST_LOG ?? 'error' });

import { stt } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';

/** Splits PCM into frames of the given sizes (cycled), like a jittery resampler or a telephony leg. */
export function framesOf(pcm: Int16Array, rate: number, sizes: number[]): AudioFrame[] {
  const out: AudioFrame[] = [];
  let off = 0;
  let i = 0;
  while (off < pcm.length) {
    const n = Math.min(sizes[i++ % sizes.length]!, pcm.length - off);
    out.push(new AudioFrame(pcm.slice(off, off + n), rate, 1, n));
    off += n;
  }
  return out;
}

export interface Collected {
  events: stt.SpeechEvent[];
  finals: string[];
  types: string[];
}

/** Reads a speech stream until `until` returns true or the stream ends (with a timeout). */
export async function collect(
  stream: AsyncIterable<stt.SpeechEvent>,
  until: (c: Collected) => boolean,
  timeoutMs = 10_000,
): Promise<Collected> {
  const c: Collected = { events: [], finals: [], types: [] };
  const it = stream[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (!until(c)) {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(`timeout; got ${JSON.stringify(c.types)} finals=${JSON.stringify(c.finals)}`);
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<'timeout'>((res) => {
        t = setTimeout(() => res('timeout'), left);
      }),
    ]).finally(() => clearTimeout(t));
    if (r === 'timeout') continue;
    if (r.done) break;
    c.events.push(r.value);
    c.types.push(stt.SpeechEventType[r.value.type]);
    if (r.value.type === stt.SpeechEventType.FINAL_TRANSCRIPT)
      c.finals.push(r.value.alternatives?.[0]?.text ?? '');
  }
  return c;
}
