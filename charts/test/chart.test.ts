/**
 * Renders every chart-testing scenario (ci/*-values.yaml) with the real helm, lints it with --strict and
 * validates each object against the Kubernetes schemas (kubernetes-models plus a strict unknown-field walk).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ciScenarios,
  findObject,
  type K8sObject,
  lint,
  NAMESPACE,
  parseManifests,
  render,
  renderFailure,
  runHelm,
  ScenarioRenders,
} from './helm.ts';
import { modelErrors, strictErrors, validateAll } from './schema-check.ts';

const scenarios = ciScenarios();
const rendered = new ScenarioRenders();

beforeAll(() => rendered.load(scenarios));

const objectsOf = (scenario: string): K8sObject[] => rendered.get(scenario);

const kinds = (objects: K8sObject[]): string[] => [...new Set(objects.map((o) => o.kind))].sort();

describe('chart-testing scenarios', () => {
  it('runs the pinned helm from .tools/bin (scripts/install-helm.sh)', async () => {
    const result = await runHelm(['version', '--short']);
    expect(result.code).toBe(0);
    // v3.17.3 is what install-helm.sh pins; the suite also passes with helm v4.1.4.
    expect(result.stdout).toMatch(/^v(3\.17\.3|4\.1\.4)\+/);
  });

  it('has the six scenarios the chart promises', () => {
    expect(scenarios).toEqual([
      'ci/defaults-values.yaml',
      'ci/hosted-riva-values.yaml',
      'ci/in-cluster-riva-values.yaml',
      'ci/keda-values.yaml',
      'ci/servicemonitor-values.yaml',
      'ci/speech-server-values.yaml',
    ]);
  });

  it.each(scenarios)('%s passes helm lint --strict', async (scenario) => {
    const result = await lint([scenario]);
    expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  it.each(scenarios)(
    '%s renders objects that match the Kubernetes schemas, with no unknown fields',
    (scenario) => {
      const objects = objectsOf(scenario);
      expect(objects.length).toBeGreaterThan(10);
      expect(validateAll(objects)).toEqual([]);
      for (const obj of objects)
        expect(obj.metadata.namespace, `${obj.kind}/${obj.metadata.name}`).toBe(NAMESPACE);
    },
  );

  it('defaults: in-cluster Riva, HPA, quota, policies, dashboard, test hook and no CRDs', () => {
    const objects = objectsOf('ci/defaults-values.yaml');
    expect(kinds(objects)).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
      'Pod',
      'PodDisruptionBudget',
      'ResourceQuota',
      'Service',
      'ServiceAccount',
    ]);
    const agentConfig = findObject(objects, 'ConfigMap', '-agent')?.data as Record<string, string>;
    expect(agentConfig.RIVA_URL).toBe('riva-api.riva.svc:50051');
    // No agent token Secret in the defaults: transcripts are not uploaded, so no upload URL either.
    expect(agentConfig.CONTROL_API_URL).toBeUndefined();
    expect(agentConfig.METRICS_PORT).toBe('9100');
    const test = objects.find((o) => o.kind === 'Pod');
    expect(test?.metadata.annotations?.['helm.sh/hook']).toBe('test');
    expect(JSON.stringify(test)).toContain('/healthz');
  });

  it('hosted Riva: TLS endpoint, function ids from values or the Secret, API key from the Secret', () => {
    const objects = objectsOf('ci/hosted-riva-values.yaml');
    const config = findObject(objects, 'ConfigMap', '-agent')?.data as Record<string, string>;
    expect(config.RIVA_URL).toBe('grpcs://grpc.nvcf.nvidia.com:443');
    expect(config.RIVA_TLS).toBe('true');
    expect(config.ALLOWED_ENDPOINT_HOSTS).toBe('grpc.nvcf.nvidia.com');
    expect(config.CONTROL_API_URL).toBe(`http://calls-riva-call-agent-api.${NAMESPACE}.svc:8080`);
    expect(config.RIVA_ASR_FUNCTION_ID).toMatch(/^[0-9a-f-]{36}$/);
    const agent = JSON.stringify(findObject(objects, 'Deployment', '-agent'));
    expect(agent).toContain('"name":"RIVA_API_KEY","valueFrom":{"secretKeyRef":{"name":"nvidia-api"');
    expect(agent).toContain('"name":"RIVA_TTS_FUNCTION_ID","valueFrom":{"secretKeyRef"');
    expect(kinds(objects)).toContain('Ingress');
    const egress = JSON.stringify(findObject(objects, 'NetworkPolicy', '-agent'));
    expect(egress).toContain('"port":443');
  });

  it('in-cluster Riva: TLS url, digest-pinned image behind the global registry, egress to the Riva namespace', () => {
    const objects = objectsOf('ci/in-cluster-riva-values.yaml');
    const agent = findObject(objects, 'Deployment', '-agent') as K8sObject;
    expect(JSON.stringify(agent)).toMatch(
      /"image":"registry\.example\.eu\/riva-call-agent\/agent@sha256:[a-f0-9]{64}"/,
    );
    const policy = JSON.stringify(findObject(objects, 'NetworkPolicy', '-agent'));
    expect(policy).toContain('"kubernetes.io/metadata.name":"riva"');
    expect(policy).toContain('"port":50051');
    expect(policy).toContain('"kubernetes.io/metadata.name":"llm"');
  });

  it('KEDA: a ScaledObject on agent_active_calls with slow scale-down, and no HPA of our own', () => {
    const objects = objectsOf('ci/keda-values.yaml');
    expect(kinds(objects)).toContain('ScaledObject');
    expect(kinds(objects)).not.toContain('HorizontalPodAutoscaler');
    const scaled = findObject(objects, 'ScaledObject', '-agent') as K8sObject;
    const trigger = (scaled.spec as { triggers: Array<{ metadata: Record<string, string> }> }).triggers[0];
    expect(trigger?.metadata.query).toContain('agent_active_calls');
    expect(trigger?.metadata.query).toContain(`namespace="${NAMESPACE}"`);
    expect(trigger?.metadata.threshold).toBe('8');
  });

  it('ServiceMonitor: monitors carry the kube-prometheus-stack release label', () => {
    const objects = objectsOf('ci/servicemonitor-values.yaml');
    for (const kind of ['ServiceMonitor', 'PodMonitor']) {
      const mon = objects.find((o) => o.kind === kind);
      expect(mon?.metadata.labels?.release, kind).toBe('kube-prometheus-stack');
    }
    const flow = findObject(objects, 'ConfigMap', '-flow')?.data as Record<string, string>;
    expect(flow['flow.yaml']).toContain('greeting:');
  });

  it('speech server on: Deployment and Service on 50051, the agent points at it, gRPC probes', () => {
    const objects = objectsOf('ci/speech-server-values.yaml');
    const server = findObject(objects, 'Deployment', '-speech-server') as K8sObject;
    expect(JSON.stringify(server)).toContain('"grpc":{"port":50051}');
    expect(findObject(objects, 'Service', '-speech-server')).toBeDefined();
    const config = findObject(objects, 'ConfigMap', '-agent')?.data as Record<string, string>;
    expect(config.RIVA_URL).toBe(`calls-riva-call-agent-speech-server.${NAMESPACE}.svc:50051`);
  });

  it('refuses Kubernetes older than 1.27 (Chart.yaml kubeVersion)', async () => {
    const stderr = await renderFailure({ values: ['ci/defaults-values.yaml'], kubeVersion: '1.26.0' });
    expect(stderr).toMatch(/kubeVersion/i);
  });

  it('renders an exec preStop before Kubernetes 1.30 and the native sleep action from 1.30', async () => {
    const old = await render({ values: ['ci/defaults-values.yaml'], kubeVersion: '1.28.0' });
    const current = objectsOf('ci/defaults-values.yaml');
    const preStop = (objects: K8sObject[]) =>
      JSON.stringify(findObject(objects, 'Deployment', '-agent')).match(/"preStop":\{[^}]*\}/)?.[0];
    expect(preStop(old)).toContain('"exec"');
    expect(preStop(current)).toBe('"preStop":{"sleep":{"seconds":10}');
    expect(validateAll(old)).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = () => {
    const cm = findObject(objectsOf('ci/defaults-values.yaml'), 'ConfigMap', '-dashboard') as K8sObject;
    const json = (cm.data as Record<string, string>)['riva-call-agent.json'] as string;
    return {
      cm,
      board: JSON.parse(json) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> },
    };
  };

  it('is a ConfigMap labelled for the Grafana sidecar', () => {
    expect(dashboard().cm.metadata.labels?.grafana_dashboard).toBe('1');
  });

  it.each([
    ['TTS first audio P95', 'histogram_quantile(0.95, sum by (le) (rate(riva_tts_first_audio_seconds_bucket'],
    [
      'ASR final latency P95',
      'histogram_quantile(0.95, sum by (le) (rate(riva_asr_final_latency_seconds_bucket',
    ],
    ['Voice-to-voice P95', 'histogram_quantile(0.95, sum by (le) (rate(agent_voice_to_voice_seconds_bucket'],
    ['Active calls', 'sum(agent_active_calls'],
    ['Call events', 'rate(agent_call_events_total'],
    ['Error rates', 'rate(agent_errors_total'],
    ['Error rates', 'http_request_duration_seconds_count{namespace=~"$namespace",status=~"5.."}'],
  ])('panel "%s" queries %s', (title, fragment) => {
    const panel = dashboard().board.panels.find((p) => p.title === title);
    expect(panel, title).toBeDefined();
    expect(panel?.targets.map((t) => t.expr).join('\n')).toContain(fragment);
  });
});

describe('schema validation catches what it should (checked on deliberately broken objects)', () => {
  const deployment = () =>
    structuredClone(findObject(objectsOf('ci/defaults-values.yaml'), 'Deployment', '-agent') as K8sObject);
  const podSpec = (d: K8sObject) =>
    (
      d.spec as {
        template: { spec: { containers: Array<Record<string, unknown>> } & Record<string, unknown> };
      }
    ).template.spec;

  it('a misspelled container field is an unknown field', () => {
    const d = deployment();
    const c = podSpec(d).containers[0] as Record<string, unknown>;
    c.resource = c.resources;
    delete c.resources;
    expect(strictErrors(d)).toEqual([expect.stringContaining('containers[0].resource: unknown field')]);
  });

  it('a misspelled securityContext field is an unknown field', () => {
    const d = deployment();
    const c = podSpec(d).containers[0] as { securityContext: Record<string, unknown> };
    c.securityContext.readOnlyRootFileSystem = true;
    expect(strictErrors(d).join('\n')).toContain('securityContext.readOnlyRootFileSystem: unknown field');
  });

  it('a wrong type and a bad quantity fail the model', () => {
    const d = deployment();
    (d.spec as Record<string, unknown>).replicas = 'two';
    expect(modelErrors(d).join('\n')).toContain('replicas must be integer');
    const q = deployment();
    (podSpec(q).containers[0] as { resources: { requests: Record<string, string> } }).resources.requests.cpu =
      'lots';
    expect(modelErrors(q).join('\n')).toMatch(/cpu/);
  });

  it('a removed API version is reported as not served', () => {
    const [pdb] = parseManifests(
      'apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: x}\nspec: {maxUnavailable: 1}\n',
    );
    expect(strictErrors(pdb as K8sObject)).toEqual([
      'policy/v1beta1 PodDisruptionBudget is not served by Kubernetes 1.34',
    ]);
  });

  it('a KEDA trigger with a non-string threshold fails the KEDA model', () => {
    const scaled = structuredClone(
      findObject(objectsOf('ci/keda-values.yaml'), 'ScaledObject', '-agent') as K8sObject,
    );
    const spec = scaled.spec as { triggers: Array<{ metadata: Record<string, unknown> }> };
    (spec.triggers[0] as { metadata: Record<string, unknown> }).metadata.threshold = 8;
    expect(modelErrors(scaled).join('\n')).toContain('threshold must be string');
  });
});
