/**
 * The agent's configuration: one zod schema over the environment, read once by each entry point
 * (`main.ts`, `job.ts`, `simulate/main.ts`) with `loadAgentConfig(process.env)` and passed down.
 * Variable names follow docs/development.md; the few extra tuning knobs are documented in agent/README.md.
 */
import { z } from 'zod';
import { type Env, envFields, loadConfig } from '../../common/src/config.ts';

const optionalUrl = z.string().min(1).optional();

export const agentConfigSchema = z.object({
  LIVEKIT_URL: z.string().optional(),
  LIVEKIT_API_KEY: z.string().optional(),
  LIVEKIT_API_SECRET: z.string().optional(),
  AGENT_NAME: z.string().min(1).default('riva-call-agent'),

  RIVA_URL: optionalUrl,
  RIVA_TLS: envFields.bool(false),
  RIVA_CA_FILE: z.string().optional(),
  RIVA_CLIENT_CERT_FILE: z.string().optional(),
  RIVA_CLIENT_KEY_FILE: z.string().optional(),
  RIVA_API_KEY: z.string().optional(),
  RIVA_ASR_FUNCTION_ID: z.string().optional(),
  RIVA_TTS_FUNCTION_ID: z.string().optional(),
  RIVA_LANGUAGE: z.string().min(2).default('en-US'),
  RIVA_ASR_MODEL: z.string().optional(),
  RIVA_TTS_VOICE: z.string().min(1).default('English-US.Female-1'),
  RIVA_TTS_SAMPLE_RATE: z.coerce.number().int().min(8000).max(48000).default(16000),
  /** Riva endpointing window: trailing silence (ms) after which the ASR closes an utterance. */
  RIVA_ENDPOINT_MS: envFields.positiveInt(300),
  /**
   * A recognition stream owed a result (speech sent, or an utterance open) that answers nothing for this long
   * is treated as stalled and reopened with replay; 0 turns the watchdog off.
   */
  RIVA_RESULT_TIMEOUT_MS: envFields.nonNegativeInt(8000).pipe(z.number().max(600_000)),
  /**
   * Send the flow's intent patterns to Riva as boosted phrases. Off by default: on the CPU speech server
   * a boosted stream builds its own language model (seconds of start-up lag) and over-predicts the words.
   */
  RIVA_BOOST_FLOW_PHRASES: envFields.bool(false),
  /** Surface Riva's early end-of-utterance as a preflight transcript and start the reply on it. */
  RIVA_PREFLIGHT: envFields.bool(true),

  BRAIN: z.enum(['scripted', 'llm']).default('scripted'),
  FLOW_FILE: z.string().min(1).default('agent/flows/sample-flow.yaml'),
  LLM_BASE_URL: optionalUrl,
  LLM_MODEL: z.string().optional(),
  LLM_API_KEY: z.string().optional(),
  LLM_SYSTEM_PROMPT: z
    .string()
    .default(
      'You are a friendly phone agent. Answer in one or two short spoken sentences, without lists or markup.',
    ),

  /** 'vad' (Silero end of speech + endpoint delay) or 'stt' (Riva endpointing). */
  TURN_DETECTION: z.enum(['vad', 'stt']).default('vad'),
  /** Silence (ms) that ends a caller turn: Silero's min silence and the session's minimum endpoint delay. */
  ENDPOINT_SILENCE_MS: envFields.positiveInt(300),
  /** Caller speech (ms) needed to interrupt the agent. */
  INTERRUPT_MIN_SPEECH_MS: envFields.positiveInt(150),
  /** Seconds of mutual silence before the agent prompts the caller, then before it releases the call. */
  SILENCE_PROMPT_SECONDS: envFields.positiveInt(8),
  SILENCE_RELEASE_SECONDS: envFields.positiveInt(8),
  /** Conversation items (turns) the reply brain keeps; older ones leave memory (the transcript keeps them). */
  HISTORY_ITEMS: envFields.positiveInt(40),

  CONTROL_API_URL: optionalUrl,
  CONTROL_API_TOKEN: z.string().optional(),
  /** Optional file that backs the transcript spool, so segments survive an agent restart. */
  TRANSCRIPT_SPOOL_FILE: z.string().optional(),

  ALLOWED_REGIONS: envFields.list(['eu-central']),
  /** Extra host names (or `.suffix`es) accepted as EU-resident, e.g. an EU LiveKit Cloud project host. */
  ALLOWED_ENDPOINT_HOSTS: envFields.list([]),
  MAX_CONCURRENT_CALLS: envFields.positiveInt(10),
  /**
   * CPU utilisation (fraction of what this worker may use, last ~5 s) at which it takes no more calls:
   * load = max(calls / MAX_CONCURRENT_CALLS, cpu / MAX_CPU_LOAD).
   */
  MAX_CPU_LOAD: z.coerce
    .number({ message: 'expected a fraction such as 0.8' })
    .gt(0, { message: 'expected a fraction above 0 and at most 1, such as 0.8' })
    .max(1, { message: 'expected a fraction above 0 and at most 1, such as 0.8' })
    .default(0.8),
  /**
   * Whether CPU load counts towards admission at all. Off only where the CPU is shared with unrelated work
   * that is not this worker's to account for (the end-to-end tests run every service on two cores).
   */
  CPU_ADMISSION: envFields.bool(true),
  DRAIN_TIMEOUT_SECONDS: envFields.positiveInt(600),
  METRICS_PORT: envFields.port(9100),
  /** The framework's worker health server (GET /): set it apart when two workers share a host. */
  WORKER_HTTP_PORT: envFields.port(8081),
  LOG_LEVEL: envFields.logLevel(),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;

export function loadAgentConfig(env: Env): AgentConfig {
  return loadConfig(agentConfigSchema, env);
}
