/** Maps Riva recognition results onto the framework's `SpeechData`. */
import { asLanguageCode, createTimedString, type stt } from '@livekit/agents';
import type { SpeechRecognitionAlternative__Output, WordInfo__Output } from '../../../../proto/src/index.ts';

export interface MapContext {
  /** Default language when Riva reports none. */
  language: string;
  /** Seconds to add to Riva's stream-local times (call start on the timeline + framework offset). */
  offsetSec: number;
  /** Stream-local seconds Riva has processed (fallback for the segment end). */
  audioProcessedSec: number;
  diarization: boolean;
}

const speaker = (w: WordInfo__Output): string | null =>
  w.speaker_tag !== undefined && w.speaker_tag !== null ? `S${w.speaker_tag}` : null;

export function toSpeechData(alt: SpeechRecognitionAlternative__Output, ctx: MapContext): stt.SpeechData {
  const words = alt.words ?? [];
  const text = (alt.transcript ?? '').trim();
  const first = words[0];
  const last = words[words.length - 1];
  const data: stt.SpeechData = {
    language: asLanguageCode(alt.language_code?.[0] || ctx.language),
    text,
    startTime: ctx.offsetSec + (first ? (first.start_time ?? 0) / 1000 : 0),
    endTime: ctx.offsetSec + (last ? (last.end_time ?? 0) / 1000 : ctx.audioProcessedSec),
    confidence: alt.confidence ?? 0,
  };
  if (words.length > 0) {
    data.words = words.map((w) =>
      createTimedString({
        text: w.word ?? '',
        startTime: ctx.offsetSec + (w.start_time ?? 0) / 1000,
        endTime: ctx.offsetSec + (w.end_time ?? 0) / 1000,
        confidence: w.confidence ?? 0,
        speakerId: ctx.diarization ? speaker(w) : null,
      }),
    );
    if (ctx.diarization && first) data.speakerId = speaker(first);
  }
  const langs = alt.language_code ?? [];
  if (langs.length > 1) data.sourceLanguages = langs.map(asLanguageCode);
  return data;
}

/** Timeline-relative end (stream-local seconds) of what a final covers: last word end, else audio processed. */
export function speechEndSec(
  alt: SpeechRecognitionAlternative__Output | undefined,
  processedSec: number,
): number {
  const last = alt?.words?.[alt.words.length - 1];
  return last?.end_time !== undefined && last.end_time !== null ? last.end_time / 1000 : processedSec;
}
