/**
 * A thin koffi binding to Debian's PocketSphinx 0.8+5prealpha (`libpocketsphinx.so.3`,
 * `libsphinxbase.so.3`). Only the calls the streaming decoder needs are bound. koffi needs no
 * compiler or -dev packages, which keeps `npm ci` on a plain Debian box working.
 *
 * Every call here blocks for up to a few hundred milliseconds, so this module is only ever loaded
 * inside a worker thread (see decoder-worker.ts). One decoder must only be used by one thread.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';

export const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface DecoderPaths {
  hmm: string;
  lm: string;
  dict: string;
}

export const DEFAULT_PATHS: DecoderPaths = {
  hmm: `${MODEL_DIR}/en-us`,
  lm: `${MODEL_DIR}/en-us.lm.bin`,
  dict: `${MODEL_DIR}/cmudict-en-us.dict`,
};

/** One recognised word: times in 10 ms frames relative to the utterance start, posterior in 0..1. */
export interface SegWord {
  word: string;
  startFrame: number;
  endFrame: number;
  posterior: number;
}

type Ptr = unknown;

function bind() {
  const sb = koffi.load('libsphinxbase.so.3');
  const ps = koffi.load('libpocketsphinx.so.3');
  return {
    cmd_ln_set_int_r: sb.func('void cmd_ln_set_int_r(void *cmdln, const char *name, long iv)'),
    cmd_ln_parse_r: sb.func(
      'void *cmd_ln_parse_r(void *inout, void *defn, int argc, char **argv, int strict)',
    ),
    logmath_exp: sb.func('double logmath_exp(void *lmath, int logb_p)'),
    ngram_model_read: sb.func(
      'void *ngram_model_read(void *config, const char *file, int type, void *lmath)',
    ),
    ngram_model_set_init: sb.func(
      'void *ngram_model_set_init(void *config, void **models, char **names, const float *weights, int n)',
    ),
    ngram_model_retain: sb.func('void *ngram_model_retain(void *model)'),
    ngram_model_free: sb.func('int ngram_model_free(void *model)'),
    ps_args: ps.func('void *ps_args()'),
    ps_init: ps.func('void *ps_init(void *config)'),
    ps_free: ps.func('int ps_free(void *ps)'),
    ps_get_config: ps.func('void *ps_get_config(void *ps)'),
    ps_get_logmath: ps.func('void *ps_get_logmath(void *ps)'),
    ps_start_stream: ps.func('int ps_start_stream(void *ps)'),
    ps_start_utt: ps.func('int ps_start_utt(void *ps)'),
    ps_end_utt: ps.func('int ps_end_utt(void *ps)'),
    ps_process_raw: ps.func(
      'int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full)',
    ),
    ps_get_hyp: ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)'),
    ps_get_prob: ps.func('int32_t ps_get_prob(void *ps)'),
    // 5prealpha dropped the score argument of ps_seg_iter; passing an extra pointer is harmless in
    // the SysV ABI, so this one signature works with both header versions.
    ps_seg_iter: ps.func('void *ps_seg_iter(void *ps, _Out_ int32_t *score)'),
    ps_seg_next: ps.func('void *ps_seg_next(void *seg)'),
    ps_seg_word: ps.func('const char *ps_seg_word(void *seg)'),
    ps_seg_frames: ps.func('void ps_seg_frames(void *seg, _Out_ int *sf, _Out_ int *ef)'),
    ps_seg_prob: ps.func(
      'int32_t ps_seg_prob(void *seg, _Out_ int32_t *a, _Out_ int32_t *l, _Out_ int32_t *b)',
    ),
    ps_seg_free: ps.func('void ps_seg_free(void *seg)'),
    ps_get_search: ps.func('const char *ps_get_search(void *ps)'),
    ps_set_search: ps.func('int ps_set_search(void *ps, const char *name)'),
    ps_get_lm: ps.func('void *ps_get_lm(void *ps, const char *name)'),
    ps_set_lm: ps.func('int ps_set_lm(void *ps, const char *name, void *lm)'),
    ps_lookup_word: ps.func('const char *ps_lookup_word(void *ps, const char *word)'),
    ps_get_feat: ps.func('void *ps_get_feat(void *ps)'),
  };
}

