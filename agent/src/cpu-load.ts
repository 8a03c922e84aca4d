/**
 * CPU utilisation available to this worker, as a fraction 0..1 averaged over a short window, for admission.
 *
 * Each call runs in its own process, so the worker's own CPU time says little; what matters is how much of
 * the CPU this worker may use is in use. Sources, best first:
 * - cgroup v2 (`/sys/fs/cgroup/cpu.stat` `usage_usec`): the container's CPU time over its limit from
 *   `cpu.max` (`quota period`; `max` or no file = every core this process may run on). Without a quota the
 *   container competes for the whole machine, so the machine's utilisation counts too (the larger wins):
 *   a noisy neighbour fills the cores this worker would need.
 * - the machine (`/proc/stat`, else `os.cpus()` times): busy time over all time; iowait is idle, steal is
 *   busy (time the hypervisor gave to someone else).
 *
 * A sample is taken at creation and then every `intervalMs` (timer unref'd); `load()` is the utilisation
 * between the oldest and newest sample in the last `windowMs`, `undefined` until two samples exist or when
 * nothing is readable. The readers are injectable for tests; a missing, unreadable or malformed file makes
 * that source drop out for the sample and never throws.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuTimes {
  user: number;
  nice: number;
  sys: number;
  idle: number;
  irq: number;
}

export interface CpuLoadReaders {
  /** A file's text; may throw (missing, unreadable). */
  readFile(path: string): string;
  /** Per-core times in ms since boot, as `os.cpus()`. */
  cpus(): ReadonlyArray<{ times: CpuTimes }>;
  /** Cores this process may run on (`os.availableParallelism()`). */
  cores(): number;
  /** Monotonic clock in ms. */
  now(): number;
}

export const defaultCpuLoadReaders: CpuLoadReaders = {
  readFile: (path) => readFileSync(path, 'utf8'),
  cpus: () => os.cpus(),
  cores: () => os.availableParallelism(),
  now: () => performance.now(),
};

/** Where the figure comes from: the container's quota, the container and the machine, or the machine. */
export type CpuLoadSource = 'cgroup' | 'cgroup+host' | 'host' | 'none';

export interface CpuLoadSampler {
  /** Utilisation 0..1 over the window, or undefined when not known (yet). */
  load(): number | undefined;
  /** Takes one sample now (the timer does this every `intervalMs`). */
  sample(): void;
  /** Source of the latest sample and the cores it is measured against. */
  describe(): { source: CpuLoadSource; cores: number };
  stop(): void;
}

export interface CpuLoadSamplerOptions {
  intervalMs?: number;
  windowMs?: number;
  /** Sample on a timer (default); false = only when `sample()` is called. */
  start?: boolean;
  readers?: Partial<CpuLoadReaders>;
  /** cgroup v2 mount of this container (default `/sys/fs/cgroup`). */
  cgroupDir?: string;
  procStat?: string;
}

interface Snapshot {
  at: number;
  /** cgroup CPU time (µs) and the cores it may use; `limited` when a quota sets them. */
  cgroup?: { usageUs: number; cores: number; limited: boolean };
  /** Machine busy and total time (any unit). */
  host?: { busy: number; total: number };
}

/** `usage_usec` from a cgroup v2 `cpu.stat`, or undefined. */
export function parseCgroupUsageUs(text: string): number | undefined {
  const match = /^usage_usec\s+(\d+)\s*$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Cores granted by a cgroup v2 `cpu.max` (`quota period`), or undefined for `max` or a malformed file. */
export function parseCgroupCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  const q = Number(quota);
  const p = period === undefined ? 100_000 : Number(period);
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return q / p;
}

/** Busy and total jiffies from the aggregate `cpu` line of `/proc/stat`, or undefined. */
export function parseProcStat(text: string): { busy: number; total: number } | undefined {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already in user/nice.
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 4 || fields.some((v) => !Number.isFinite(v) || v < 0)) return undefined;
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Busy and total ms summed over `os.cpus()`, or undefined when it reports nothing usable. */
export function hostFromCpus(
  cpus: ReadonlyArray<{ times: CpuTimes }>,
): { busy: number; total: number } | undefined {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus) {
    const b = times.user + times.nice + times.sys + times.irq;
    busy += b;
    total += b + times.idle;
  }
  return cpus.length > 0 && Number.isFinite(total) && total > 0 ? { busy, total } : undefined;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

