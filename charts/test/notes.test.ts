/**
 * NOTES.txt is only rendered by `helm install`, which needs a cluster. To check it offline, a scratch copy of the
 * chart renders NOTES.txt through `tpl` inside a ConfigMap, which `helm template` can show.
 */
import { cpSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_DIR, NAMESPACE, parseManifests, RELEASE, runHelm } from './helm.ts';

let scratch = '';

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'rca-notes-'));
  cpSync(CHART_DIR, join(scratch, 'chart'), { recursive: true });
  const chart = join(scratch, 'chart');
  renameSync(join(chart, 'templates', 'NOTES.txt'), join(chart, 'notes.tpl'));
  writeFileSync(
    join(chart, 'templates', 'zz-notes.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get "notes.tpl") . | toJson }}\n',
  );
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function notes(valuesFile: string): Promise<string> {
  const chart = join(scratch, 'chart');
  const result = await runHelm([
    'template',
    RELEASE,
    chart,
    '--namespace',
    NAMESPACE,
    '--values',
    join(chart, valuesFile),
    '--show-only',
    'templates/zz-notes.yaml',
  ]);
  if (result.code !== 0) throw new Error(result.stderr);
  const [cm] = parseManifests(result.stdout);
  const data = cm?.data as Record<string, string> | undefined;
  if (!data?.notes) throw new Error('NOTES.txt rendered nothing');
  return data.notes;
}

describe('NOTES.txt', () => {
  it('warns that hosted Riva is not EU-resident and shows the Ingress URL', async () => {
    const text = await notes('ci/hosted-riva-values.yaml');
    expect(text).toContain("NVIDIA's hosted endpoint, which is not EU-resident");
    expect(text).toContain('https://calls.example.eu/docs');
    expect(text).not.toContain('PGlite');
  });

  it('explains draining and warns about embedded PGlite with the defaults', async () => {
    const text = await notes('ci/defaults-values.yaml');
    expect(text).toContain('lets live calls run for up to 600 s');
    expect(text).toContain('rollout status deploy/calls-riva-call-agent-agent --timeout=780s');
    expect(text).toContain('port-forward svc/calls-riva-call-agent-api 8080:8080');
    expect(text).toContain('embedded PGlite');
    expect(text).not.toContain('not EU-resident');
  });

  it('flags the CPU speech server as staging only', async () => {
    expect(await notes('ci/speech-server-values.yaml')).toContain('for staging, not production quality');
  });
});
