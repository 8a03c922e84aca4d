/**
 * Pod and container hardening: a superset of Pod Security "restricted" (host namespaces, tokens, seccomp, uid,
 * privileges, capabilities, read-only root) plus resources, pinned images and probes.
 */
import type { V1ServiceAccount } from '@kubernetes/client-node';
import { perContainer, perPod } from './pods.ts';
import { type Rule, ref } from './rule.ts';

export const POD_SECURITY_RULES: Rule[] = [
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
];
