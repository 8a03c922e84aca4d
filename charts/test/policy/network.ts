/**
 * Network rules: default-deny and per-workload NetworkPolicies with no open egress, Services that reach their
 * pods' named ports, and ServiceMonitors/PodMonitors that resolve to a port.
 */
import type { V1LabelSelector, V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
import type { K8sObject } from '../helm.ts';
import { allContainers, podOwners } from './pods.ts';
import { type Rule, ref, selects, type Violation } from './rule.ts';

export const NETWORK_RULES: Rule[] = [
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
];
