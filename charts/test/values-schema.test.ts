/**
 * values.schema.json and the chart's render-time checks reject what they should: helm template must fail and
 * name the offending value. Helm 3 reports schema errors as `a.b: ...` and helm 4 as `at '/a/b'`, so the
 * assertions accept either spelling of the path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHART_DIR, render, renderFailure } from './helm.ts';

const DEFAULTS = 'ci/defaults-values.yaml';

function pathPattern(path: string): RegExp {
  const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const dotted = quote(path);
  const slashed = quote(`/${path.replaceAll('.', '/')}`);
  return new RegExp(`(${dotted}|${slashed})`);
}

describe('values.schema.json', () => {
  it('is draft-07 and closed at the top level and on every object it defines', () => {
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as {
      $schema: string;
      additionalProperties: boolean;
      properties: Record<string, { additionalProperties?: unknown; type?: string }>;
    };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.additionalProperties).toBe(false);
    const open = Object.entries(schema.properties)
      .filter(([, s]) => s.type === 'object' && s.additionalProperties === undefined)
      .map(([k]) => k);
    expect(open).toEqual([]);
  });

  // [--set expression, path the error must name]
  const REJECTED: Array<[string, string]> = [
    ['containerSecurityContext.privileged=true', 'containerSecurityContext.privileged'],
    [
      'containerSecurityContext.allowPrivilegeEscalation=true',
      'containerSecurityContext.allowPrivilegeEscalation',
    ],
    [
      'containerSecurityContext.readOnlyRootFilesystem=false',
      'containerSecurityContext.readOnlyRootFilesystem',
    ],
    ['containerSecurityContext.capabilities.add={NET_ADMIN}', 'containerSecurityContext.capabilities.add'],
    ['containerSecurityContext.capabilities.drop={NET_RAW}', 'containerSecurityContext.capabilities.drop'],
    ['podSecurityContext.runAsNonRoot=false', 'podSecurityContext.runAsNonRoot'],
    ['podSecurityContext.runAsUser=0', 'podSecurityContext.runAsUser'],
    ['podSecurityContext.seccompProfile.type=Unconfined', 'podSecurityContext.seccompProfile.type'],
    ['agent.image.tag=latest', 'agent.image.tag'],
    ['api.image.digest=sha256:abc', 'api.image.digest'],
    ['agent.terminationGracePeriodSeconds=120', 'agent.terminationGracePeriodSeconds'],
    ['agent.resources.limits=null', 'agent.resources'],
    ['api.resources.requests.cpu=lots', 'api.resources.requests.cpu'],
    ['livekit.url=https://livekit.example.eu', 'livekit.url'],
    ['riva.mode=cloud', 'riva.mode'],
    ['riva.hosted.url=http://grpc.nvcf.nvidia.com:443', 'riva.hosted.url'],
    ['riva.hosted.asrFunctionId=not-a-uuid', 'riva.hosted.asrFunctionId'],
    ['agent.replicaz=2', 'agent'],
    ['unknownTopLevel=1', '(root)'],
    ['autoscaling.kind=vpa', 'autoscaling.kind'],
    ['autoscaling.scaleDownStabilizationSeconds=60', 'autoscaling.scaleDownStabilizationSeconds'],
    ['agent.pdb.maxUnavailable=0', 'agent.pdb.maxUnavailable'],
    ['api.service.type=ExternalName', 'api.service.type'],
    ['networkPolicy.livekit.ports[0].protocol=ICMP', 'networkPolicy.livekit.ports'],
  ];

  it.each(REJECTED)('rejects --set %s', async (expr, path) => {
    const stderr = await renderFailure({ values: [DEFAULTS], set: [expr] });
    expect(stderr).toContain("values don't meet the specifications of the schema");
    if (path === '(root)') expect(stderr).toContain('unknownTopLevel');
    else expect(stderr).toMatch(pathPattern(path));
  });

  it('accepts a digest, a non-root uid of choice and a longer grace period', async () => {
    const objects = await render({
      values: [DEFAULTS],
      set: [
        `agent.image.digest=sha256:${'a'.repeat(64)}`,
        'podSecurityContext.runAsUser=20000',
        'containerSecurityContext.runAsUser=20000',
        'agent.terminationGracePeriodSeconds=3700',
        'agent.drainTimeoutSeconds=3600',
        'autoscaling.scaleDownStabilizationSeconds=3600',
      ],
    });
    const agent = JSON.stringify(
      objects.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-agent')),
    );
    expect(agent).toContain(`@sha256:${'a'.repeat(64)}`);
    expect(agent).toContain('"terminationGracePeriodSeconds":3700');
  });
});

describe('render-time checks across values', () => {
  const FAILS: Array<[string, string[], string]> = [
    ['no LiveKit URL', ['livekit.url='], 'livekit.url is required'],
    ['no LiveKit Secret', ['livekit.existingSecret='], 'livekit.existingSecret is required'],
    [
      'no encryption key Secret',
      ['api.encryption.existingSecret='],
      'api.encryption.existingSecret is required',
    ],
    ['hosted Riva without an API key Secret', ['riva.mode=hosted'], 'riva.hosted.existingSecret is required'],
    [
      'hosted Riva without acknowledging the non-EU host',
      ['riva.mode=hosted', 'riva.hosted.existingSecret=nvidia-api'],
      'grpc.nvcf.nvidia.com, which is not EU-resident',
    ],
    ['in-cluster Riva without a url', ['riva.inCluster.url='], 'riva.inCluster.url is required'],
    ['an LLM brain without a base URL', ['agent.brain=llm'], 'agent.llm.baseUrl is required'],
    ['two API replicas on embedded PGlite', ['api.replicaCount=2'], 'api.replicaCount > 1 needs PostgreSQL'],
    [
      'a grace period shorter than preStop + drain',
      ['agent.terminationGracePeriodSeconds=600', 'agent.drainTimeoutSeconds=600'],
      'agent.terminationGracePeriodSeconds (600) must be at least',
    ],
    [
      'a scale-down window shorter than the drain',
      ['agent.terminationGracePeriodSeconds=1300', 'agent.drainTimeoutSeconds=1200'],
      'autoscaling.scaleDownStabilizationSeconds must be at least agent.drainTimeoutSeconds',
    ],
  ];

  it.each(FAILS)('fails on %s', async (_what, set, message) => {
    const stderr = await renderFailure({ values: [DEFAULTS], set });
    expect(stderr).toContain(message);
  });
});
