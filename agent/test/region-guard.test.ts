/**
 * EU residency and admission: jobs from non-EU regions or with non-EU endpoints are refused (log +
 * metric), jobs past capacity (calls or CPU) are refused, an EU job is accepted. Uses the worker's real
 * requestFunc and loadFunc with JobRequest objects built from LiveKit's protocol messages.
 */
import { type AgentServer, JobRequest } from '@livekit/agents';
// @livekit/protocol is the message package @livekit/agents itself is built on (same installed version).
import { Job, ParticipantInfo, Room } from '@livekit/protocol';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/src/logger.ts';
import { type AgentConfig, loadAgentConfig } from '../src/config.ts';
import { createAgentMetrics } from '../src/metrics.ts';
import { checkRegion, endpointHost, isAllowedRegion, isEuHost } from '../src/region-guard.ts';
import { createAdmission } from '../src/worker-admission.ts';

const baseEnv = {
  LIVEKIT_URL: 'wss://calls-eu.example.eu',
  RIVA_URL: 'riva.speech.svc.cluster.local:50051',
  CONTROL_API_URL: 'http://control-api:8080',
};

function jobRequest(options: { roomRegion?: string; publisherRegion?: string; metadata?: string }) {
  const outcome = { accepted: false, rejected: false };
  const job = new Job({
    id: 'AJ_test',
    metadata: options.metadata ?? JSON.stringify({ callId: 'c-1', subjectId: 's-1' }),
    room: new Room({
      name: 'call-c-1',
      metadata: options.roomRegion ? JSON.stringify({ region: options.roomRegion }) : '',
    }),
    participant: options.publisherRegion
      ? new ParticipantInfo({ identity: 'caller', region: options.publisherRegion })
      : undefined,
  });
  const request = new JobRequest(
    job,
    async () => {
      outcome.rejected = true;
    },
    async () => {
      outcome.accepted = true;
    },
  );
  return { request, outcome };
}

async function counterValue(metrics: ReturnType<typeof createAgentMetrics>, event: string): Promise<number> {
  const json = await metrics.callEvents.get();
  return json.values.find((v) => v.labels.event === event)?.value ?? 0;
}

function setup(env: Record<string, string> = {}, cpuLoad?: () => number | undefined) {
  const lines: string[] = [];
  const config: AgentConfig = loadAgentConfig({ ...baseEnv, ...env });
  const metrics = createAgentMetrics();
  const logger = createLogger({
    level: 'info',
    service: 'agent-test',
    destination: { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream,
  });
  return { admission: createAdmission({ config, metrics, logger, cpuLoad }), metrics, lines };
}

describe('EU region guard', () => {
  it('refuses a job whose room is in a non-EU region, with a log line and a metric', async () => {
    const { admission, metrics, lines } = setup();
    const { request, outcome } = jobRequest({ roomRegion: 'us-east' });
    await admission.requestFunc(request);

    expect(outcome).toEqual({ accepted: false, rejected: true });
    expect(await counterValue(metrics, 'job_rejected_region')).toBe(1);
    const errors = await metrics.errors.get();
    expect(errors.values.find((v) => v.labels.kind === 'region_guard')?.value).toBe(1);
    const refusal = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'job refused: outside allowed regions');
    expect(refusal).toMatchObject({ source: 'room metadata', value: 'us-east', jobId: 'AJ_test' });
  });

  it('refuses a job whose caller joined through a non-EU region', async () => {
    const { admission } = setup();
    const { request, outcome } = jobRequest({ roomRegion: 'eu-central', publisherRegion: 'ap-south' });
    await admission.requestFunc(request);
    expect(outcome.rejected).toBe(true);
  });

  it('refuses every job when a configured endpoint is outside the EU', async () => {
    const { admission } = setup({ BRAIN: 'llm', LLM_BASE_URL: 'https://api.openai.com/v1', LLM_MODEL: 'x' });
    const { request, outcome } = jobRequest({ roomRegion: 'eu-central' });
    await admission.requestFunc(request);
    expect(outcome.rejected).toBe(true);
  });

  it('accepts an EU job', async () => {
    const { admission, metrics } = setup();
    const { request, outcome } = jobRequest({ roomRegion: 'eu-central', publisherRegion: 'eu-central-1' });
    await admission.requestFunc(request);
    expect(outcome).toEqual({ accepted: true, rejected: false });
    expect(await counterValue(metrics, 'job_accepted')).toBe(1);
  });

  it('matches regions and hosts', () => {
    expect(isAllowedRegion('eu-central', ['eu-central'])).toBe(true);
    expect(isAllowedRegion('EU-Central-1', ['eu-central'])).toBe(true);
    expect(isAllowedRegion('eu-centralx', ['eu-central'])).toBe(false);
    expect(isAllowedRegion('us-east', ['eu-central'])).toBe(false);
    const policy = { allowedHosts: ['.myproject.livekit.cloud'] };
    expect(isEuHost('riva.eu-central-1.example.com', policy)).toBe(true);
    expect(isEuHost('nim.europe-west3.run.app', policy)).toBe(true);
    expect(isEuHost('riva', policy)).toBe(true);
    expect(isEuHost('10.0.3.4', policy)).toBe(true);
    expect(isEuHost('eu.myproject.livekit.cloud', policy)).toBe(true);
    expect(isEuHost('grpc.nvcf.nvidia.com', policy)).toBe(false);
    expect(isEuHost('other.livekit.cloud', policy)).toBe(false);
    expect(endpointHost('grpcs://Riva.Example.EU:443')).toBe('riva.example.eu');
    expect(endpointHost('127.0.0.1:50051')).toBe('127.0.0.1');
    expect(
      checkRegion(
        { regions: [], endpoints: [{ name: 'RIVA_URL', url: 'grpc.nvcf.nvidia.com:443' }] },
        { allowedRegions: ['eu-central'], allowedHosts: [] },
      ),
    ).toMatchObject({ allowed: false, source: 'RIVA_URL' });
  });
});

