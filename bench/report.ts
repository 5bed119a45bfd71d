// The shape every bench script reports in, and the one table `npm run bench` prints.
import { pathToFileURL } from 'node:url';

export interface BenchRow {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** e.g. "< 0.2" or "≤ 1.03"; empty when the number is informational. */
  target: string;
}

function meets(row: BenchRow): string {
  const match = /^([<≤>≥])\s*([\d.]+)/.exec(row.target);
  if (!match) return '';
  const limit = Number(match[2]);
  const ok = { '<': row.value < limit, '≤': row.value <= limit, '>': row.value > limit, '≥': row.value >= limit }[match[1] as '<'];
  return ok ? 'ok' : 'MISSED';
}

export function printTable(rows: BenchRow[]): void {
  const cells = rows.map((r) => [r.bench, r.metric, `${r.value.toPrecision(4)} ${r.unit}`.trim(), r.target, meets(r)]);
  const header = ['bench', 'measure', 'value', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

/** True when the module is the script node was started with (so a bench prints when run alone). */
export function isMain(meta: ImportMeta): boolean {
  return process.argv[1] !== undefined && meta.url === pathToFileURL(process.argv[1]).href;
}
