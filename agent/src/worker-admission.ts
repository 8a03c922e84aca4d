/**
 * Which jobs the worker takes: not past MAX_CONCURRENT_CALLS, not with the CPU at MAX_CPU_LOAD (a shared or
 * noisy host can run out of CPU before it runs out of call slots), not while draining, and only from allowed
 * regions with every configured endpoint on the EU allow-list. `loadFunc` reports
 * max(active calls / capacity, CPU load / MAX_CPU_LOAD), capped at 1, so LiveKit stops dispatching here when
 * either is full; `requestFunc` re-checks at accept time because load reports are only sent every 2.5 s.
 */
import type { AgentServer, JobRequest } from '@livekit/agents';
import type { Logger } from '../../common/src/logger.ts';
import type { AgentConfig } from './config.ts';
import type { AgentMetrics } from './metrics.ts';
import {
  checkRegion,
  type RegionCheckInput,
  type RegionVerdict,
  regionFromMetadata,
} from './region-guard.ts';

export function configuredEndpoints(config: AgentConfig): RegionCheckInput['endpoints'] {
  return [
    { name: 'LIVEKIT_URL', url: config.LIVEKIT_URL },
    { name: 'RIVA_URL', url: config.RIVA_URL },
    { name: 'LLM_BASE_URL', url: config.BRAIN === 'llm' ? config.LLM_BASE_URL : undefined },
    { name: 'CONTROL_API_URL', url: config.CONTROL_API_URL },
  ];
}

export interface JobRegionFacts {
  roomMetadata?: string;
  dispatchMetadata?: string;
  publisherRegion?: string;
}

export function checkJobRegion(config: AgentConfig, facts: JobRegionFacts): RegionVerdict {
  return checkRegion(
    {
      regions: [
        { source: 'room metadata', region: regionFromMetadata(facts.roomMetadata) },
        { source: 'dispatch metadata', region: regionFromMetadata(facts.dispatchMetadata) },
        { source: 'participant', region: facts.publisherRegion },
      ],
      endpoints: configuredEndpoints(config),
    },
    { allowedRegions: config.ALLOWED_REGIONS, allowedHosts: config.ALLOWED_ENDPOINT_HOSTS },
  );
}

export interface Admission {
  requestFunc: (job: JobRequest) => Promise<void>;
  loadFunc: (worker: AgentServer) => Promise<number>;
  /** Active calls as last seen (the worker object is only handed to loadFunc). */
  activeCalls(): number;
  setDraining(): void;
  readonly draining: boolean;
}

export function createAdmission(deps: {
  config: AgentConfig;
  metrics: AgentMetrics;
  logger: Logger;
  /** CPU utilisation 0..1 (cpu-load.ts), undefined while unknown; without it only calls count. */
  cpuLoad?: () => number | undefined;
}): Admission {
  const { config, metrics, logger } = deps;
  let worker: AgentServer | undefined;
  let draining = false;
  // Jobs accepted since the last load report, so two quick dispatches cannot both take the last slot.
  let acceptedSinceReport = 0;
  const activeCalls = () => (worker?.activeJobs.length ?? 0) + acceptedSinceReport;
  const cpuLoad = (): number | undefined => {
    try {
      const load = deps.cpuLoad?.();
      return load !== undefined && Number.isFinite(load) ? load : undefined;
    } catch {
      return undefined;
    }
  };
  const refusal = (cpu: number | undefined): 'draining' | 'calls' | 'cpu' | undefined => {
    if (draining) return 'draining';
    if (activeCalls() >= config.MAX_CONCURRENT_CALLS) return 'calls';
    if (cpu !== undefined && cpu >= config.MAX_CPU_LOAD) return 'cpu';
    return undefined;
  };

  return {
    async requestFunc(job: JobRequest) {
      const jobId = job.id;
      const cpu = cpuLoad();
      const reason = refusal(cpu);
      if (reason) {
        metrics.callEvent(reason === 'cpu' ? 'job_rejected_cpu' : 'job_rejected_capacity');
        logger.info(
          {
            jobId,
            reason,
            activeCalls: activeCalls(),
            capacity: config.MAX_CONCURRENT_CALLS,
            cpuLoad: cpu,
            maxCpuLoad: config.MAX_CPU_LOAD,
            draining,
          },
          'job refused: at capacity',
        );
        await job.reject();
        return;
      }
      const verdict = checkJobRegion(config, {
        roomMetadata: job.room?.metadata,
        dispatchMetadata: job.job.metadata,
        publisherRegion: job.publisher?.region,
      });
      if (!verdict.allowed) {
        metrics.callEvent('job_rejected_region');
        metrics.error('region_guard');
        logger.warn(
          { jobId, reason: verdict.reason, source: verdict.source, value: verdict.value },
          'job refused: outside allowed regions',
        );
        await job.reject();
        return;
      }
      acceptedSinceReport++;
      metrics.callEvent('job_accepted');
      await job.accept('riva-call-agent', `agent-${jobId}`);
    },
    async loadFunc(server: AgentServer) {
      worker = server;
      acceptedSinceReport = 0;
      const active = server.activeJobs.length;
      metrics.activeCalls.set(active);
      const cpu = cpuLoad();
      if (cpu !== undefined) metrics.cpuLoad.set(cpu);
      if (draining) return 1;
      return Math.min(1, Math.max(active / config.MAX_CONCURRENT_CALLS, (cpu ?? 0) / config.MAX_CPU_LOAD));
    },
    activeCalls,
    setDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
  };
}
