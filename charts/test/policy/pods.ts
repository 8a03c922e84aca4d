/**
 * Typed views of the pods a release runs (Deployment templates and bare Pods) and rule builders that check
 * every pod or every container of them.
 */
import type { V1Container, V1Deployment, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import type { K8sObject } from '../helm.ts';
import { ref, type Violation } from './rule.ts';

export interface PodOwner {
  ref: string;
  kind: string;
  labels: Record<string, string>;
  spec: V1PodSpec;
  annotations: Record<string, string>;
}

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

export const deployments = (objects: K8sObject[]): Array<K8sObject & V1Deployment> =>
  objects.filter((o) => o.kind === 'Deployment') as Array<K8sObject & V1Deployment>;

export const allContainers = (spec: V1PodSpec): V1Container[] => [
  ...(spec.initContainers ?? []),
  ...spec.containers,
];

/** A rule check that runs `test` on every container of every pod; a returned string is a violation. */
export function perContainer(
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

/** A rule check that runs `test` on every pod; a returned string is a violation. */
export function perPod(
  id: string,
  test: (owner: PodOwner) => string | undefined,
): (objects: K8sObject[]) => Violation[] {
  return (objects) =>
    podOwners(objects).flatMap((owner) => {
      const message = test(owner);
      return message ? [{ rule: id, object: owner.ref, message }] : [];
    });
}
