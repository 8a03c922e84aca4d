/**
 * Word error rate of the dev speech server on recordings shipped in Debian packages, plus the
 * flite loopback for comparison. Starts the server in-process on a free port and uses unary
 * Recognize, as any Riva client would.
 *
 *   npx tsx speech-server/scripts/measure-wer.ts [--prompts 24] [--json]
 *
 * Sets (skipped with a note when the package is missing):
 * - LibriVox: 5 read-speech utterances, 16 kHz male (`pocketsphinx-testdata`).
 * - Asterisk: IVR prompts, 8 kHz female (`asterisk-core-sounds-en-wav`), texts from
 *   core-sounds-en.txt.gz. Generic LM, and with all the prompts' texts as speech_contexts.
 * - Loopback: the test suite's phone sentences via flite rms (server TTS) at 16 kHz and 8 kHz mu-law.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../common/src/logger.ts';
import type { RecognitionConfig } from '../../proto/src/index.ts';
import { startSpeechServer } from '../src/server.ts';
import { type Clients, connect, PHONE_SENTENCES, wordErrors } from '../test/helpers.ts';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const ASTERISK = '/usr/share/asterisk/sounds/en_US_f_Allison';
const ASTERISK_TEXTS = '/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz';

interface Item {
  audio: Buffer; // a whole WAV file
  ref: string;
}

interface SetResult {
  set: string;
  condition: string;
  utterances: number;
  words: number;
  errors: number;
  werPercent: number;
  examples: Array<{ ref: string; hyp: string }>;
}

function librivox(): Item[] {
  if (!existsSync(LIBRIVOX)) return [];
  const lines = readFileSync(join(LIBRIVOX, 'transcription'), 'utf8').split('\n').filter(Boolean);
  return lines.map((line) => {
    const id = /\(([^)]+)\)\s*$/.exec(line)?.[1] ?? '';
    const ref = line
      .replace(/<\/?s>/g, '')
      .replace(/\([^)]+\)\s*$/, '')
      .trim();
    return { audio: readFileSync(join(LIBRIVOX, `${id}.wav`)), ref };
  });
}

/** Top-level Asterisk prompts with a plain-word text (no digits, no [sound] descriptions), sorted. */
function asterisk(limit: number): Item[] {
  if (!existsSync(ASTERISK) || !existsSync(ASTERISK_TEXTS)) return [];
  const texts = new Map<string, string>();
  for (const line of execFileSync('zcat', [ASTERISK_TEXTS], { encoding: 'utf8' }).split('\n')) {
    const m = /^([a-z0-9-]+):\s*(.+)$/.exec(line);
    if (m && !/[[\]0-9]/.test(m[2]!)) texts.set(m[1]!, m[2]!);
  }
  const files = readdirSync(ASTERISK)
    .filter((f) => f.endsWith('.wav') && texts.has(f.slice(0, -4)))
    .sort();
  // Prompts of at least four words: one-word prompts say little about a recogniser.
  return files
    .map((f) => ({ file: f, ref: texts.get(f.slice(0, -4))! }))
    .filter((x) => x.ref.split(/\s+/).length >= 4)
    .slice(0, limit)
    .map((x) => ({ audio: readFileSync(join(ASTERISK, x.file)), ref: x.ref }));
}

function recognize(clients: Clients, audio: Buffer, config: RecognitionConfig): Promise<string> {
  return new Promise((resolve, reject) =>
    clients.asr.Recognize({ config, audio }, (err, res) =>
      err
        ? reject(err)
        : resolve((res?.results ?? []).map((r) => r.alternatives[0]?.transcript ?? '').join(' ')),
    ),
  );
}

function synthesize(
  clients: Clients,
  text: string,
  encoding: 'LINEAR_PCM' | 'MULAW',
  rate: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    clients.tts.Synthesize(
      { text, encoding, sample_rate_hz: rate, voice_name: 'English-US.Male-1' },
      (err, res) => (err ? reject(err) : resolve(res?.audio ?? Buffer.alloc(0))),
    ),
  );
}

