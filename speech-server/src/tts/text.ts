/**
 * Text preparation for flite: SSML is reduced to its text (flite has no SSML support), and long
 * input is split into sentences because flite returns audio only when a whole call is done; one
 * sentence per call is what makes first audio early.
 *
 * Everything here is one pass over the text (indexOf scans that never go back, no backtracking
 * regex), so a request's cost is linear in its size: `"<speak" + "<".repeat(160_000)` once blocked the
 * event loop for 10 s through `/<[^>]*>/g`.
 */

/** Sentences longer than this are split again at commas or spaces. */
const MAX_SENTENCE_CHARS = 240;

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };

/** Tags become spaces; an unclosed `<` is text (Riva reads invalid SSML as text). */
function stripTags(ssml: string): string {
  const out: string[] = [];
  let i = 0;
  while (i < ssml.length) {
    const lt = ssml.indexOf('<', i);
    if (lt < 0) {
      out.push(ssml.slice(i));
      break;
    }
    out.push(ssml.slice(i, lt));
    const gt = ssml.indexOf('>', lt + 1);
    // No '>' anywhere after: nothing later can close a tag either, the rest is text.
    if (gt < 0) {
      out.push(ssml.slice(lt));
      break;
    }
    out.push(' ');
    i = gt + 1;
  }
  return out.join('');
}

export function plainText(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('<speak')) return trimmed;
  return stripTags(trimmed)
    .replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ENTITIES[name] ?? '')
    .replace(/\s+/g, ' ')
    .trim();
}

const speakable = (s: string) => /[A-Za-z0-9]/.test(s);

export function splitSentences(text: string): string[] {
  return plainText(text)
    .split(/(?<=[.!?;:])\s+|\n+/)
    .map((s) => s.trim())
    .filter(speakable)
    .flatMap(splitLong)
    .filter(speakable);
}

/** Cuts at the last ", " (or space) of each 240-character window; each window is read once. */
function splitLong(sentence: string): string[] {
  if (sentence.length <= MAX_SENTENCE_CHARS) return [sentence];
  const out: string[] = [];
  let start = 0;
  while (sentence.length - start > MAX_SENTENCE_CHARS) {
    // Search a copy of the window only: lastIndexOf on the whole sentence would scan back to its start.
    const window = sentence.slice(start, start + MAX_SENTENCE_CHARS);
    let cut = window.lastIndexOf(', ');
    if (cut < MAX_SENTENCE_CHARS / 3) cut = window.lastIndexOf(' ');
    if (cut <= 0) cut = MAX_SENTENCE_CHARS - 1;
    const piece = window.slice(0, cut + 1).trim();
    if (piece) out.push(piece);
    start += cut + 1;
    while (sentence[start] === ' ') start++;
  }
  const rest = sentence.slice(start).trim();
  if (rest) out.push(rest);
  return out;
}
