/**
 * Policy rules for the rendered chart: a superset of Pod Security "restricted" plus release-level rules (PDBs,
 * NetworkPolicies, autoscaling, selectors, draining). Each rule returns its violations so tests can assert both
 * that a good release has none and that a deliberately broken manifest trips exactly the rule meant to catch it.
 */
import type {
  V1Container,
  V1Deployment,
  V1LabelSelector,
  V1NetworkPolicy,
  V1Pod,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1Service,
  V1ServiceAccount,
  V2HorizontalPodAutoscalerSpec,
} from '@kubernetes/client-node';
import type { K8sObject } from './helm.ts';

export interface Violation {
  rule: string;
  object: string;
  message: string;
}

export interface Rule {
  id: string;
  description: string;
  check(objects: K8sObject[]): Violation[];
}

interface PodOwner {
  ref: string;
  kind: string;
  labels: Record<string, string>;
  spec: V1PodSpec;
  annotations: Record<string, string>;
}

const ref = (obj: K8sObject): string => `${obj.kind}/${obj.metadata.name}`;

/** Every pod template in the release: Deployments' templates and bare Pods (the helm test hook). */
export function podOwners(objects: K8sObject[]): PodOwner[] {
  const owners: PodOwner[] = [];
  for (const obj of objects) {
    if (obj.kind === 'Deployment') {
      const dep = obj as unknown as V1Deployment;
      owners.push({
        ref: ref(obj),
        kind: obj.kind,
        labels: dep.spec?.template.metadata?.labels ?? {},
        annotations: dep.spec?.template.metadata?.annotations ?? {},
        spec: dep.spec?.template.spec ?? { containers: [] },
      });
    } else if (obj.kind === 'Pod') {
      const pod = obj as unknown as V1Pod;
      owners.push({
        ref: ref(obj),
        kind: obj.kind,
        labels: pod.metadata?.labels ?? {},
        annotations: pod.metadata?.annotations ?? {},
        spec: pod.spec ?? { containers: [] },
      });
    }
  }
  return owners;
}

const deployments = (objects: K8sObject[]): Array<K8sObject & V1Deployment> =>
  objects.filter((o) => o.kind === 'Deployment') as Array<K8sObject & V1Deployment>;

const allContainers = (spec: V1PodSpec): V1Container[] => [
  ...(spec.initContainers ?? []),
  ...spec.containers,
];

/** Whether a label selector selects pods with these labels (matchLabels and the In/NotIn/Exists operators). */
export function selects(selector: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const expr of selector.matchExpressions ?? []) {
    const value = labels[expr.key];
    const values = expr.values ?? [];
    if (expr.operator === 'In' && (value === undefined || !values.includes(value))) return false;
    if (expr.operator === 'NotIn' && value !== undefined && values.includes(value)) return false;
    if (expr.operator === 'Exists' && value === undefined) return false;
    if (expr.operator === 'DoesNotExist' && value !== undefined) return false;
  }
  return true;
}

function perContainer(
  id: string,
  test: (c: V1Container, owner: PodOwner) => string | undefined,
): (objects: K8sObject[]) => Violation[] {
  return (objects) =>
    podOwners(objects).flatMap((owner) =>
      allContainers(owner.spec).flatMap((c) => {
        const message = test(c, owner);
        return message ? [{ rule: id, object: `${owner.ref}[${c.name}]`, message }] : [];
      }),
    );
}

function perPod(
  id: string,
  test: (owner: PodOwner) => string | undefined,
): (objects: K8sObject[]) => Violation[] {
  return (objects) =>
    podOwners(objects).flatMap((owner) => {
      const message = test(owner);
      return message ? [{ rule: id, object: owner.ref, message }] : [];
    });
}

/** The autoscaler (HPA or ScaledObject) targeting each Deployment name. */
function autoscalerTargets(objects: K8sObject[]): Map<string, K8sObject> {
  const targets = new Map<string, K8sObject>();
  for (const obj of objects) {
    if (obj.kind !== 'HorizontalPodAutoscaler' && obj.kind !== 'ScaledObject') continue;
    const spec = obj.spec as { scaleTargetRef?: { name?: string } } | undefined;
    if (spec?.scaleTargetRef?.name) targets.set(spec.scaleTargetRef.name, obj);
  }
  return targets;
}