async function score(
  set: string,
  condition: string,
  items: Array<{ ref: string; run: () => Promise<string> }>,
): Promise<SetResult> {
  let errors = 0;
  let words = 0;
  const examples: SetResult['examples'] = [];
  // Two at a time: one decoder per request, two cores.
  for (let i = 0; i < items.length; i += 2) {
    const batch = items.slice(i, i + 2);
    const hyps = await Promise.all(batch.map((it) => it.run()));
    batch.forEach((it, j) => {
      const e = wordErrors(it.ref, hyps[j]!);
      errors += e.errors;
      words += e.words;
      if (examples.length < 3) examples.push({ ref: it.ref, hyp: hyps[j]! });
    });
    process.stderr.write(`\r${set} / ${condition}: ${Math.min(i + 2, items.length)}/${items.length}   `);
  }
  process.stderr.write('\n');
  return {
    set,
    condition,
    utterances: items.length,
    words,
    errors,
    werPercent: words ? (100 * errors) / words : 0,
    examples,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const promptCount = Number(args[args.indexOf('--prompts') + 1]) || 24;
  const server = await startSpeechServer({
    port: 0,
    warmDecoders: 2,
    logger: createLogger({ level: 'warn', service: 'speech-server' }),
  });
  const clients = connect(server.address);
  const results: SetResult[] = [];
  const wavConfig: RecognitionConfig = { language_code: 'en-US' };
  try {
    const lv = librivox();
    if (lv.length === 0) console.error('pocketsphinx-testdata not installed: LibriVox skipped');
    else {
      results.push(
        await score(
          'LibriVox read speech, 16 kHz male',
          'generic LM',
          lv.map((it) => ({ ref: it.ref, run: () => recognize(clients, it.audio, wavConfig) })),
        ),
      );
    }
    const ast = asterisk(promptCount);
    if (ast.length === 0) console.error('asterisk-core-sounds-en-wav not installed: Asterisk skipped');
    else {
      results.push(
        await score(
          'Asterisk IVR prompts, 8 kHz female',
          'generic LM',
          ast.map((it) => ({ ref: it.ref, run: () => recognize(clients, it.audio, wavConfig) })),
        ),
      );
      const contexts = [{ phrases: ast.map((it) => it.ref), boost: 20 }];
      results.push(
        await score(
          'Asterisk IVR prompts, 8 kHz female',
          `speech_contexts = the ${ast.length} prompt texts`,
          ast.map((it) => ({
            ref: it.ref,
            run: () => recognize(clients, it.audio, { ...wavConfig, speech_contexts: contexts }),
          })),
        ),
      );
    }
    const pcm16: RecognitionConfig = {
      language_code: 'en-US',
      encoding: 'LINEAR_PCM',
      sample_rate_hertz: 16000,
    };
    const mulaw8: RecognitionConfig = { language_code: 'en-US', encoding: 'MULAW', sample_rate_hertz: 8000 };
    results.push(
      await score(
        'Loopback flite rms, 16 kHz',
        'generic LM',
        PHONE_SENTENCES.map((ref) => ({
          ref,
          run: async () => recognize(clients, await synthesize(clients, ref, 'LINEAR_PCM', 16000), pcm16),
        })),
      ),
    );
    results.push(
      await score(
        'Loopback flite rms, 8 kHz mu-law',
        'generic LM',
        PHONE_SENTENCES.map((ref) => ({
          ref,
          run: async () => recognize(clients, await synthesize(clients, ref, 'MULAW', 8000), mulaw8),
        })),
      ),
    );
  } finally {
    clients.close();
    await server.stop();
  }
  console.log('\n| Set | Condition | Utterances | Words | WER % |\n|---|---|---|---|---|');
  for (const r of results)
    console.log(`| ${r.set} | ${r.condition} | ${r.utterances} | ${r.words} | ${r.werPercent.toFixed(1)} |`);
  if (args.includes('--json')) console.log(JSON.stringify(results, null, 2));
  else console.log(JSON.stringify(results.map(({ examples: _e, ...r }) => r)));
}

await main();
