/**
 * The chart's documentation stays in step with its values: every value is in the README's table, and every
 * key of the table exists in values.yaml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR } from './helm.ts';

const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;
const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
const documented = [...readme.matchAll(/^\| `([A-Za-z0-9_.-]+)`\s+\|/gm)].map((m) => m[1] as string);

/** Paths of every leaf value (objects are descended, lists and scalars are leaves). */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Object.keys(value).length === 0
  ) {
    return [prefix];
  }
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

function exists(path: string): boolean {
  let node: unknown = values;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object' || !(part in node)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return true;
}

describe('chart README', () => {
  it('documents every value (directly or through its parent key)', () => {
    const missing = leafPaths(values).filter(
      (path) => !documented.some((key) => path === key || path.startsWith(`${key}.`)),
    );
    expect(documented.length).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });

  it('documents no value that does not exist', () => {
    expect(documented.filter((key) => !exists(key))).toEqual([]);
  });

  it('carries the EU caveat for hosted Riva, GPU notes and the draining sequence', () => {
    expect(readme).toMatch(/not EU-resident/);
    expect(readme).toContain('nvidia.com/gpu');
    expect(readme).toContain('## Draining');
  });
});