export function createCpuLoadSampler(options: CpuLoadSamplerOptions = {}): CpuLoadSampler {
  const readers: CpuLoadReaders = { ...defaultCpuLoadReaders, ...options.readers };
  const intervalMs = options.intervalMs ?? 1000;
  const windowMs = options.windowMs ?? 5000;
  const cgroupDir = options.cgroupDir ?? '/sys/fs/cgroup';
  const procStat = options.procStat ?? '/proc/stat';
  const snapshots: Snapshot[] = [];

  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch {
      return undefined;
    }
  };
  const cores = () => {
    const n = attempt(() => readers.cores());
    return n !== undefined && Number.isFinite(n) && n > 0 ? n : 1;
  };

  const readCgroup = (): Snapshot['cgroup'] => {
    const stat = attempt(() => readers.readFile(`${cgroupDir}/cpu.stat`));
    const usageUs = stat === undefined ? undefined : parseCgroupUsageUs(stat);
    if (usageUs === undefined) return undefined;
    const max = attempt(() => readers.readFile(`${cgroupDir}/cpu.max`));
    const quota = max === undefined ? undefined : parseCgroupCpuMax(max);
    const all = cores();
    // A quota above the cores this process may run on cannot be used in full.
    return quota === undefined
      ? { usageUs, cores: all, limited: false }
      : { usageUs, cores: Math.min(quota, all), limited: true };
  };

  const readHost = (): Snapshot['host'] => {
    const stat = attempt(() => readers.readFile(procStat));
    const fromProc = stat === undefined ? undefined : parseProcStat(stat);
    if (fromProc) return fromProc;
    const cpus = attempt(() => readers.cpus());
    return cpus ? hostFromCpus(cpus) : undefined;
  };

  const sample = () => {
    const at = attempt(() => readers.now());
    if (at === undefined || !Number.isFinite(at)) return;
    const cgroup = readCgroup();
    const host = cgroup?.limited ? undefined : readHost();
    snapshots.push({ at, cgroup, host });
    // Keep the newest sample at least a window after the oldest kept one.
    const newest = snapshots[snapshots.length - 1] as Snapshot;
    while (snapshots.length > 2 && newest.at - (snapshots[1] as Snapshot).at >= windowMs) snapshots.shift();
  };

  const cgroupLoad = (newest: Snapshot): number | undefined => {
    const now = newest.cgroup;
    const from = snapshots.find((s) => s.cgroup !== undefined && s !== newest);
    if (!now || !from?.cgroup) return undefined;
    const usedUs = now.usageUs - from.cgroup.usageUs;
    const wallUs = (newest.at - from.at) * 1000;
    // A counter going backwards (a new cgroup) gives no figure until the window holds only new samples.
    if (wallUs <= 0 || usedUs < 0) return undefined;
    return clamp01(usedUs / (wallUs * now.cores));
  };

  const hostLoad = (newest: Snapshot): number | undefined => {
    const now = newest.host;
    const from = snapshots.find((s) => s.host !== undefined && s !== newest);
    if (!now || !from?.host) return undefined;
    const total = now.total - from.host.total;
    const busy = now.busy - from.host.busy;
    if (total <= 0 || busy < 0) return undefined;
    return clamp01(busy / total);
  };

  const sourceOf = (s: Snapshot | undefined): CpuLoadSource => {
    if (s?.cgroup) return s.cgroup.limited ? 'cgroup' : s.host ? 'cgroup+host' : 'cgroup';
    return s?.host ? 'host' : 'none';
  };

  sample();
  const timer = options.start === false ? undefined : setInterval(sample, intervalMs);
  timer?.unref();

  return {
    load() {
      const newest = snapshots[snapshots.length - 1];
      if (!newest) return undefined;
      const parts = [cgroupLoad(newest), hostLoad(newest)].filter((v): v is number => v !== undefined);
      return parts.length > 0 ? Math.max(...parts) : undefined;
    },
    sample,
    describe() {
      const newest = snapshots[snapshots.length - 1];
      return { source: sourceOf(newest), cores: newest?.cgroup?.cores ?? cores() };
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
