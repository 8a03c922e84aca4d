/**
 * Production build (`npm run build`): emits JavaScript into dist/ with tsc (tsconfig.build.json rewrites the
 * `.ts` import extensions to `.js`) and copies the non-TypeScript files the services read at run time, at the
 * same relative paths, so code that locates them from `import.meta.url` finds them under dist/ too:
 *   proto/**\/*.proto          → dist/proto/…          (proto/src/index.ts loads them from PROTO_ROOT)
 *   agent/flows/*, agent/assets/* → dist/agent/…       (sample call flow, sample caller WAVs)
 *   control-api/migrations/*   → dist/control-api/migrations (SQL migrations)
 * dist/ is removed first so files of deleted sources never linger in an image.
 *
 * `--bench` builds the benchmark's call process (bench/support/one-call-child.ts and what it imports,
 * tsconfig.bench-build.json) the same way into dist-bench/, so the benchmarks run their call processes as
 * compiled JavaScript, as the production image does.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const withBench = process.argv.includes('--bench');
const dist = join(root, withBench ? 'dist-bench' : 'dist');
const project = join(root, withBench ? 'tsconfig.bench-build.json' : 'tsconfig.build.json');

interface AssetSet {
  /** Folder under the repository root. */
  from: string;
  /** Which files to copy (relative path inside `from`). */
  include: (path: string) => boolean;
  /** A missing folder fails the build when required. */
  required: boolean;
}

const ASSETS: AssetSet[] = [
  { from: 'proto', include: (p) => p.endsWith('.proto') || p === 'NOTICE', required: true },
  { from: 'agent/flows', include: () => true, required: true },
  { from: 'agent/assets', include: () => true, required: false },
  { from: 'control-api/migrations', include: () => true, required: false },
];

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function copyAssets(): number {
  let copied = 0;
  for (const set of ASSETS) {
    const source = join(root, set.from);
    if (!existsSync(source) || !statSync(source).isDirectory()) {
      if (set.required) throw new Error(`build: asset folder ${set.from} is missing`);
      continue;
    }
    for (const file of filesUnder(source)) {
      if (!set.include(relative(source, file))) continue;
      cpSync(file, join(dist, relative(root, file)));
      copied += 1;
    }
  }
  return copied;
}

rmSync(dist, { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', project], {
  stdio: 'inherit',
  cwd: root,
});
const copied = copyAssets();
console.log(`build: emitted JavaScript into ${relative(root, dist)}/ and copied ${copied} asset files`);
