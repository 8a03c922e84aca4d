/**
 * Hardening and release policy: every scenario passes every rule, and each rule is shown to fire on a manifest
 * broken on purpose, either edited after rendering or produced by values that switch a protection off.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ciScenarios, type K8sObject, render, ScenarioRenders } from './helm.ts';
import { checkAll, RULES, ruleById } from './policy/index.ts';

const scenarios = ciScenarios();
const rendered = new ScenarioRenders();

beforeAll(() => rendered.load(scenarios));

const base = (scenario = 'ci/defaults-values.yaml'): K8sObject[] => structuredClone(rendered.get(scenario));

// biome-ignore lint/suspicious/noExplicitAny: the break cases edit arbitrary paths of rendered manifests
type Json = Record<string, any>;

function named(objects: K8sObject[], kind: string, suffix: string): Json {
  const obj = objects.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
  if (!obj) throw new Error(`no ${kind} *${suffix}`);
  return obj as Json;
}
const agent = (objects: K8sObject[]): Json => named(objects, 'Deployment', '-agent');
const agentPod = (objects: K8sObject[]): Json => agent(objects).spec.template.spec;
const agentContainer = (objects: K8sObject[]): Json => agentPod(objects).containers[0];
const without = (objects: K8sObject[], kind: string, suffix: string): K8sObject[] =>
  objects.filter((o) => !(o.kind === kind && o.metadata.name.endsWith(suffix)));

describe('policy rules on every scenario', () => {
  it.each(scenarios)('%s violates no rule', (scenario) => {
    expect(checkAll(base(scenario))).toEqual([]);
  });

  it('covers every hardening rule of the chart issue', () => {
    expect(RULES.map((r) => r.id).sort()).toEqual(
      [
        'agent-drains',
        'autoscaled-without-replicas',
        'default-deny-network',
        'drop-all-capabilities',
        'monitors-resolve',
        'networkpolicy-per-workload',
        'no-host-namespaces',
        'no-open-egress',
        'no-privilege-escalation',
        'no-service-account-token',
        'not-privileged',
        'pdb-per-workload',
        'pinned-image',
        'probes',
        'read-only-root',
        'resources',
        'run-as-non-root',
        'seccomp-runtime-default',
        'secrets-by-reference',
        'selector-matches-template',
        'services-select-pods',
        'slow-scale-down',
        'topology-spread',
      ].sort(),
    );
  });
});

/**
 * [rule, what is broken, scenario, edit]: each edit must make its rule report a violation. An edit changes the
 * objects in place, or returns a new list when it adds or removes objects.
 */
