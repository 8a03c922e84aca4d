/**
 * How a final transcript is written, as Riva writes it:
 * - it ends with a space, because clients build a document by concatenating finals (NVIDIA's
 *   `final_transcript += transcript`), and two utterances must not run together;
 * - with `enable_automatic_punctuation`, it is a sentence: first letter and the pronoun "I" capitalised,
 *   and a full stop (or a question mark after a question opener). That is all a word-only engine can do
 *   cheaply: no commas, no mid-utterance sentence breaks, no inverse text normalisation ("four five six"
 *   stays words). Interims are never punctuated (Riva punctuates finals only).
 */

/** Words that open a question when they start an utterance. */
const QUESTION_OPENERS = new Set(
  (
    'what when where which who whom whose why how is are am was were do does did can could will would ' +
    "shall should may might have has had isn't aren't don't doesn't didn't can't won't wouldn't couldn't shouldn't"
  ).split(' '),
);

function capitaliseWord(word: string): string {
  if (word === 'i' || word.startsWith("i'")) return `I${word.slice(1)}`;
  return word;
}

/** Capitalises and ends a lower-case word sequence as one sentence. */
export function punctuate(words: string): string {
  const list = words.split(' ').filter(Boolean).map(capitaliseWord);
  if (list.length === 0) return '';
  const first = list[0]!;
  list[0] = first.charAt(0).toUpperCase() + first.slice(1);
  const mark = QUESTION_OPENERS.has(first) && list.length > 1 ? '?' : '.';
  return `${list.join(' ')}${mark}`;
}

/** A final's transcript as sent: punctuated if asked, always with Riva's trailing space. */
export function finalTranscript(words: string, punctuation: boolean): string {
  const text = punctuation ? punctuate(words) : words.trim();
  return text === '' ? '' : `${text} `;
}