let lib: ReturnType<typeof bind> | undefined;
function native(): ReturnType<typeof bind> {
  lib ??= bind();
  return lib;
}

/**
 * The start of sphinxbase 5prealpha's `feat_t` (x86_64 and aarch64 LP64 layout) up to `cmn_struct`,
 * and `cmn_t`. sphinxbase has no accessor for a feature's CMN state (cmn_live_set would not restore its
 * running sum and frame count), and live CMN is the state that carries from one stream into the next,
 * so the decoder reads the struct, checks it (veclen must equal cepsize) and snapshots it after loading.
 */
type CType = ReturnType<typeof koffi.struct>;
interface CmnState {
  cmn_mean: Ptr;
  cmn_var: Ptr;
  sum: Ptr;
  nframe: number;
  veclen: number;
}
interface CmnSnapshot {
  ptr: Ptr;
  /** The struct as loaded (pointers, nframe, veclen). */
  state: CmnState;
  vec: CType;
  mean: Float32Array;
  sum: Float32Array;
  var: Float32Array | undefined;
}
let featTypes: { feat: CType; cmn: CType } | undefined;
function cmnTypes() {
  featTypes ??= {
    feat: koffi.struct('ps_feat_head', {
      refcount: 'int',
      name: 'void *',
      cepsize: 'int32_t',
      n_stream: 'int32_t',
      stream_len: 'void *',
      window_size: 'int32_t',
      n_sv: 'int32_t',
      sv_len: 'void *',
      subvecs: 'void *',
      sv_buf: 'void *',
      sv_dim: 'int32_t',
      cmn: 'int',
      varnorm: 'int32_t',
      agc: 'int',
      compute_feat: 'void *',
      cmn_struct: 'void *',
    }),
    cmn: koffi.struct('ps_cmn', {
      cmn_mean: 'void *',
      cmn_var: 'void *',
      sum: 'void *',
      nframe: 'int32_t',
      veclen: 'int32_t',
    }),
  };
  return featTypes;
}

/** Filler and sentence tokens that PocketSphinx emits but no transcript should contain. */
function isFiller(word: string): boolean {
  return word.startsWith('<') || word.startsWith('[') || word.startsWith('+') || word === '';
}

/** Drops the "(2)" alternate-pronunciation suffix. */
function baseWord(word: string): string {
  const i = word.indexOf('(');
  return i > 0 ? word.slice(0, i) : word;
}

export interface DecoderOptions {
  paths?: Partial<DecoderPaths>;
  /** Extra `-flag value` pairs (e.g. `-maxhmmpf 3000` when CPU-bound). */
  extraArgs?: string[];
}

const CONTEXT_SEARCH = 'speech_contexts';
const CONTEXT_MAX_HMM_PER_FRAME = 3000;

/**
 * One PocketSphinx decoder. Audio must be 16 kHz mono s16. The caller decides where utterances
 * start and end (our own VAD), so the decoder's silence removal is off and frame numbers map to
 * wall-clock time exactly: frame n of an utterance is n*10 ms after its first sample.
 */
export class Decoder {
  readonly #ps: Ptr;
  readonly #lmath: Ptr;
  readonly #defaultSearch: string;
  #inUtt = false;
  /** The decoder-wide -maxhmmpf (PocketSphinx default 30000), restored after creating a context search. */
  readonly #maxHmmPf: number;
  /** ARPA text of the phrase LM currently loaded, so a repeat request (every turn of a call) is free. */
  #contextArpa: string | undefined;
  /** The live-CMN state and its value right after loading (from the model's -cmninit). */
  readonly #cmn: CmnSnapshot | undefined;