type Edit = (objects: K8sObject[]) => unknown;
const BREAKS: Array<[string, string, string, Edit]> = [
  [
    'no-host-namespaces',
    'hostNetwork',
    'ci/defaults-values.yaml',
    (o) => {
      agentPod(o).hostNetwork = true;
    },
  ],
  [
    'no-host-namespaces',
    'a hostPath volume',
    'ci/defaults-values.yaml',
    (o) => {
      agentPod(o).volumes.push({ name: 'h', hostPath: { path: '/var/run' } });
    },
  ],
  [
    'no-service-account-token',
    'a pod mounting the token',
    'ci/defaults-values.yaml',
    (o) => {
      agentPod(o).automountServiceAccountToken = true;
    },
  ],
  [
    'no-service-account-token',
    'a ServiceAccount automounting',
    'ci/defaults-values.yaml',
    (o) => {
      delete named(o, 'ServiceAccount', '').automountServiceAccountToken;
    },
  ],
  [
    'seccomp-runtime-default',
    'seccomp unset',
    'ci/defaults-values.yaml',
    (o) => {
      delete agentPod(o).securityContext.seccompProfile;
    },
  ],
  [
    'run-as-non-root',
    'uid 0 in the container',
    'ci/defaults-values.yaml',
    (o) => {
      agentContainer(o).securityContext.runAsUser = 0;
    },
  ],
  [
    'not-privileged',
    'privileged: true',
    'ci/defaults-values.yaml',
    (o) => {
      agentContainer(o).securityContext.privileged = true;
    },
  ],
  [
    'no-privilege-escalation',
    'allowPrivilegeEscalation: true',
    'ci/defaults-values.yaml',
    (o) => {
      agentContainer(o).securityContext.allowPrivilegeEscalation = true;
    },
  ],
  [
    'read-only-root',
    'a writable root filesystem',
    'ci/defaults-values.yaml',
    (o) => {
      agentContainer(o).securityContext.readOnlyRootFilesystem = false;
    },
  ],
  [
    'drop-all-capabilities',
    'an added capability',
    'ci/defaults-values.yaml',
    (o) => {
      agentContainer(o).securityContext.capabilities.add = ['NET_ADMIN'];
    },
  ],
  [
    'drop-all-capabilities',
    'nothing dropped',
    'ci/defaults-values.yaml',
    (o) => {
      agentContainer(o).securityContext.capabilities.drop = [];
    },
  ],
  [
    'resources',
    'no memory limit',
    'ci/defaults-values.yaml',
    (o) => {
      delete agentContainer(o).resources.limits;
    },
  ],
  [
    'resources',
    'no cpu request',
    'ci/defaults-values.yaml',
    (o) => {
      delete agentContainer(o).resources.requests.cpu;
    },
  ],
  [
    'pinned-image',
    'the latest tag',
    'ci/defaults-values.yaml',
    (o) => {
      agentContainer(o).image = 'ghcr.io/x/agent:latest';
    },
  ],
  [
    'pinned-image',
    'no tag at all',
    'ci/defaults-values.yaml',
    (o) => {
      agentContainer(o).image = 'ghcr.io/x/agent';
    },
  ],
  [
    'probes',
    'no readiness probe',
    'ci/defaults-values.yaml',
    (o) => {
      delete agentContainer(o).readinessProbe;
    },
  ],
  [
    'probes',
    'no liveness probe',
    'ci/defaults-values.yaml',
    (o) => {
      delete named(o, 'Deployment', '-api').spec.template.spec.containers[0].livenessProbe;
    },
  ],
  [
    'selector-matches-template',
    'a selector the template does not carry',
    'ci/defaults-values.yaml',
    (o) => {
      agent(o).spec.selector.matchLabels['app.kubernetes.io/component'] = 'worker';
    },
  ],
  [
    'pdb-per-workload',
    'the agent PDB removed',
    'ci/defaults-values.yaml',
    (o) => without(o, 'PodDisruptionBudget', '-agent'),
  ],
  [
    'pdb-per-workload',
    'a PDB allowing no disruption',
    'ci/defaults-values.yaml',
    (o) => {
      named(o, 'PodDisruptionBudget', '-api').spec.maxUnavailable = 0;
    },
  ],
  [
    'pdb-per-workload',
    'minAvailable equal to replicas',
    'ci/servicemonitor-values.yaml',
    (o) => {
      const pdb = named(o, 'PodDisruptionBudget', '-agent').spec;
      delete pdb.maxUnavailable;
      pdb.minAvailable = 3;
      return o;
    },
  ],
  [
    'default-deny-network',
    'the default-deny policy removed',
    'ci/defaults-values.yaml',
    (o) => without(o, 'NetworkPolicy', '-default-deny'),
  ],
  [
    'default-deny-network',
    'a default deny that still allows ingress',
    'ci/defaults-values.yaml',
    (o) => {
      named(o, 'NetworkPolicy', '-default-deny').spec.ingress = [{}];
    },
  ],
  [
    'networkpolicy-per-workload',
    'the agent policy removed',
    'ci/defaults-values.yaml',
    (o) => without(o, 'NetworkPolicy', '-agent'),
  ],
  [
    'networkpolicy-per-workload',
    'an API policy without Egress',
    'ci/defaults-values.yaml',
    (o) => {
      named(o, 'NetworkPolicy', '-api').spec.policyTypes = ['Ingress'];
    },
  ],
  [
    'no-open-egress',
    'an allow-all egress rule',
    'ci/defaults-values.yaml',
    (o) => {
      named(o, 'NetworkPolicy', '-agent').spec.egress.push({});
    },
  ],
  [
    'autoscaled-without-replicas',
    'replicas under the HPA',
    'ci/defaults-values.yaml',
    (o) => {
      agent(o).spec.replicas = 3;
    },
  ],
  [
    'autoscaled-without-replicas',
    'a ScaledObject targeting nothing',
    'ci/keda-values.yaml',
    (o) => {
      named(o, 'ScaledObject', '-agent').spec.scaleTargetRef.name = 'missing';
    },
  ],
  [
    'slow-scale-down',
    'a 60 s HPA window',
    'ci/defaults-values.yaml',
    (o) => {
      named(o, 'HorizontalPodAutoscaler', '-agent').spec.behavior.scaleDown.stabilizationWindowSeconds = 60;
    },
  ],
  [
    'slow-scale-down',
    'KEDA removing half the pods at once',
    'ci/keda-values.yaml',
    (o) => {
      named(
        o,
        'ScaledObject',
        '-agent',
      ).spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.policies = [
        { type: 'Percent', value: 50, periodSeconds: 60 },
      ];
    },
  ],
  [
    'topology-spread',
    'no spread constraints',
    'ci/defaults-values.yaml',
    (o) => {
      delete agentPod(o).topologySpreadConstraints;
    },
  ],
  [
    'topology-spread',
    'constraints selecting other pods',
    'ci/servicemonitor-values.yaml',
    (o) => {
      for (const c of agentPod(o).topologySpreadConstraints)
        c.labelSelector.matchLabels['app.kubernetes.io/component'] = 'api';
      return o;
    },
  ],
  [
    'services-select-pods',
    'a Service selecting no pod',
    'ci/defaults-values.yaml',
    (o) => {
      named(o, 'Service', '-api').spec.selector['app.kubernetes.io/component'] = 'nothing';
    },
  ],
  [
    'services-select-pods',
    'a Service targeting a port name the pod lacks',
    'ci/defaults-values.yaml',
    (o) => {
      named(o, 'Service', '-api').spec.ports[0].targetPort = 'web';
    },
  ],
  [
    'monitors-resolve',
    'a ServiceMonitor on a missing port',
    'ci/servicemonitor-values.yaml',
    (o) => {
      named(o, 'ServiceMonitor', '-api').spec.endpoints[0].port = 'metrics';
    },
  ],
  [
    'monitors-resolve',
    'a PodMonitor selecting no pods',
    'ci/servicemonitor-values.yaml',
    (o) => {
      named(o, 'PodMonitor', '-agent').spec.selector.matchLabels['app.kubernetes.io/component'] = 'x';
    },
  ],
  [
    'agent-drains',
    'a 30 s grace period',
    'ci/defaults-values.yaml',
    (o) => {
      agentPod(o).terminationGracePeriodSeconds = 30;
    },
  ],
  [
    'agent-drains',
    'no preStop',
    'ci/defaults-values.yaml',
    (o) => {
      delete agentContainer(o).lifecycle;
    },
  ],
  [
    'agent-drains',
    'a drain longer than the grace period',
    'ci/defaults-values.yaml',
    (o) => {
      named(o, 'ConfigMap', '-agent').data.DRAIN_TIMEOUT_SECONDS = '3600';
    },
  ],
  [
    'secrets-by-reference',
    'a Secret object in the chart',
    'ci/defaults-values.yaml',
    (o) => [...o, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'keys' }, stringData: { k: 'v' } }],
  ],
  [
    'secrets-by-reference',
    'a secret as a plain env value',
    'ci/defaults-values.yaml',
    (o) => {
      agentContainer(o).env.push({ name: 'LIVEKIT_API_SECRET', value: 'plain' });
    },
  ],
  [
    'secrets-by-reference',
    'a secret in a ConfigMap',
    'ci/defaults-values.yaml',
    (o) => {
      named(o, 'ConfigMap', '-agent').data.LLM_API_KEY = 'plain';
    },
  ],
];

