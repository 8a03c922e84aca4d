/**
 * Text preparation for flite: SSML is reduced to its text (flite has no SSML support), and long
 * input is split into sentences because flite returns audio only when a whole call is done; one
 * sentence per call is what makes first audio early.
 */

/** Sentences longer than this are split again at commas or spaces. */
const MAX_SENTENCE_CHARS = 240;

export function plainText(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('<speak')) return trimmed;
  return trimmed
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

export function splitSentences(text: string): string[] {
  const sentences = plainText(text)
    .split(/(?<=[.!?;:])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => /[A-Za-z0-9]/.test(s));
  return sentences.flatMap(splitLong);
}

function splitLong(sentence: string): string[] {
  if (sentence.length <= MAX_SENTENCE_CHARS) return [sentence];
  const out: string[] = [];
  let rest = sentence;
  while (rest.length > MAX_SENTENCE_CHARS) {
    const window = rest.slice(0, MAX_SENTENCE_CHARS);
    let cut = window.lastIndexOf(', ');
    if (cut < MAX_SENTENCE_CHARS / 3) cut = window.lastIndexOf(' ');
    if (cut <= 0) cut = MAX_SENTENCE_CHARS;
    out.push(rest.slice(0, cut + 1).trim());
    rest = rest.slice(cut + 1).trim();
  }
  if (rest) out.push(rest);
  return out;
}