  constructor(options: DecoderOptions = {}) {
    const n = native();
    const paths = { ...DEFAULT_PATHS, ...options.paths };
    const argv = [
      '-hmm',
      paths.hmm,
      '-lm',
      paths.lm,
      '-dict',
      paths.dict,
      '-logfn',
      '/dev/null',
      // fwdflat off: ps_end_utt drops from ~110 ms to ~30 ms for a 0.2 % WER cost (reference §4).
      '-fwdflat',
      'no',
      '-remove_silence',
      'no',
      ...(options.extraArgs ?? []),
    ];
    const i = argv.indexOf('-maxhmmpf');
    this.#maxHmmPf = i >= 0 ? Number(argv[i + 1]) : 30_000;
    const config = n.cmd_ln_parse_r(null, n.ps_args(), argv.length, argv, 1);
    if (!config) throw new Error('pocketsphinx: bad decoder arguments');
    const ps = n.ps_init(config);
    if (!ps) throw new Error('pocketsphinx: ps_init failed (is pocketsphinx-en-us installed?)');
    this.#ps = ps;
    this.#lmath = n.ps_get_logmath(ps);
    this.#defaultSearch = (n.ps_get_search(ps) as string | null) ?? '_default';
    this.#cmn = this.#findCmn();
  }

  /** Reads the decoder's live-CMN state and copies its arrays as they are now (just after loading). */
  #findCmn(): CmnSnapshot | undefined {
    const feat = native().ps_get_feat(this.#ps);
    if (!feat) return undefined;
    const types = cmnTypes();
    const head = koffi.decode(feat, types.feat) as { cepsize: number; cmn_struct: Ptr };
    if (!head.cmn_struct || head.cepsize <= 0 || head.cepsize > 64) return undefined;
    const state = koffi.decode(head.cmn_struct, types.cmn) as CmnState;
    if (state.veclen !== head.cepsize || !state.cmn_mean || !state.sum) return undefined;
    const vec = koffi.array('float', state.veclen, 'Typed');
    const copy = (p: Ptr) => (p ? Float32Array.from(koffi.decode(p, vec) as Float32Array) : undefined);
    return {
      ptr: head.cmn_struct,
      state,
      vec,
      mean: copy(state.cmn_mean)!,
      sum: copy(state.sum)!,
      var: copy(state.cmn_var),
    };
  }

  /** False if this library's layout could not be verified (streams may then influence each other). */
  get canResetCmn(): boolean {
    return this.#cmn !== undefined;
  }

