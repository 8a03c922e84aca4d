/**
 * Deployment-level rules: selectors, disruption budgets, autoscalers and their scale-down pace, topology spread,
 * and the agent's drain on termination.
 */
import type {
  V1Container,
  V1PodDisruptionBudget,
  V2HorizontalPodAutoscalerSpec,
} from '@kubernetes/client-node';
import type { K8sObject } from '../helm.ts';
import { deployments } from './pods.ts';
import { type Rule, ref, selects, type Violation } from './rule.ts';

const MIN_AGENT_GRACE_SECONDS = 600;
const MIN_SCALE_DOWN_WINDOW_SECONDS = 600;

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

export const WORKLOAD_RULES: Rule[] = [
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
];
