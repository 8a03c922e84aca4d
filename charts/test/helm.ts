/**
 * Runs the real helm binary (installed by scripts/install-helm.sh into .tools/bin) against the chart and parses
 * what it renders. A missing helm is an error, never a skip: the chart tests are the only check of the chart.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART_DIR = join(REPO_ROOT, 'charts', 'riva-call-agent');
export const HELM = join(REPO_ROOT, '.tools', 'bin', 'helm');
export const RELEASE = 'calls';
export const NAMESPACE = 'voice';
/** Oldest Kubernetes we render for by default; 1.30 serves the native preStop sleep action. */
export const KUBE_VERSION = '1.30.0';
/** CRD APIs the scenarios need (Prometheus operator monitors, KEDA ScaledObject). */
export const API_VERSIONS = ['monitoring.coreos.com/v1', 'keda.sh/v1alpha1'];

/** A rendered Kubernetes object. Kind-specific fields are read through the typed views in policy/. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RenderOptions {
  /** Values files, relative to the chart directory (e.g. `ci/keda-values.yaml`). */
  values?: string[];
  /** `--set` expressions. */
  set?: string[];
  /** `--set-json` expressions (e.g. `a.list=[]`). */
  setJson?: string[];
  kubeVersion?: string;
}

/** The path of the helm binary, or an error that says how to install it. */
export function helmPath(): string {
  if (!existsSync(HELM)) {
    throw new Error(
      `helm is not installed at ${HELM}. Run scripts/install-helm.sh (scripts/bootstrap.sh does) before the chart tests.`,
    );
  }
  return HELM;
}

export function runHelm(args: string[]): Promise<HelmResult> {
  const helm = helmPath();
  return new Promise((resolvePromise) => {
    execFile(
      helm,
      args,
      { cwd: CHART_DIR, timeout: 30_000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

function templateArgs(opts: RenderOptions): string[] {
  const args = ['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE];
  args.push('--kube-version', opts.kubeVersion ?? KUBE_VERSION);
  for (const api of API_VERSIONS) args.push('--api-versions', api);
  for (const file of opts.values ?? []) args.push('--values', join(CHART_DIR, file));
  for (const expr of opts.set ?? []) args.push('--set', expr);
  for (const expr of opts.setJson ?? []) args.push('--set-json', expr);
  return args;
}

/** Parses a multi-document YAML stream into objects, dropping empty documents. */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

/** `helm template` with the options; throws with helm's message when rendering fails. */
export async function render(opts: RenderOptions = {}): Promise<K8sObject[]> {
  const result = await runHelm(templateArgs(opts));
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr.trim()}`);
  return parseManifests(result.stdout);
}

/** `helm template` that is expected to fail; returns helm's error output (throws if it rendered). */
export async function renderFailure(opts: RenderOptions): Promise<string> {
  const result = await runHelm(templateArgs(opts));
  if (result.code === 0) {
    throw new Error(`helm template unexpectedly succeeded with ${JSON.stringify(opts)}`);
  }
  return result.stderr;
}

/** `helm lint --strict` with the values files. */
export function lint(values: string[]): Promise<HelmResult> {
  const args = ['lint', CHART_DIR, '--strict', '--kube-version', KUBE_VERSION];
  for (const file of values) args.push('--values', join(CHART_DIR, file));
  return runHelm(args);
}

/** The chart-testing scenarios: `ci/*-values.yaml`, relative to the chart directory. */
export function ciScenarios(): string[] {
  return readdirSync(join(CHART_DIR, 'ci'))
    .filter((name) => name.endsWith('-values.yaml'))
    .sort()
    .map((name) => `ci/${name}`);
}

/**
 * Renders the scenarios once per test file. A render failure (helm missing, a template error) is kept and
 * rethrown by every `get`, so each test that needs the objects fails with helm's message instead of being
 * skipped by a failed hook.
 */
export class ScenarioRenders {
  #objects = new Map<string, K8sObject[]>();
  #error: Error | undefined;

  async load(scenarios: string[]): Promise<void> {
    try {
      const results = await Promise.all(scenarios.map((s) => render({ values: [s] })));
      for (const [i, s] of scenarios.entries()) this.#objects.set(s, results[i] as K8sObject[]);
    } catch (err) {
      this.#error = err instanceof Error ? err : new Error(String(err));
    }
  }

  get(scenario: string): K8sObject[] {
    if (this.#error) throw this.#error;
    const objects = this.#objects.get(scenario);
    if (!objects) throw new Error(`scenario ${scenario} was not rendered`);
    return objects;
  }
}

export function findObject(objects: K8sObject[], kind: string, nameSuffix: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
}