  /**
   * Forgets everything earlier streams taught the decoder: live cepstral mean back to the model's
   * initial value, generic LM. Called at the start of every stream, so the same audio always gives
   * the same transcript whatever this decoder heard before.
   */
  resetForStream(): void {
    if (this.#inUtt) {
      native().ps_end_utt(this.#ps);
      this.#inUtt = false;
    }
    const c = this.#cmn;
    if (c) {
      koffi.encode(c.state.cmn_mean, c.vec, c.mean);
      koffi.encode(c.state.sum, c.vec, c.sum);
      if (c.var && c.state.cmn_var) koffi.encode(c.state.cmn_var, c.vec, c.var);
      koffi.encode(c.ptr, cmnTypes().cmn, c.state);
    }
    this.useGenericLm();
  }

  /** True if the dictionary knows the word (lower case). */
  knows(word: string): boolean {
    return native().ps_lookup_word(this.#ps, word) !== null;
  }

  /**
   * Interpolates a phrase LM (ARPA text) with the generic LM and makes it the active search, so
   * phrase words and word orders get more probability without closing the vocabulary.
   * `weight` is the phrase LM's share (0..1).
   */
  useContextLm(arpa: string, weight: number): void {
    const n = native();
    const key = `${weight}\n${arpa}`;
    if (key === this.#contextArpa) {
      if (n.ps_set_search(this.#ps, CONTEXT_SEARCH) < 0)
        throw new Error('pocketsphinx: ps_set_search failed');
      return;
    }
    this.#contextArpa = undefined;
    const config = n.ps_get_config(this.#ps);
    // sphinxbase only reads LMs from files.
    const dir = mkdtempSync(join(tmpdir(), 'phrase-lm-'));
    let phraseLm: Ptr;
    try {
      const file = join(dir, 'phrases.arpa');
      writeFileSync(file, arpa);
      phraseLm = n.ngram_model_read(config, file, 1, this.#lmath);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (!phraseLm) throw new Error('pocketsphinx: could not read the phrase LM');
    const generic = n.ps_get_lm(this.#ps, this.#defaultSearch);
    if (!generic) throw new Error('pocketsphinx: default LM missing');
    // The set takes ownership of its members; retain the generic LM because the default search
    // still owns it.
    n.ngram_model_retain(generic);
    const set = n.ngram_model_set_init(
      config,
      [generic, phraseLm],
      ['generic', 'phrases'],
      new Float32Array([1 - weight, weight]),
      2,
    );
    if (!set) {
      n.ngram_model_free(phraseLm);
      n.ngram_model_free(generic);
      throw new Error('pocketsphinx: could not interpolate the phrase LM');
    }
    // Interpolated LM lookups cost 2-3x the generic LM's; cap active HMMs for this search (it reads
    // the decoder config when created) so a boosted stream still decodes faster than real time.
    n.cmd_ln_set_int_r(config, '-maxhmmpf', CONTEXT_MAX_HMM_PER_FRAME);
    const created = n.ps_set_lm(this.#ps, CONTEXT_SEARCH, set);
    n.cmd_ln_set_int_r(config, '-maxhmmpf', this.#maxHmmPf);
    if (created < 0) throw new Error('pocketsphinx: ps_set_lm failed');
    // ps_set_lm retained the set.
    n.ngram_model_free(set);
    if (n.ps_set_search(this.#ps, CONTEXT_SEARCH) < 0) throw new Error('pocketsphinx: ps_set_search failed');
    this.#contextArpa = key;
  }

  /** Back to the generic LM (between streams that reuse this decoder). */
  useGenericLm(): void {
    native().ps_set_search(this.#ps, this.#defaultSearch);
  }

  startStream(): void {
    native().ps_start_stream(this.#ps);
  }

  startUtt(): void {
    if (this.#inUtt) return;
    // Restart the frame counter so segment frames are relative to this utterance's first sample.
    native().ps_start_stream(this.#ps);
    if (native().ps_start_utt(this.#ps) < 0) throw new Error('pocketsphinx: ps_start_utt failed');
    this.#inUtt = true;
  }

  get inUtterance(): boolean {
    return this.#inUtt;
  }

  process(samples: Int16Array): void {
    if (!this.#inUtt) this.startUtt();
    if (samples.length === 0) return;
    if (native().ps_process_raw(this.#ps, samples, samples.length, 0, 0) < 0) {
      throw new Error('pocketsphinx: ps_process_raw failed');
    }
  }

  /** Current best hypothesis (lower-case words separated by spaces, fillers removed). */
  hypothesis(): string {
    const score = [0];
    const hyp = native().ps_get_hyp(this.#ps, score) as string | null;
    if (!hyp) return '';
    return hyp
      .split(' ')
      .filter((w) => !isFiller(w))
      .map(baseWord)
      .join(' ');
  }

  /** Ends the utterance; returns the final words and the utterance posterior (0..1). */
  endUtt(): { words: SegWord[]; confidence: number } {
    const n = native();
    if (!this.#inUtt) return { words: [], confidence: 0 };
    this.#inUtt = false;
    n.ps_end_utt(this.#ps);
    const words: SegWord[] = [];
    let seg = n.ps_seg_iter(this.#ps, [0]);
    while (seg) {
      const word = n.ps_seg_word(seg) as string;
      if (!isFiller(word)) {
        const sf = [0];
        const ef = [0];
        n.ps_seg_frames(seg, sf, ef);
        const post = n.ps_seg_prob(seg, [0], [0], [0]) as number;
        words.push({
          word: baseWord(word),
          startFrame: sf[0] ?? 0,
          endFrame: (ef[0] ?? 0) + 1,
          posterior: clamp01(n.logmath_exp(this.#lmath, post) as number),
        });
      }
      seg = n.ps_seg_next(seg);
    }
    const prob = n.ps_get_prob(this.#ps) as number;
    const confidence = words.length > 0 ? clamp01(n.logmath_exp(this.#lmath, prob) as number) : 0;
    return { words, confidence };
  }

  free(): void {
    native().ps_free(this.#ps);
  }
}

function clamp01(x: number): number {
  if (!Number.isFinite(x)) return 0;
  return Math.min(1, Math.max(0, x));
}
