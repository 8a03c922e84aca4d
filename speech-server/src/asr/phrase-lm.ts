/**
 * Builds a small ARPA trigram from Riva `speech_contexts` phrases. PocketSphinx interpolates it
 * with the generic LM (see Decoder.useContextLm), which is how a phrase list becomes a boost: the
 * phrases' words and word orders gain probability, other speech is still recognised.
 *
 * Smoothing is backoff with absolute discounting (D = 0.5) and add-one unigrams: no toolkit, and
 * good enough for a few hundred words.
 */

const DISCOUNT = 0.5;

/** Lower-cases and splits a phrase into dictionary-style words (letters, digits, apostrophes). */
export function phraseWords(phrase: string): string[] {
  return phrase
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0 && w !== "'");
}

/** Maps a Riva boost (NVIDIA suggests 4..100, 0 = unset) to the phrase LM's interpolation weight. */
export function boostToWeight(boost: number | undefined): number {
  if (boost === undefined || !Number.isFinite(boost) || boost <= 0) return 0.5;
  return Math.min(0.9, Math.max(0.2, boost / (boost + 10)));
}

type Counts = Map<string, number>;

function bump(m: Counts, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

const log10 = (p: number) => (p > 0 ? Math.log10(p) : -99);
const fmt = (x: number) => x.toFixed(4);

/**
 * Returns ARPA text for the sentences (each already split into known words), or undefined when no
 * sentence has a word.
 */
export function buildArpa(sentences: string[][]): string | undefined {
  const usable = sentences.filter((s) => s.length > 0);
  if (usable.length === 0) return undefined;
  const uni: Counts = new Map();
  const bi: Counts = new Map();
  const tri: Counts = new Map();
  for (const words of usable) {
    const toks = ['<s>', ...words, '</s>'];
    for (let i = 0; i < toks.length; i++) {
      if (i > 0) bump(uni, toks[i]!);
      if (i > 0) bump(bi, `${toks[i - 1]} ${toks[i]}`);
      if (i > 1) bump(tri, `${toks[i - 2]} ${toks[i - 1]} ${toks[i]}`);
    }
  }
  uni.set('<s>', 0);
  const vocab = [...uni.keys()];
  const total = [...uni.values()].reduce((a, b) => a + b, 0);
  const pUni = new Map<string, number>();
  for (const w of vocab) pUni.set(w, w === '<s>' ? 0 : ((uni.get(w) ?? 0) + 1) / (total + vocab.length - 1));

  // History counts and distinct followers for bigram and trigram contexts.
  const histCount = (grams: Counts) => {
    const count: Counts = new Map();
    const types: Counts = new Map();
    for (const [g, c] of grams) {
      const h = g.slice(0, g.lastIndexOf(' '));
      count.set(h, (count.get(h) ?? 0) + c);
      types.set(h, (types.get(h) ?? 0) + 1);
    }
    return { count, types };
  };
  const biHist = histCount(bi);
  const triHist = histCount(tri);

  const pBi = new Map<string, number>();
  for (const [g, c] of bi) pBi.set(g, (c - DISCOUNT) / biHist.count.get(g.slice(0, g.lastIndexOf(' ')))!);
  const bowUni = new Map<string, number>();
  for (const [h, c] of biHist.count) {
    const left = (DISCOUNT * biHist.types.get(h)!) / c;
    let seenLower = 0;
    for (const g of bi.keys()) if (g.startsWith(`${h} `)) seenLower += pUni.get(g.slice(h.length + 1)) ?? 0;
    bowUni.set(h, left / Math.max(1e-6, 1 - seenLower));
  }
  const biProb = (h: string, w: string) => pBi.get(`${h} ${w}`) ?? (bowUni.get(h) ?? 1) * (pUni.get(w) ?? 0);

  const pTri = new Map<string, number>();
  for (const [g, c] of tri) pTri.set(g, (c - DISCOUNT) / triHist.count.get(g.slice(0, g.lastIndexOf(' ')))!);
  const bowBi = new Map<string, number>();
  for (const [h, c] of triHist.count) {
    const left = (DISCOUNT * triHist.types.get(h)!) / c;
    const last = h.slice(h.indexOf(' ') + 1);
    let seenLower = 0;
    for (const g of tri.keys()) if (g.startsWith(`${h} `)) seenLower += biProb(last, g.slice(h.length + 1));
    bowBi.set(h, left / Math.max(1e-6, 1 - seenLower));
  }

  const lines = ['\\data\\', `ngram 1=${vocab.length}`, `ngram 2=${bi.size}`, `ngram 3=${tri.size}`, ''];
  lines.push('\\1-grams:');
  for (const w of vocab) {
    const bow = bowUni.get(w);
    lines.push(`${fmt(log10(pUni.get(w)!))} ${w}${bow !== undefined ? ` ${fmt(log10(bow))}` : ''}`);
  }
  lines.push('', '\\2-grams:');
  for (const g of bi.keys()) {
    const bow = bowBi.get(g);
    lines.push(`${fmt(log10(pBi.get(g)!))} ${g}${bow !== undefined ? ` ${fmt(log10(bow))}` : ''}`);
  }
  lines.push('', '\\3-grams:');
  for (const g of tri.keys()) lines.push(`${fmt(log10(pTri.get(g)!))} ${g}`);
  lines.push('', '\\end\\', '');
  return lines.join('\n');
}