describe('each rule fires on a deliberately broken manifest', () => {
  it('every rule has at least one break case', () => {
    const broken = new Set(BREAKS.map(([rule]) => rule));
    expect(RULES.filter((r) => !broken.has(r.id)).map((r) => r.id)).toEqual([]);
  });

  it.each(BREAKS)('%s fires on %s', (rule, _what, scenario, edit) => {
    const good = base(scenario);
    expect(ruleById(rule).check(good)).toEqual([]);
    const objects = base(scenario);
    const result = edit(objects);
    const violations = ruleById(rule).check(Array.isArray(result) ? (result as K8sObject[]) : objects);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.every((v) => v.rule === rule)).toBe(true);
  });
});

describe('rules fire when values switch a protection off', () => {
  const defaults = 'ci/defaults-values.yaml';

  it('networkPolicy.enabled=false leaves every pod without default deny or a policy', async () => {
    const objects = await render({ values: [defaults], set: ['networkPolicy.enabled=false'] });
    expect(ruleById('default-deny-network').check(objects).length).toBe(3);
    expect(ruleById('networkpolicy-per-workload').check(objects).length).toBe(3);
  });

  it('agent.pdb.enabled=false leaves the agent without a PDB', async () => {
    const objects = await render({ values: [defaults], set: ['agent.pdb.enabled=false'] });
    expect(ruleById('pdb-per-workload').check(objects)).toEqual([
      expect.objectContaining({ object: 'Deployment/calls-riva-call-agent-agent' }),
    ]);
  });

  it('an empty topologySpread.topologyKeys leaves the autoscaled agent unspread', async () => {
    const objects = await render({ values: [defaults], setJson: ['topologySpread.topologyKeys=[]'] });
    expect(
      ruleById('topology-spread')
        .check(objects)
        .map((v) => v.object),
    ).toEqual(['Deployment/calls-riva-call-agent-agent']);
  });

  it('a secret passed through extraEnv as a value is caught', async () => {
    const objects = await render({
      values: [defaults],
      set: ['agent.extraEnv[0].name=LLM_API_KEY', 'agent.extraEnv[0].value=plain'],
    });
    expect(ruleById('secrets-by-reference').check(objects)).toEqual([
      expect.objectContaining({ message: 'env LLM_API_KEY not from a Secret' }),
    ]);
  });

  it('serviceAccount.create=false with the default account still mounts no token in any pod', async () => {
    const objects = await render({ values: [defaults], set: ['serviceAccount.create=false'] });
    expect(ruleById('no-service-account-token').check(objects)).toEqual([]);
    expect(objects.some((o) => o.kind === 'ServiceAccount')).toBe(false);
  });
});