describe('admission by load', () => {
  it('refuses jobs at MAX_CONCURRENT_CALLS and reports load as active calls over capacity', async () => {
    const { admission, metrics } = setup({ MAX_CONCURRENT_CALLS: '2' });
    const fakeWorker = { activeJobs: [{}, {}] } as unknown as AgentServer;
    expect(await admission.loadFunc(fakeWorker)).toBe(1);
    expect((await metrics.activeCalls.get()).values[0]?.value).toBe(2);
    const { request, outcome } = jobRequest({ roomRegion: 'eu-central' });
    await admission.requestFunc(request);
    expect(outcome.rejected).toBe(true);
    expect(await counterValue(metrics, 'job_rejected_capacity')).toBe(1);
  });

  it('counts jobs accepted between load reports, so two dispatches cannot take the last slot', async () => {
    const { admission } = setup({ MAX_CONCURRENT_CALLS: '2' });
    expect(await admission.loadFunc({ activeJobs: [{}] } as unknown as AgentServer)).toBe(0.5);
    const a = jobRequest({});
    const b = jobRequest({});
    await admission.requestFunc(a.request);
    await admission.requestFunc(b.request);
    expect(a.outcome.accepted).toBe(true);
    expect(b.outcome.rejected).toBe(true);
  });

  it('refuses new jobs and reports full load while draining', async () => {
    const { admission } = setup();
    admission.setDraining();
    expect(await admission.loadFunc({ activeJobs: [] } as unknown as AgentServer)).toBe(1);
    const { request, outcome } = jobRequest({});
    await admission.requestFunc(request);
    expect(outcome.rejected).toBe(true);
  });

  it('refuses a job and reports full load when the CPU is at MAX_CPU_LOAD, with calls to spare', async () => {
    let cpu = 0.85;
    const { admission, metrics, lines } = setup(
      { MAX_CONCURRENT_CALLS: '10', MAX_CPU_LOAD: '0.8' },
      () => cpu,
    );
    const worker = { activeJobs: [{}] } as unknown as AgentServer;
    expect(await admission.loadFunc(worker)).toBe(1);
    expect((await metrics.cpuLoad.get()).values[0]?.value).toBe(0.85);
    const { request, outcome } = jobRequest({ roomRegion: 'eu-central' });
    await admission.requestFunc(request);
    expect(outcome).toEqual({ accepted: false, rejected: true });
    expect(await counterValue(metrics, 'job_rejected_cpu')).toBe(1);
    expect(await counterValue(metrics, 'job_rejected_capacity')).toBe(0);
    const refusal = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'job refused: at capacity');
    expect(refusal).toMatchObject({ reason: 'cpu', cpuLoad: 0.85, maxCpuLoad: 0.8, jobId: 'AJ_test' });

    // Exactly at the limit is full too; below it the job is taken again.
    cpu = 0.8;
    expect(await admission.loadFunc(worker)).toBe(1);
    cpu = 0.4;
    const next = jobRequest({});
    await admission.requestFunc(next.request);
    expect(next.outcome.accepted).toBe(true);
  });

  it('lets calls govern while the CPU is below its limit, and reports the larger share', async () => {
    let cpu: number | undefined = 0.2;
    const { admission, metrics } = setup({ MAX_CONCURRENT_CALLS: '4', MAX_CPU_LOAD: '0.8' }, () => cpu);
    // 2 of 4 calls (0.5) outweighs 0.2 / 0.8 (0.25).
    expect(await admission.loadFunc({ activeJobs: [{}, {}] } as unknown as AgentServer)).toBe(0.5);
    // 1 of 4 calls (0.25) is outweighed by 0.6 / 0.8 (0.75).
    cpu = 0.6;
    expect(await admission.loadFunc({ activeJobs: [{}] } as unknown as AgentServer)).toBeCloseTo(0.75, 10);
    // Not known yet (fewer than two samples): calls alone.
    cpu = undefined;
    expect(await admission.loadFunc({ activeJobs: [{}] } as unknown as AgentServer)).toBe(0.25);
    cpu = 0.3;
    expect(await admission.loadFunc({ activeJobs: [{}, {}, {}, {}] } as unknown as AgentServer)).toBe(1);
    const { request, outcome } = jobRequest({});
    await admission.requestFunc(request);
    expect(outcome.rejected).toBe(true);
    expect(await counterValue(metrics, 'job_rejected_capacity')).toBe(1);
    expect(await counterValue(metrics, 'job_rejected_cpu')).toBe(0);
  });

  it('ignores a CPU reader that throws or returns nonsense', async () => {
    const { admission } = setup({ MAX_CONCURRENT_CALLS: '4' }, () => {
      throw new Error('unreadable');
    });
    expect(await admission.loadFunc({ activeJobs: [{}] } as unknown as AgentServer)).toBe(0.25);
    const { request, outcome } = jobRequest({});
    await admission.requestFunc(request);
    expect(outcome.accepted).toBe(true);
    const nan = setup({ MAX_CONCURRENT_CALLS: '4' }, () => Number.NaN).admission;
    expect(await nan.loadFunc({ activeJobs: [{}] } as unknown as AgentServer)).toBe(0.25);
  });
});