function scaleDownBehavior(obj: K8sObject): V2HorizontalPodAutoscalerSpec['behavior'] {
  if (obj.kind === 'HorizontalPodAutoscaler') return (obj.spec as V2HorizontalPodAutoscalerSpec).behavior;
  const spec = obj.spec as { advanced?: { horizontalPodAutoscalerConfig?: { behavior?: unknown } } };
  return spec.advanced?.horizontalPodAutoscalerConfig?.behavior as V2HorizontalPodAutoscalerSpec['behavior'];
}

const SECRET_NAME = /(SECRET|PASSWORD|TOKEN|API_KEY|ENCRYPTION_KEY|DATABASE_URL|PRIVATE_KEY)/i;
const MIN_AGENT_GRACE_SECONDS = 600;
const MIN_SCALE_DOWN_WINDOW_SECONDS = 600;

export const RULES: Rule[] = [
  {
    id: 'no-host-namespaces',
    description: 'pods share no host namespace and mount no hostPath',
    check: perPod('no-host-namespaces', ({ spec }) => {
      if (spec.hostNetwork || spec.hostPID || spec.hostIPC) return 'uses a host namespace';
      if ((spec.volumes ?? []).some((v) => v.hostPath)) return 'mounts a hostPath volume';
      return undefined;
    }),
  },
  {
    id: 'no-service-account-token',
    description: 'no pod or ServiceAccount automounts an API token',
    check: (objects) => [
      ...perPod('no-service-account-token', ({ spec }) =>
        spec.automountServiceAccountToken === false ? undefined : 'automountServiceAccountToken is not false',
      )(objects),
      ...objects
        .filter((o) => o.kind === 'ServiceAccount')
        .filter((o) => (o as unknown as V1ServiceAccount).automountServiceAccountToken !== false)
        .map((o) => ({ rule: 'no-service-account-token', object: ref(o), message: 'automounts its token' })),
    ],
  },
  {
    id: 'seccomp-runtime-default',
    description: 'pods run with the RuntimeDefault seccomp profile',
    check: perPod('seccomp-runtime-default', ({ spec }) =>
      spec.securityContext?.seccompProfile?.type === 'RuntimeDefault'
        ? undefined
        : 'seccompProfile is not RuntimeDefault',
    ),
  },
  {
    id: 'run-as-non-root',
    description: 'containers run as a non-root uid',
    check: perContainer('run-as-non-root', (c, { spec }) => {
      const nonRoot = c.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot;
      const uid = c.securityContext?.runAsUser ?? spec.securityContext?.runAsUser;
      if (nonRoot !== true) return 'runAsNonRoot is not true';
      if (uid === undefined || uid === 0) return 'runAsUser is unset or 0';
      return undefined;
    }),
  },
  {
    id: 'not-privileged',
    description: 'no container is privileged',
    check: perContainer('not-privileged', (c) => (c.securityContext?.privileged ? 'privileged' : undefined)),
  },
  {
    id: 'no-privilege-escalation',
    description: 'allowPrivilegeEscalation is false',
    check: perContainer('no-privilege-escalation', (c) =>
      c.securityContext?.allowPrivilegeEscalation === false
        ? undefined
        : 'allowPrivilegeEscalation is not false',
    ),
  },
  {
    id: 'read-only-root',
    description: 'root filesystems are read-only',
    check: perContainer('read-only-root', (c) =>
      c.securityContext?.readOnlyRootFilesystem === true ? undefined : 'readOnlyRootFilesystem is not true',
    ),
  },
  {
    id: 'drop-all-capabilities',
    description: 'all capabilities dropped, none added',
    check: perContainer('drop-all-capabilities', (c) => {
      const caps = c.securityContext?.capabilities;
      if (!caps?.drop?.includes('ALL')) return 'capabilities.drop lacks ALL';
      if ((caps.add ?? []).length > 0) return `adds capabilities ${caps.add?.join(',')}`;
      return undefined;
    }),
  },
  {
    id: 'resources',
    description: 'cpu and memory requests and a memory limit',
    check: perContainer('resources', (c) => {
      const r = c.resources;
      if (!r?.requests?.cpu || !r.requests.memory) return 'missing cpu or memory request';
      if (!r.limits?.memory) return 'missing memory limit';
      return undefined;
    }),
  },
  {
    id: 'pinned-image',
    description: 'images carry a version tag (not latest) or a digest',
    check: perContainer('pinned-image', (c) => {
      const image = c.image ?? '';
      if (/@sha256:[a-f0-9]{64}$/.test(image)) return undefined;
      const tag = /:([\w][\w.-]*)$/.exec(image.slice(image.lastIndexOf('/') + 1))?.[1];
      if (!tag) return `image ${image} has no tag`;
      if (tag === 'latest') return `image ${image} uses latest`;
      return undefined;
    }),
  },
  {
    id: 'probes',
    description: 'workload containers have readiness and liveness probes',
    check: perContainer('probes', (c, owner) => {
      if (owner.kind !== 'Deployment') return undefined;
      if (!c.readinessProbe || !c.livenessProbe) return 'missing a readiness or liveness probe';
      return undefined;
    }),
  },
  {
    id: 'selector-matches-template',
    description: "Deployment selectors match their pod templates' labels",
    check: (objects) =>
      deployments(objects)
        .filter((d) => !selects(d.spec?.selector, d.spec?.template.metadata?.labels ?? {}))
        .map((d) => ({
          rule: 'selector-matches-template',
          object: ref(d),
          message: 'selector does not match template',
        })),
  },
  {
    id: 'pdb-per-workload',
    description: 'each Deployment is covered by exactly one PodDisruptionBudget that allows disruptions',
    check: (objects) => {
      const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget') as Array<
        K8sObject & V1PodDisruptionBudget
      >;
      const violations: Violation[] = [];
      for (const d of deployments(objects)) {
        const labels = d.spec?.template.metadata?.labels ?? {};
        const covering = pdbs.filter((p) => selects(p.spec?.selector, labels));
        if (covering.length !== 1) {
          violations.push({
            rule: 'pdb-per-workload',
            object: ref(d),
            message: `${covering.length} PDBs select it`,
          });
          continue;
        }
        const spec = covering[0]?.spec;
        if (spec?.maxUnavailable === 0 || spec?.maxUnavailable === '0%') {
          violations.push({
            rule: 'pdb-per-workload',
            object: ref(d),
            message: 'PDB blocks every disruption',
          });
        }
        const replicas = d.spec?.replicas;
        if (
          typeof spec?.minAvailable === 'number' &&
          replicas !== undefined &&
          spec.minAvailable >= replicas
        ) {
          violations.push({ rule: 'pdb-per-workload', object: ref(d), message: 'minAvailable >= replicas' });
        }
      }
      return violations;
    },
  },
  {
    id: 'default-deny-network',
    description: 'a NetworkPolicy denies all ingress and egress for every pod of the release by default',
    check: (objects) => {
      const denies = (
        objects.filter((o) => o.kind === 'NetworkPolicy') as Array<K8sObject & V1NetworkPolicy>
      ).filter(
        (np) =>
          np.spec?.policyTypes?.includes('Ingress') &&
          np.spec.policyTypes.includes('Egress') &&
          (np.spec.ingress ?? []).length === 0 &&
          (np.spec.egress ?? []).length === 0,
      );
      return podOwners(objects)
        .filter((owner) => !denies.some((np) => selects(np.spec?.podSelector, owner.labels)))
        .map((owner) => ({
          rule: 'default-deny-network',
          object: owner.ref,
          message: 'no default-deny policy',
        }));
    },
  },
  {
    id: 'networkpolicy-per-workload',
    description: 'each pod has an allow policy of its own with both Ingress and Egress types',
    check: (objects) => {
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as Array<
        K8sObject & V1NetworkPolicy
      >;
      return podOwners(objects)
        .filter(
          (owner) =>
            !policies.some(
              (np) =>
                Object.keys(np.spec?.podSelector?.matchLabels ?? {}).includes(
                  'app.kubernetes.io/component',
                ) &&
                selects(np.spec?.podSelector, owner.labels) &&
                np.spec?.policyTypes?.includes('Ingress') &&
                np.spec.policyTypes.includes('Egress'),
            ),
        )
        .map((owner) => ({
          rule: 'networkpolicy-per-workload',
          object: owner.ref,
          message: 'no component policy',
        }));
    },
  },
  {
    id: 'no-open-egress',
    description: 'egress rules name peers or ports: no rule opens everything',
    check: (objects) =>
      (objects.filter((o) => o.kind === 'NetworkPolicy') as Array<K8sObject & V1NetworkPolicy>).flatMap(
        (np) =>
          (np.spec?.egress ?? [])
            .filter((rule) => (rule.to ?? []).length === 0 && (rule.ports ?? []).length === 0)
            .map(() => ({
              rule: 'no-open-egress',
              object: ref(np),
              message: 'egress rule allows everything',
            })),
      ),
  },
  {
    id: 'autoscaled-without-replicas',
    description: 'a Deployment under an HPA or ScaledObject leaves replicas to it; targets resolve',
    check: (objects) => {
      const names = new Set(deployments(objects).map((d) => d.metadata.name));
      const violations: Violation[] = [];
      for (const [target, scaler] of autoscalerTargets(objects)) {
        if (!names.has(target)) {
          violations.push({
            rule: 'autoscaled-without-replicas',
            object: ref(scaler),
            message: `no Deployment ${target}`,
          });
        }
      }
      const targets = autoscalerTargets(objects);
      for (const d of deployments(objects)) {
        if (targets.has(d.metadata.name) && d.spec?.replicas !== undefined) {
          violations.push({
            rule: 'autoscaled-without-replicas',
            object: ref(d),
            message: 'sets replicas under an autoscaler',
          });
        }
      }
      return violations;
    },
  },
  {
    id: 'slow-scale-down',
    description: 'autoscalers scale down after a window of at least 600 s and one pod at a time',
    check: (objects) =>
      [...autoscalerTargets(objects).values()].flatMap((scaler) => {
        const down = scaleDownBehavior(scaler)?.scaleDown;
        const window = down?.stabilizationWindowSeconds ?? 0;
        const fast = (down?.policies ?? []).some((p) => p.type !== 'Pods' || p.value > 1);
        if (window < MIN_SCALE_DOWN_WINDOW_SECONDS || !down?.policies?.length || fast) {
          return [
            { rule: 'slow-scale-down', object: ref(scaler), message: `window ${window}s or policy too fast` },
          ];
        }
        return [];
      }),
  },
  {
    id: 'topology-spread',
    description:
      'Deployments that can run more than one pod spread them and the constraints select their pods',
    check: (objects) => {
      const targets = autoscalerTargets(objects);
      return deployments(objects)
        .filter((d) => targets.has(d.metadata.name) || (d.spec?.replicas ?? 1) > 1)
        .filter((d) => {
          const labels = d.spec?.template.metadata?.labels ?? {};
          const constraints = d.spec?.template.spec?.topologySpreadConstraints ?? [];
          return !constraints.some((c) => selects(c.labelSelector, labels));
        })
        .map((d) => ({
          rule: 'topology-spread',
          object: ref(d),
          message: 'no spread constraint selecting its pods',
        }));
    },
  },
  {
    id: 'services-select-pods',
    description: 'Services select pods and target named ports those pods expose',
    check: (objects) => {
      const owners = podOwners(objects).filter((o) => o.kind === 'Deployment');
      return (objects.filter((o) => o.kind === 'Service') as Array<K8sObject & V1Service>).flatMap((svc) => {
        const target = owners.find((o) => selects({ matchLabels: svc.spec?.selector ?? {} }, o.labels));
        if (!svc.spec?.selector || !target) {
          return [{ rule: 'services-select-pods', object: ref(svc), message: 'selects no pods' }];
        }
        const portNames = new Set(
          allContainers(target.spec).flatMap((c) => (c.ports ?? []).map((p) => p.name)),
        );
        return (svc.spec.ports ?? [])
          .filter((p) => typeof p.targetPort === 'string' && !portNames.has(p.targetPort))
          .map((p) => ({
            rule: 'services-select-pods',
            object: ref(svc),
            message: `no pod port ${p.targetPort}`,
          }));
      });
    },
  },
  {
    id: 'monitors-resolve',
    description: 'ServiceMonitors select a Service port and PodMonitors a pod port',
    check: (objects) => {
      const violations: Violation[] = [];
      const services = objects.filter((o) => o.kind === 'Service') as Array<K8sObject & V1Service>;
      const owners = podOwners(objects);
      for (const mon of objects.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor')) {
        const spec = mon.spec as {
          selector?: V1LabelSelector;
          endpoints?: Array<{ port?: string }>;
          podMetricsEndpoints?: Array<{ port?: string }>;
        };
        const ports =
          mon.kind === 'ServiceMonitor'
            ? services
                .filter((s) => selects(spec.selector, s.metadata.labels ?? {}))
                .flatMap((s) => (s.spec?.ports ?? []).map((p) => p.name))
            : owners
                .filter((o) => selects(spec.selector, o.labels))
                .flatMap((o) => allContainers(o.spec).flatMap((c) => (c.ports ?? []).map((p) => p.name)));
        for (const ep of [...(spec.endpoints ?? []), ...(spec.podMetricsEndpoints ?? [])]) {
          if (!ep.port || !ports.includes(ep.port)) {
            violations.push({
              rule: 'monitors-resolve',
              object: ref(mon),
              message: `port ${ep.port} not found`,
            });
          }
        }
      }
      return violations;
    },
  },
  {
    id: 'agent-drains',
    description: 'the agent has a grace period >= 600 s covering its drain time and a preStop hook',
    check: (objects) =>
      deployments(objects)
        .filter((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'agent')
        .flatMap((d) => {
          const spec = d.spec?.template.spec;
          const grace = spec?.terminationGracePeriodSeconds ?? 30;
          const container = spec?.containers[0];
          const drain = Number(drainSeconds(objects, container));
          const problems: string[] = [];
          if (grace < MIN_AGENT_GRACE_SECONDS) problems.push(`grace ${grace}s < ${MIN_AGENT_GRACE_SECONDS}s`);
          if (!container?.lifecycle?.preStop) problems.push('no preStop hook');
          if (Number.isFinite(drain) && drain > grace)
            problems.push(`drain ${drain}s exceeds grace ${grace}s`);
          return problems.map((message) => ({ rule: 'agent-drains', object: ref(d), message }));
        }),
  },
  {
    id: 'secrets-by-reference',
    description:
      'no Secret objects; secret-looking variables come from secretKeyRef, never values or ConfigMaps',
    check: (objects) => {
      const violations: Violation[] = objects
        .filter((o) => o.kind === 'Secret')
        .map((o) => ({ rule: 'secrets-by-reference', object: ref(o), message: 'chart renders a Secret' }));
      for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
        for (const key of Object.keys((cm.data as Record<string, string> | undefined) ?? {})) {
          if (SECRET_NAME.test(key) && key !== 'ENCRYPTION_KEY_ID') {
            violations.push({
              rule: 'secrets-by-reference',
              object: ref(cm),
              message: `ConfigMap key ${key}`,
            });
          }
        }
      }
      for (const owner of podOwners(objects)) {
        for (const c of allContainers(owner.spec)) {
          for (const env of c.env ?? []) {
            if (
              SECRET_NAME.test(env.name) &&
              env.name !== 'ENCRYPTION_KEY_ID' &&
              !env.valueFrom?.secretKeyRef
            ) {
              violations.push({
                rule: 'secrets-by-reference',
                object: owner.ref,
                message: `env ${env.name} not from a Secret`,
              });
            }
          }
        }
      }
      return violations;
    },
  },
];

/** DRAIN_TIMEOUT_SECONDS of a container: from its env, else from the ConfigMaps it loads with envFrom. */
function drainSeconds(objects: K8sObject[], container: V1Container | undefined): string | undefined {
  const direct = container?.env?.find((e) => e.name === 'DRAIN_TIMEOUT_SECONDS')?.value;
  if (direct !== undefined) return direct;
  for (const source of container?.envFrom ?? []) {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === source.configMapRef?.name);
    const value = (cm?.data as Record<string, string> | undefined)?.DRAIN_TIMEOUT_SECONDS;
    if (value !== undefined) return value;
  }
  return undefined;
}

export function checkAll(objects: K8sObject[]): Violation[] {
  return RULES.flatMap((rule) => rule.check(objects));
}

export function ruleById(id: string): Rule {
  const rule = RULES.find((r) => r.id === id);
  if (!rule) throw new Error(`no rule ${id}`);
  return rule;
}
