/**
 * `npm run bench [-- NAME ...] [-- --flags]`: runs the named benchmarks (all by default), one after the
 * other so they don't compete for the two cores, each in its own process. Every benchmark prints a
 * progress line while it works, then a table and a JSON line; this runner collects the JSON lines into
 * out/bench/results.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compareFiles, formatChanges } from './compare.ts';

const BENCHMARKS: Record<string, string> = {
  'riva-client': 'bench/riva-client.ts',
  'speech-server': 'bench/speech-server.ts',
  agent: 'bench/agent.ts',
  'control-api': 'bench/control-api.ts',
  'agent-capacity': 'bench/agent-capacity.ts',
  'agent-processes': 'bench/agent-processes.ts',
  livekit: 'bench/livekit.ts',
};

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
// Names pick benchmarks; every `--flag [value]` is passed to each of them, except the runner's own
// `--baseline FILE` (compare with a saved results file) and `--save-baseline FILE`.
const names: string[] = [];
const unknown: string[] = [];
const passThrough: string[] = [];
let baselinePath: string | undefined;
let saveBaselinePath: string | undefined;
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  const next = args[i + 1];
  const value = next !== undefined && !next.startsWith('-') && !(next in BENCHMARKS) ? next : undefined;
  if (arg === '--baseline' || arg === '--save-baseline') {
    if (!value) unknown.push(`${arg} needs a file`);
    else if (arg === '--baseline') baselinePath = value;
    else saveBaselinePath = value;
    i += value ? 1 : 0;
  } else if (arg.startsWith('-')) {
    passThrough.push(arg, ...(value ? [value] : []));
    i += value ? 1 : 0;
  } else if (arg in BENCHMARKS) names.push(arg);
  else unknown.push(arg);
}
if (unknown.length > 0 || args.includes('--help')) {
  console.error(
    `usage: npm run bench -- [${Object.keys(BENCHMARKS).join('|')}] ... [--flag value ...] ` +
      '[--baseline FILE] [--save-baseline FILE]' +
      (unknown.length > 0 ? `\nnot understood: ${unknown.join(', ')}` : ''),
  );
  process.exit(unknown.length > 0 ? 2 : 0);
}
const selected = names.length > 0 ? names : Object.keys(BENCHMARKS);

const results: Record<string, unknown> = {};
for (const name of selected) {
  const script = BENCHMARKS[name]!;
  console.log(`\n=== bench ${name} (${script})`);
  const lines: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...passThrough], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.setEncoding('utf8');
    let pending = '';
    child.stdout.on('data', (chunk: string) => {
      process.stdout.write(chunk);
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts);
    });
    child.on('close', (c) => {
      if (pending) lines.push(pending);
      resolve(c ?? 1);
    });
  });
  const json = lines.reverse().find((l) => l.trim().startsWith('{') && l.trim().endsWith('}'));
  results[name] = { exitCode: code, result: json ? (JSON.parse(json) as unknown) : null };
}

mkdirSync(`${root}/out/bench`, { recursive: true });
writeFileSync(`${root}/out/bench/results.json`, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nbench: wrote out/bench/results.json (${selected.join(', ')})`);
if (saveBaselinePath) {
  // Merged: saving one benchmark's run keeps the other benchmarks' baselines in the file.
  const saved = existsSync(saveBaselinePath)
    ? (JSON.parse(readFileSync(saveBaselinePath, 'utf8')) as Record<string, unknown>)
    : {};
  writeFileSync(saveBaselinePath, `${JSON.stringify({ ...saved, ...results }, null, 2)}\n`);
  console.log(`bench: saved these results (${selected.join(', ')}) into the baseline ${saveBaselinePath}`);
}
let regressed = false;
if (baselinePath) {
  const baseline = JSON.parse(readFileSync(baselinePath, 'utf8')) as Parameters<typeof compareFiles>[0];
  const changes = compareFiles(baseline, results as Parameters<typeof compareFiles>[1]);
  console.log(formatChanges(changes));
  regressed = changes.some((c) => c.regression);
}
const failed = Object.entries(results).filter(([, r]) => (r as { exitCode: number }).exitCode !== 0);
process.exit(failed.length > 0 || regressed ? 1 : 0);
