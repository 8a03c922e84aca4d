/**
 * Scripted call flows (IVR-style lines, tests and the demo): a YAML or JSON file with a greeting,
 * intents matched on the caller's transcript, replies, a fallback and a goodbye. The flow also
 * supplies the silence prompt and release lines used by every brain.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const patternList = z.array(z.string().min(1)).min(1);

export const flowFileSchema = z.strictObject({
  greeting: z.string().min(1),
  fallback: z.string().min(1),
  silence_prompt: z.string().min(1).default('Are you still there?'),
  silence_release: z.string().min(1).default('I will end the call now. Goodbye.'),
  /** Said instead of the greeting by an agent that takes over a call whose first agent was lost. */
  resume: z.string().min(1).default('Sorry, I lost you for a moment. I am back, please go on.'),
  goodbye: z.strictObject({ patterns: patternList, reply: z.string().min(1) }),
  intents: z
    .array(z.strictObject({ name: z.string().min(1), patterns: patternList, reply: z.string().min(1) }))
    .default([]),
});

export type FlowFile = z.infer<typeof flowFileSchema>;

export interface FlowReply {
  /** The intent that matched, `goodbye`, or `fallback`. */
  intent: string;
  text: string;
  /** True when the call should end once this reply has played. */
  endsCall: boolean;
}

interface CompiledIntent {
  name: string;
  matchers: RegExp[];
  reply: string;
}

export class FlowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlowError';
  }
}

/** A loaded, validated flow with its patterns compiled once. */
export class ScriptedFlow {
  readonly file: FlowFile;
  readonly #intents: CompiledIntent[];
  readonly #goodbye: RegExp[];

  constructor(file: FlowFile) {
    this.file = file;
    this.#intents = file.intents.map((intent) => ({
      name: intent.name,
      matchers: intent.patterns.map(compilePattern),
      reply: intent.reply,
    }));
    this.#goodbye = file.goodbye.patterns.map(compilePattern);
  }

  get greeting(): string {
    return this.file.greeting;
  }

  get resumeLine(): string {
    return this.file.resume;
  }

  get silencePrompt(): string {
    return this.file.silence_prompt;
  }

  get silenceRelease(): string {
    return this.file.silence_release;
  }

  /** True when the caller said goodbye (used by the LLM brain too, to end the call after its reply). */
  isGoodbye(transcript: string): boolean {
    return this.#goodbye.some((m) => m.test(transcript));
  }

  /** Picks the reply for one caller turn. Goodbye wins over any other intent. */
  reply(transcript: string): FlowReply {
    if (this.isGoodbye(transcript)) {
      return { intent: 'goodbye', text: this.file.goodbye.reply, endsCall: true };
    }
    let best: { intent: CompiledIntent; score: number } | undefined;
    for (const intent of this.#intents) {
      const score = intent.matchers.filter((m) => m.test(transcript)).length;
      if (score > 0 && (best === undefined || score > best.score)) best = { intent, score };
    }
    if (best === undefined) return { intent: 'fallback', text: this.file.fallback, endsCall: false };
    return { intent: best.intent.name, text: best.intent.reply, endsCall: false };
  }

  /** Plain-word patterns, offered to the recogniser as boosted phrases. */
  boostPhrases(): string[] {
    const words = [...this.file.goodbye.patterns, ...this.file.intents.flatMap((i) => i.patterns)];
    return [...new Set(words.filter((p) => !isRegexPattern(p)))];
  }
}

function isRegexPattern(pattern: string): boolean {
  return pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/');
}

function compilePattern(pattern: string): RegExp {
  if (isRegexPattern(pattern)) {
    try {
      return new RegExp(pattern.slice(1, -1), 'i');
    } catch (err) {
      throw new FlowError(`invalid regular expression ${pattern}: ${(err as Error).message}`);
    }
  }
  const escaped = pattern
    .trim()
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\s+/g, '\\s+');
  return new RegExp(`(^|[^\\p{L}\\p{N}'])${escaped}($|[^\\p{L}\\p{N}'])`, 'iu');
}

/** Parses flow text; `format` picks JSON or YAML (YAML also accepts JSON). */
export function parseFlow(text: string, source = 'flow'): ScriptedFlow {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new FlowError(`${source}: not valid YAML or JSON: ${(err as Error).message}`);
  }
  const parsed = flowFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new FlowError(`${source}: invalid flow file:\n  ${issues.join('\n  ')}`);
  }
  return new ScriptedFlow(parsed.data);
}

export function loadFlowFile(path: string): ScriptedFlow {
  const ext = extname(path).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(ext)) {
    throw new FlowError(`${path}: a flow file must end in .yaml, .yml or .json`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FlowError(`${path}: cannot read flow file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseFlow(text, path);
}
