/**
 * Regression check for benchmark figures: "a regression of a figure by more than 20 % is a bug".
 *
 * `npm run bench -- NAME --baseline bench/baseline.json` compares the run's JSON with the baseline's entry of
 * the same benchmark; `npx tsx bench/compare.ts BASELINE.json RESULTS.json` compares two results files
 * (out/bench/results.json shape: `{ name: { exitCode, result } }`).
 *
 * Figures are the numeric leaves of each benchmark's JSON line. Arrays of levels are matched by their level
 * key (`calls`, `streams`, `level`, `engine`, `name`), so a run with `--calls 10` is compared with the
 * baseline's 10-call level only. Direction comes from the figure's name: rates (`…PerSecond`, `rps`,
 * `throughput`, `held`) are better higher; times, CPU, memory, late / dropped / lost counts and percentiles
 * are better lower; plain counts (frames, turns) are not judged. A figure regresses when it is worse by more
 * than 20 % AND by more than a noise floor for its unit (5 ms, 5 MB, 0.005 core, 50 late frames; any dropped
 * or lost item counts), so 1 ms → 2 ms is
 * not a regression. Runs whose identifying strings differ (e.g. `riva: minimal` vs `speech-server`) are not
 * compared.
 */
import { readFileSync } from 'node:fs';

export const REGRESSION_LIMIT = 0.2;

type Direction = 'lower' | 'higher';

export interface FigureChange {
  benchmark: string;
  path: string;
  baseline: number;
  current: number;
  change: number;
  direction: Direction;
  regression: boolean;
}

const LEVEL_KEYS = ['calls', 'streams', 'level', 'engine', 'name', 'case'];

/** Numeric leaves by path; arrays of objects keyed by their level field when they have one. */
export function figuresOf(value: unknown, path = ''): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (v: unknown, p: string) => {
    if (typeof v === 'number' && Number.isFinite(v)) out.set(p, v);
    else if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const key =
          item && typeof item === 'object'
            ? LEVEL_KEYS.find((k) => k in (item as Record<string, unknown>))
            : undefined;
        const label = key ? `${key}=${String((item as Record<string, unknown>)[key])}` : String(i);
        walk(item, `${p}[${label}]`);
      });
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) walk(child, p ? `${p}.${k}` : k);
    }
  };
  walk(value, path);
  return out;
}

/** Which way is better for a figure, from its name; undefined for figures that are not judged. */
export function directionOf(path: string): Direction | undefined {
  const leaf = (path.split('.').at(-1) ?? '').replace(/\[.*\]$/, '').toLowerCase();
  const inSetup = /(^|\.)(machine|settings)\./i.test(path);
  if (inSetup || LEVEL_KEYS.includes(leaf)) return undefined;
  if (
    /loadavg|wall|iterations|target|threshold|frames$|^turns$|^seconds$|^cores$|^cpus$|connections|count$/.test(
      leaf,
    )
  )
    return undefined;
  if (/persecond|persec|rps|throughput|held|speed|answered/.test(leaf)) return 'higher';
  if (/p\d\d(ms)?$|ms$|msper|mb|core|cpu|rtf|late|dropped|lost|duplicated|lag|errors?$|fivexx/.test(leaf))
    return 'lower';
  return undefined;
}

function noiseFloor(path: string): number {
  const p = path.toLowerCase();
  if (/core|cpu|rtf/.test(p)) return 0.005;
  if (/mb/.test(p)) return 5; // per-call memory at low N moves with GC timing by a few MB
  if (/late/.test(p)) return 50; // late-frame counts move with the machine
  if (/dropped|lost|duplicated|errors?|fivexx/.test(p)) return 0.5; // any more is a regression
  return 5; // milliseconds and anything else timed
}

/** Identifying strings at the top of a result (riva mode, process model): differing ones make runs incomparable. */
function identity(result: unknown): string {
  if (!result || typeof result !== 'object') return '';
  return Object.entries(result as Record<string, unknown>)
    .filter(([k, v]) => typeof v === 'string' && k !== 'benchmark')
    .map(([k, v]) => `${k}=${String(v)}`)
    .sort()
    .join(';');
}

export function compareResults(benchmark: string, baseline: unknown, current: unknown): FigureChange[] {
  if (identity(baseline) !== identity(current)) return [];
  const base = figuresOf(baseline);
  const changes: FigureChange[] = [];
  for (const [path, now] of figuresOf(current)) {
    const before = base.get(path);
    const direction = directionOf(path);
    if (before === undefined || direction === undefined) continue;
    const worse = direction === 'lower' ? now - before : before - now;
    const change =
      before === 0 ? (now === 0 ? 0 : Number.POSITIVE_INFINITY) : (now - before) / Math.abs(before);
    const relativeWorse = before === 0 ? worse > 0 : worse / Math.abs(before) > REGRESSION_LIMIT;
    changes.push({
      benchmark,
      path,
      baseline: before,
      current: now,
      change,
      direction,
      regression: relativeWorse && worse > noiseFloor(path),
    });
  }
  return changes;
}

type ResultsFile = Record<string, { exitCode?: number; result: unknown }>;

export function compareFiles(baseline: ResultsFile, current: ResultsFile): FigureChange[] {
  return Object.entries(current).flatMap(([name, entry]) =>
    baseline[name] ? compareResults(name, baseline[name].result, entry.result) : [],
  );
}

export function formatChanges(changes: FigureChange[]): string {
  if (changes.length === 0) return 'compare: no figure comparable with the baseline';
  const regressions = changes.filter((c) => c.regression);
  const lines = regressions.map(
    (c) =>
      `  REGRESSION ${c.benchmark} ${c.path}: ${c.baseline} -> ${c.current} ` +
      `(${c.change === Number.POSITIVE_INFINITY ? 'from 0' : `${(c.change * 100).toFixed(0)} %`}, ${c.direction} is better)`,
  );
  return [
    `compare: ${changes.length} figures against the baseline, ${regressions.length} worse by > ${REGRESSION_LIMIT * 100} %`,
    ...lines,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [basePath, currentPath] = process.argv.slice(2);
  if (!basePath || !currentPath) {
    console.error('usage: compare.ts BASELINE.json RESULTS.json');
    process.exit(2);
  }
  const read = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as ResultsFile;
  const changes = compareFiles(read(basePath), read(currentPath));
  console.log(formatChanges(changes));
  process.exit(changes.some((c) => c.regression) ? 1 : 0);
}
