/**
 * The CPU load sampler behind admission: cgroup v2 accounting against its quota, or against every core
 * with the machine's figure counted too when there is no quota; /proc/stat (then os.cpus()) without a
 * cgroup; counter deltas over a sliding window; missing or malformed files never throw. The readers are
 * injected with fixed file contents and a fake clock; one test samples this machine for real.
 */
import { describe, expect, it } from 'vitest';
import {
  type CpuLoadReaders,
  type CpuTimes,
  createCpuLoadSampler,
  parseCgroupCpuMax,
  parseCgroupUsageUs,
  parseProcStat,
} from '../src/cpu-load.ts';

/** A fake machine: files by path (a missing key throws like a missing file), cores, clock, os.cpus(). */
function fakeMachine(initial: { files?: Record<string, string>; cores?: number; cpus?: CpuTimes[] }) {
  const state = {
    files: { ...initial.files } as Record<string, string | undefined>,
    cores: initial.cores ?? 2,
    now: 0,
    cpus: initial.cpus ?? [],
  };
  const reads: string[] = [];
  const readers: CpuLoadReaders = {
    readFile(path) {
      reads.push(path);
      const text = state.files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    cpus: () => state.cpus.map((times) => ({ times })),
    cores: () => state.cores,
    now: () => state.now,
  };
  return { state, readers, reads };
}

const cpuStat = (usageUs: number) =>
  `usage_usec ${usageUs}\nuser_usec ${Math.floor(usageUs / 2)}\nsystem_usec ${Math.ceil(usageUs / 2)}\nnr_periods 0\n`;
/** An aggregate /proc/stat line: user nice system idle iowait irq softirq steal guest guest_nice. */
const procStat = (busy: number, idle: number, iowait = 0, steal = 0) =>
  `cpu  ${busy} 0 0 ${idle} ${iowait} 0 0 ${steal} 7 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 12345\n`;

describe('cpu load sampler: parsers', () => {
  it('reads cgroup v2 cpu.stat and cpu.max', () => {
    expect(parseCgroupUsageUs(cpuStat(123456))).toBe(123456);
    expect(parseCgroupUsageUs('user_usec 5\n')).toBeUndefined();
    expect(parseCgroupUsageUs('usage_usec lots\n')).toBeUndefined();
    expect(parseCgroupCpuMax('150000 100000\n')).toBe(1.5);
    expect(parseCgroupCpuMax('50000\n')).toBe(0.5);
    expect(parseCgroupCpuMax('max 100000\n')).toBeUndefined();
    expect(parseCgroupCpuMax('')).toBeUndefined();
    expect(parseCgroupCpuMax('-1 100000')).toBeUndefined();
    expect(parseCgroupCpuMax('garbage here')).toBeUndefined();
  });

  it('reads the aggregate line of /proc/stat: iowait is idle, steal is busy, guest is not counted twice', () => {
    expect(parseProcStat(procStat(300, 600, 100, 50))).toEqual({ busy: 350, total: 1050 });
    expect(parseProcStat('cpu0 1 2 3 4\n')).toBeUndefined();
    expect(parseProcStat('cpu  a b c d\n')).toBeUndefined();
    expect(parseProcStat('')).toBeUndefined();
  });
});

describe('cpu load sampler', () => {
  it('uses the cgroup against its quota: CPU time over wall time times the granted cores', () => {
    const m = fakeMachine({
      files: { '/sys/fs/cgroup/cpu.stat': cpuStat(0), '/sys/fs/cgroup/cpu.max': '150000 100000\n' },
      cores: 4,
    });
    const sampler = createCpuLoadSampler({ readers: m.readers, start: false });
    expect(sampler.load()).toBeUndefined(); // one sample is no rate
    m.state.now = 1000;
    m.state.files['/sys/fs/cgroup/cpu.stat'] = cpuStat(750_000); // 0.75 core-seconds in 1 s of 1.5 cores
    sampler.sample();
    expect(sampler.load()).toBeCloseTo(0.5, 10);
    expect(sampler.describe()).toEqual({ source: 'cgroup', cores: 1.5 });
    m.state.now = 2000;
    m.state.files['/sys/fs/cgroup/cpu.stat'] = cpuStat(1_500_000);
    sampler.sample();
    expect(sampler.load()).toBeCloseTo(0.5, 10);
    // The machine is not read when a quota bounds the container.
    expect(m.reads.filter((p) => p === '/proc/stat')).toEqual([]);
  });

  it('caps a quota larger than the machine at its cores, and clamps to 1', () => {
    const m = fakeMachine({
      files: { '/sys/fs/cgroup/cpu.stat': cpuStat(0), '/sys/fs/cgroup/cpu.max': '800000 100000' },
      cores: 2,
    });
    const sampler = createCpuLoadSampler({ readers: m.readers, start: false });
    m.state.now = 1000;
    m.state.files['/sys/fs/cgroup/cpu.stat'] = cpuStat(1_000_000);
    sampler.sample();
    expect(sampler.describe().cores).toBe(2);
    expect(sampler.load()).toBeCloseTo(0.5, 10);
    m.state.now = 2000;
    m.state.files['/sys/fs/cgroup/cpu.stat'] = cpuStat(9_000_000); // more than 2 cores can do: clamped
    sampler.sample();
    expect(sampler.load()).toBe(1);
  });

  it('with cpu.max "max" measures against every core and lets a busier machine win', () => {
    const m = fakeMachine({
      files: {
        '/sys/fs/cgroup/cpu.stat': cpuStat(0),
        '/sys/fs/cgroup/cpu.max': 'max 100000\n',
        '/proc/stat': procStat(0, 0),
      },
      cores: 2,
    });
    const sampler = createCpuLoadSampler({ readers: m.readers, start: false, windowMs: 1000 });
    m.state.now = 1000;
    m.state.files['/sys/fs/cgroup/cpu.stat'] = cpuStat(500_000); // 0.5 of 2 cores = 0.25
    m.state.files['/proc/stat'] = procStat(20, 180); // the machine: 10 % busy
    sampler.sample();
    expect(sampler.describe()).toEqual({ source: 'cgroup+host', cores: 2 });
    expect(sampler.load()).toBeCloseTo(0.25, 10);
    // A noisy neighbour fills the machine: 90 % busy over the last second (the window).
    m.state.now = 2000;
    m.state.files['/sys/fs/cgroup/cpu.stat'] = cpuStat(1_000_000);
    m.state.files['/proc/stat'] = procStat(20 + 180, 180 + 20);
    sampler.sample();
    expect(sampler.load()).toBeCloseTo(0.9, 10);
  });

  it('treats a missing cpu.max (the root cgroup) like "max"', () => {
    const m = fakeMachine({ files: { '/sys/fs/cgroup/cpu.stat': cpuStat(0) }, cores: 4 });
    const sampler = createCpuLoadSampler({ readers: m.readers, start: false, procStat: '/nonexistent' });
    m.state.now = 500;
    m.state.files['/sys/fs/cgroup/cpu.stat'] = cpuStat(1_000_000);
    sampler.sample();
    expect(sampler.describe()).toEqual({ source: 'cgroup', cores: 4 });
    expect(sampler.load()).toBeCloseTo(0.5, 10);
  });

  it('without a cgroup uses /proc/stat counter deltas', () => {
    const m = fakeMachine({ files: { '/proc/stat': procStat(1000, 9000) } });
    const sampler = createCpuLoadSampler({ readers: m.readers, start: false });
    m.state.now = 1000;
    m.state.files['/proc/stat'] = procStat(1000 + 60, 9000 + 140); // 60 of 200 jiffies busy
    sampler.sample();
    expect(sampler.describe().source).toBe('host');
    expect(sampler.load()).toBeCloseTo(0.3, 10);
  });

  it('without /proc/stat falls back to os.cpus() times', () => {
    const core = (busy: number, idle: number): CpuTimes => ({ user: busy, nice: 0, sys: 0, idle, irq: 0 });
    const m = fakeMachine({ cpus: [core(100, 900), core(100, 900)] });
    const sampler = createCpuLoadSampler({ readers: m.readers, start: false });
    m.state.now = 1000;
    m.state.cpus = [core(100 + 800, 900 + 200), core(100 + 200, 900 + 800)];
    sampler.sample();
    expect(sampler.describe().source).toBe('host');
    expect(sampler.load()).toBeCloseTo(0.5, 10);
  });

  it('averages over the window: the oldest samples drop out', () => {
    const m = fakeMachine({ files: { '/proc/stat': procStat(0, 0) } });
    const sampler = createCpuLoadSampler({ readers: m.readers, start: false, windowMs: 3000 });
    let busy = 0;
    let idle = 0;
    // Three seconds at 100 %, then three at 0 %: the 3 s window ends up seeing only the idle ones.
    for (let t = 1; t <= 6; t++) {
      if (t <= 3) busy += 100;
      else idle += 100;
      m.state.now = t * 1000;
      m.state.files['/proc/stat'] = procStat(busy, idle);
      sampler.sample();
      if (t === 3) expect(sampler.load()).toBe(1);
      if (t === 4) expect(sampler.load()).toBeCloseTo(2 / 3, 10); // 1..4 s: two busy seconds of three
    }
    expect(sampler.load()).toBe(0);
  });

  it('never throws on missing, unreadable or malformed files, and recovers when they come back', () => {
    const throwing: Partial<CpuLoadReaders> = {
      readFile: () => {
        throw new Error('EACCES');
      },
      cpus: () => {
        throw new Error('no cpus');
      },
      cores: () => Number.NaN,
    };
    const none = createCpuLoadSampler({ readers: throwing, start: false });
    none.sample();
    expect(none.load()).toBeUndefined();
    expect(none.describe()).toEqual({ source: 'none', cores: 1 });

    const m = fakeMachine({
      files: { '/sys/fs/cgroup/cpu.stat': 'usage_usec ???', '/proc/stat': 'garbage' },
      cpus: [],
    });
    const sampler = createCpuLoadSampler({ readers: m.readers, start: false });
    m.state.now = 1000;
    sampler.sample();
    expect(sampler.load()).toBeUndefined();
    m.state.files['/proc/stat'] = procStat(10, 10);
    m.state.now = 2000;
    sampler.sample();
    m.state.files['/proc/stat'] = procStat(20, 30);
    m.state.now = 3000;
    sampler.sample();
    expect(sampler.load()).toBeCloseTo(1 / 3, 10);
  });

  it('gives no figure while a counter runs backwards (a new cgroup), then resumes', () => {
    const m = fakeMachine({
      files: { '/sys/fs/cgroup/cpu.stat': cpuStat(5_000_000), '/sys/fs/cgroup/cpu.max': '100000 100000' },
    });
    const sampler = createCpuLoadSampler({ readers: m.readers, start: false, windowMs: 2000 });
    m.state.now = 1000;
    m.state.files['/sys/fs/cgroup/cpu.stat'] = cpuStat(100_000);
    sampler.sample();
    expect(sampler.load()).toBeUndefined();
    for (const t of [2000, 3000, 4000]) {
      m.state.now = t;
      m.state.files['/sys/fs/cgroup/cpu.stat'] = cpuStat(100_000 + (t - 1000) * 200);
      sampler.sample();
    }
    expect(sampler.load()).toBeCloseTo(0.2, 10);
  });

  it('samples on an unref-ed timer until stopped', async () => {
    let reads = 0;
    const sampler = createCpuLoadSampler({
      intervalMs: 20,
      readers: {
        readFile: (path) => {
          if (path !== '/proc/stat') throw new Error('ENOENT');
          reads++;
          return procStat(reads * 10, reads * 30);
        },
      },
    });
    await new Promise((r) => setTimeout(r, 120));
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(sampler.load()).toBeCloseTo(0.25, 10);
    sampler.stop();
    const after = reads;
    await new Promise((r) => setTimeout(r, 80));
    expect(reads).toBe(after);
  });
});

describe('cpu load sampler on this machine', () => {
  it('reports a fraction in [0, 1] after two samples', async () => {
    const sampler = createCpuLoadSampler({ start: false });
    expect(sampler.describe().source).not.toBe('none');
    // Some work between the samples, so the counters move.
    const until = performance.now() + 150;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    await new Promise((r) => setTimeout(r, 100));
    sampler.sample();
    const load = sampler.load();
    expect(typeof load).toBe('number');
    expect(load).toBeGreaterThanOrEqual(0);
    expect(load).toBeLessThanOrEqual(1);
    expect(x).toBeGreaterThan(0);
  });
});
