import { describe, expect, it } from 'vitest';
import { compareFiles, compareResults, directionOf, figuresOf, formatChanges } from './compare.ts';

const run = (calls: number, over: Record<string, unknown> = {}) => ({
  calls,
  wallS: 50,
  cpuCoresPerCall: 0.033,
  rssMbPerCall: 3,
  inputFrames: 24_000,
  inputLate: 0,
  callsDropped: 0,
  turnsAnswered: 50,
  v2v: { p50: 403, p95: 414 },
  agentShare: { p50: 0, p95: 1 },
  loadAvg1m: 0.5,
  ...over,
});
const result = (runs: unknown[], riva = 'minimal') => ({
  benchmark: 'agent-capacity',
  riva,
  machine: { cpus: 2 },
  runs,
});

describe('benchmark regression check', () => {
  it('matches levels by their key and judges each figure in its direction', () => {
    const figures = figuresOf(result([run(1), run(10)]));
    expect(figures.get('runs[calls=10].v2v.p95')).toBe(414);
    expect(directionOf('runs[calls=10].v2v.p95')).toBe('lower');
    expect(directionOf('runs[calls=10].cpuCoresPerCall')).toBe('lower');
    expect(directionOf('runs[calls=10].turnsAnswered')).toBe('higher');
    expect(directionOf('webhooks[engine=postgres].webhooksPerSecond')).toBe('higher');
    for (const skipped of [
      'runs[calls=10].loadAvg1m',
      'runs[calls=10].inputFrames',
      'runs[calls=10].wallS',
      'machine.cpus',
    ])
      expect(directionOf(skipped)).toBeUndefined();
  });

  it('flags a figure worse by more than 20 % and past its noise floor, and nothing else', () => {
    const base = result([run(10)]);
    const same = compareResults('agent-capacity', base, result([run(10, { v2v: { p50: 420, p95: 450 } })]));
    expect(same.filter((c) => c.regression)).toEqual([]);
    const worse = compareResults(
      'agent-capacity',
      base,
      result([
        run(10, {
          cpuCoresPerCall: 0.041, // +24 %, +0.008 core
          v2v: { p50: 403, p95: 520 }, // +26 %
          agentShare: { p50: 0, p95: 3 }, // +200 % but only 2 ms: noise
          callsDropped: 1, // any dropped call
          turnsAnswered: 35, // -30 %, fewer is worse
          rssMbPerCall: 3.5, // +17 %
        }),
      ]),
    );
    expect(
      worse
        .filter((c) => c.regression)
        .map((c) => c.path)
        .sort(),
    ).toEqual([
      'runs[calls=10].callsDropped',
      'runs[calls=10].cpuCoresPerCall',
      'runs[calls=10].turnsAnswered',
      'runs[calls=10].v2v.p95',
    ]);
    expect(formatChanges(worse)).toContain(
      'REGRESSION agent-capacity runs[calls=10].v2v.p95: 414 -> 520 (26 %',
    );
  });

  it('compares only the levels both runs have, and never runs of a different setup', () => {
    const base = { 'agent-capacity': { exitCode: 0, result: result([run(1), run(10)]) } };
    const onlyTen = {
      'agent-capacity': { exitCode: 0, result: result([run(10, { cpuCoresPerCall: 0.05 })]) },
    };
    const changes = compareFiles(base, onlyTen);
    expect(changes.every((c) => c.path.startsWith('runs[calls=10]'))).toBe(true);
    expect(changes.some((c) => c.regression)).toBe(true);
    const otherRiva = {
      'agent-capacity': { exitCode: 0, result: result([run(10, { cpuCoresPerCall: 0.5 })], 'speech-server') },
    };
    expect(compareFiles(base, otherRiva)).toEqual([]);
    expect(formatChanges([])).toMatch(/no figure comparable/);
  });
});
