/** The control API's Prometheus metrics. Labels never carry room names, subject ids or tokens. */
import { counter, gauge, histogram, type Registry } from '../../common/src/metrics.ts';

export function createControlApiMetrics(registry: Registry) {
  return {
    httpDuration: histogram(registry, {
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    webhookEvents: counter(registry, {
      name: 'webhook_events_total',
      help: 'LiveKit webhook deliveries by event and result',
      labelNames: ['event', 'result'] as const,
    }),
    gdprRequests: counter(registry, {
      name: 'gdpr_requests_total',
      help: 'GDPR requests handled by kind',
      labelNames: ['kind'] as const,
    }),
    callsActive: gauge(registry, { name: 'calls_active', help: 'Calls not yet ended' }),
    dsrOverdue: gauge(registry, {
      name: 'gdpr_dsr_overdue',
      help: 'Data subject requests past their one-month deadline',
    }),
    retentionDeleted: counter(registry, {
      name: 'retention_deleted_rows_total',
      help: 'Rows deleted by the retention job',
      labelNames: ['table'] as const,
    }),
    authFailures: counter(registry, {
      name: 'auth_failures_total',
      help: 'Rejected API authentications by reason',
      labelNames: ['reason'] as const,
    }),
    auditHeadSeq: gauge(registry, {
      name: 'audit_head_seq',
      help: 'Sequence number of the signed audit head (label: the first 16 hex digits of its hash)',
      labelNames: ['hash'] as const,
    }),
    auditChainValid: gauge(registry, {
      name: 'audit_chain_valid',
      help: '1 if the last audit chain check passed, 0 if it found tampering',
    }),
    livekitRequests: counter(registry, {
      name: 'livekit_requests_total',
      help: 'LiveKit server API calls by method and outcome',
      labelNames: ['method', 'outcome'] as const,
    }),
    agentReplacements: counter(registry, {
      name: 'agent_replacements_total',
      help: 'New agents dispatched into calls whose agent was lost, by outcome',
      labelNames: ['outcome'] as const,
    }),
  };
}

export type ControlApiMetrics = ReturnType<typeof createControlApiMetrics>;
