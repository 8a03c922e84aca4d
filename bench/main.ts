/**
 * `npm run bench [-- NAME ...] [-- --flags]`: runs the named benchmarks (all by default), one after the
 * other so they don't compete for the two cores, each in its own process. Every benchmark prints a
 * progress line while it works, then a table and a JSON line; this runner collects the JSON lines into
 * out/bench/results.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHMARKS: Record<string, string> = {
  'riva-client': 'bench/riva-client.ts',
  'speech-server': 'bench/speech-server.ts',
  agent: 'bench/agent.ts',
  'control-api': 'bench/control-api.ts',
  'agent-capacity': 'bench/agent-capacity.ts',
  'agent-processes': 'bench/agent-processes.ts',
};

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-') && a in BENCHMARKS);
const unknown = args.filter((a) => !a.startsWith('-') && !(a in BENCHMARKS) && !a.includes('='));
const passThrough = args.filter((a) => a.startsWith('-'));
if (unknown.length > 0 || args.includes('--help')) {
  console.error(
    `usage: npm run bench -- [${Object.keys(BENCHMARKS).join('|')}] ... [--flags passed to each]`,
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
const failed = Object.entries(results).filter(([, r]) => (r as { exitCode: number }).exitCode !== 0);
process.exit(failed.length > 0 ? 1 : 0);
