// `npm run bench`: every bench script, one after another, then one table of what they measured.
import { readdirSync } from 'node:fs';
import { printTable, type BenchRow } from './report.ts';

const scripts = readdirSync(new URL('.', import.meta.url))
  .filter((name) => name.endsWith('.ts') && !['index.ts', 'report.ts'].includes(name))
  .sort();
const rows: BenchRow[] = [];
for (const script of scripts) {
  process.stderr.write(`running bench/${script}…\n`);
  const module = (await import(`./${script}`)) as { run: () => Promise<BenchRow[]> };
  rows.push(...(await module.run()));
}
printTable(rows);
