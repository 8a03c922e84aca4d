/** Printing helpers the agent benchmarks share: an aligned text table, the machine, and rounding. */
import { cpus, totalmem } from 'node:os';

/** Right-aligned columns, two spaces apart; `rule` adds a dashed line under the header. */
export function formatTable(head: string[], rows: string[][], rule = false): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  const ruleLine = rule ? [line(widths.map((w) => '-'.repeat(w)))] : [];
  return [line(head), ...ruleLine, ...rows.map(line)].join('\n');
}

export function machine() {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memGb: round1(totalmem() / 1024 ** 3),
    node: process.version,
  };
}

export const round1 = (v: number) => Math.round(v * 10) / 10;
export const round3 = (v: number) => Math.round(v * 1000) / 1000;
