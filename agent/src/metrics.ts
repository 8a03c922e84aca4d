/**
 * The agent's Prometheus metrics. One `AgentMetrics` per process: the worker's main process holds the
 * active-calls gauge and admission/guard counters; each job process records its call's latencies and
 * events and pushes them to the main process (see metrics-server.ts), which serves the sum on /metrics.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  counter,
  createMetricsRegistry,
  gauge,
  histogram,
  VOICE_LATENCY_BUCKETS,
} from '../../common/src/metrics.ts';

/** Call lifecycle events counted in `agent_call_events_total{event}`. */
export type CallEvent =
  | 'started'
  | 'ended_goodbye'
  | 'ended_hangup'
  | 'ended_silence'
  | 'ended_error'
  | 'ended_shutdown'
  | 'silence_prompt'
  | 'interrupted'
  | 'job_accepted'
  | 'job_rejected_capacity'
  | 'job_rejected_cpu'
  | 'job_rejected_region';

/** Error kinds counted in `agent_errors_total{kind}` (no free text: labels stay low-cardinality). */
export type ErrorKind =
  | 'stt'
  | 'tts'
  | 'llm'
  | 'session'
  | 'riva_stream'
  | 'transcript_upload'
  | 'transcript_rejected'
  | 'transcript_spool_overflow'
  | 'region_guard'
  | 'metrics_push';

export interface AgentMetrics {
  readonly registry: Registry;
  readonly ttsFirstAudio: Histogram<string>;
  readonly asrFinalLatency: Histogram<string>;
  readonly voiceToVoice: Histogram<string>;
  readonly callEvents: Counter<'event'>;
  readonly errors: Counter<'kind'>;
  readonly rivaReconnects: Counter<string>;
  readonly audioDroppedSeconds: Counter<string>;
  readonly activeCalls: Gauge<string>;
  readonly cpuLoad: Gauge<string>;
  callEvent(event: CallEvent): void;
  error(kind: ErrorKind): void;
}

export function createAgentMetrics(
  options: { collectDefault?: boolean; registry?: Registry } = {},
): AgentMetrics {
  const registry =
    options.registry ?? createMetricsRegistry({ service: 'agent', collectDefault: options.collectDefault });
  const callEvents = counter(registry, {
    name: 'agent_call_events_total',
    help: 'Call lifecycle events (started, ended_*, silence_prompt, interrupted, job_*)',
    labelNames: ['event'] as const,
  });
  const errors = counter(registry, {
    name: 'agent_errors_total',
    help: 'Errors by kind',
    labelNames: ['kind'] as const,
  });
  return {
    registry,
    ttsFirstAudio: histogram(registry, {
      name: 'riva_tts_first_audio_seconds',
      help: 'Time from a TTS request to its first audio',
      buckets: VOICE_LATENCY_BUCKETS,
    }),
    asrFinalLatency: histogram(registry, {
      name: 'riva_asr_final_latency_seconds',
      help: 'Time from the end of the caller speech to the final transcript',
      buckets: VOICE_LATENCY_BUCKETS,
    }),
    voiceToVoice: histogram(registry, {
      name: 'agent_voice_to_voice_seconds',
      help: 'Time from the end of the caller speech to the first audio of the reply',
      buckets: VOICE_LATENCY_BUCKETS,
    }),
    callEvents,
    errors,
    rivaReconnects: counter(registry, {
      name: 'agent_riva_reconnects_total',
      help: 'Riva streams re-established after a failure',
    }),
    audioDroppedSeconds: counter(registry, {
      name: 'agent_audio_dropped_seconds_total',
      help: 'Caller audio dropped because a bounded buffer was full',
    }),
    activeCalls: gauge(registry, { name: 'agent_active_calls', help: 'Calls in progress on this worker' }),
    cpuLoad: gauge(registry, {
      name: 'agent_cpu_load',
      help: 'CPU utilisation available to this worker (0..1, last ~5 s) as admission sees it',
      // Job processes push this gauge unset (0); the worker's own value is the one that counts.
      aggregator: 'max',
    }),
    callEvent(event) {
      callEvents.inc({ event });
    },
    error(kind) {
      errors.inc({ kind });
    },
  };
}
