/**
 * `npm run call -- --url <wss> --token <jwt> --caller <wav> --out <dir>`: calls a deployed system as a
 * real participant. Prints one JSON event per line on stdout while the call runs, and writes
 * `<dir>/caller.json` (utterances, agent bursts, transcripts, events), `<dir>/agent.wav` (what the caller
 * heard) and `<dir>/mix.wav` (left: caller, right: agent, one timeline). Exit code 0 when the call ran.
 */
import { parseArgs } from 'node:util';
import { dispose } from '@livekit/rtc-node';
import { readWavFile } from '../../agent/src/simulate/wav.ts';
import { type CallerOptions, runCaller } from './caller.ts';
import { signallingUrl, writeCallerOutputs } from './caller-files.ts';

const USAGE = `usage: npm run call -- --url <ws(s) url> --token <jwt> --caller <wav> --out <dir>
  [--start after-greeting|with-greeting|immediately] [--turn-taking wait-for-agent|as-recorded]
  [--hang-up-during-reply <utterance>:<ms>] [--answer-timeout-ms <ms>] [--linger-ms <ms>]
  [--max-duration-ms <ms>] [--quiet]`;

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number of ms, got ${value}`);
  return n;
}

function parseHangUp(value: string | undefined): CallerOptions['hangUpDuringReply'] {
  if (value === undefined) return undefined;
  const m = /^(\d+):(\d+)$/.exec(value);
  if (!m) throw new Error(`--hang-up-during-reply takes <utterance>:<ms>, got ${value}`);
  return { utterance: Number(m[1]), afterMs: Number(m[2]) };
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`--${name} must be one of ${allowed.join(', ')}, got ${value}`);
  }
  return value as T;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      caller: { type: 'string' },
      out: { type: 'string' },
      start: { type: 'string' },
      'turn-taking': { type: 'string' },
      'hang-up-during-reply': { type: 'string' },
      'linger-ms': { type: 'string' },
      'answer-timeout-ms': { type: 'string' },
      'max-duration-ms': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.url || !values.token || !values.caller || !values.out) {
    console.error(USAGE);
    return 2;
  }
  let options: CallerOptions;
  try {
    options = {
      url: signallingUrl(values.url),
      token: values.token,
      audio: readWavFile(values.caller),
      start: oneOf('start', values.start, ['after-greeting', 'with-greeting', 'immediately'] as const),
      turnTaking: oneOf('turn-taking', values['turn-taking'], ['wait-for-agent', 'as-recorded'] as const),
      hangUpDuringReply: parseHangUp(values['hang-up-during-reply']),
      lingerMs: positiveInt('linger-ms', values['linger-ms']),
      answerTimeoutMs: positiveInt('answer-timeout-ms', values['answer-timeout-ms']),
      maxDurationMs: positiveInt('max-duration-ms', values['max-duration-ms']),
      onEvent: values.quiet ? undefined : (ev) => process.stdout.write(`${JSON.stringify(ev)}\n`),
    };
  } catch (err) {
    console.error(`call: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const result = await runCaller(options);
  writeCallerOutputs(values.out, result);
  return 0;
}

main()
  .then(async (code) => {
    await dispose();
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    console.error(`call failed: ${err instanceof Error ? err.message : String(err)}`);
    await dispose().catch(() => undefined);
    process.exit(1);
  });
