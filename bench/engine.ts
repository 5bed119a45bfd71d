// Engine overhead: a 200-node chain of trivial Math nodes. Prints the engine's own time per node
// (total minus time inside execute) and the cached re-run ÷ first-run ratio, measured side by side.
import { performance } from 'node:perf_hooks';
import { ALL_NODES } from '../nodes/index.ts';
import type { NodeDefinition } from '../server/engine/node-contract.ts';
import { NodeRegistry } from '../server/engine/node-registry.ts';
import { Engine } from '../server/engine/engine.ts';
import type { Prompt } from '../common/prompt.ts';
import { makeFolders } from '../test/helpers/context.ts';
import { isMain, printTable, type BenchRow } from './report.ts';

const CHAIN = 200;
const ROUNDS = 30;
const RERUNS = 5;

let nodeWork = 0;
const timed: NodeDefinition[] = ALL_NODES.map((definition) => ({
  ...definition,
  execute: async (inputs, ctx) => {
    const start = performance.now();
    const result = await definition.execute(inputs, ctx);
    nodeWork += performance.now() - start;
    return result;
  },
}));

function chain(start: number): Prompt {
  const prompt: Prompt = { '0': { class_type: 'Float', inputs: { value: start } } };
  for (let i = 1; i < CHAIN - 1; i++) prompt[String(i)] = { class_type: 'Math', inputs: { a: [String(i - 1), 0], operation: 'add', b: 1 } };
  prompt.out = { class_type: 'SaveText', inputs: { value: [String(CHAIN - 2), 0], filename_prefix: 'bench/chain' } };
  return prompt;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run(): Promise<BenchRow[]> {
  const engine = new Engine({ registry: new NodeRegistry(timed), folders: makeFolders(), memoryBudgetBytes: 256 * 1024 * 1024 });
  const firstTotals: number[] = [];
  const overheads: number[] = [];
  const reruns: number[] = [];
  for (let round = 0; round < ROUNDS + 5; round++) {
    const prompt = chain(round);
    nodeWork = 0;
    let start = performance.now();
    const first = await engine.run(prompt, { promptId: `first-${round}` });
    const firstTotal = performance.now() - start;
    const work = nodeWork;
    start = performance.now();
    for (let i = 0; i < RERUNS; i++) {
      const again = await engine.run(prompt, { promptId: `again-${round}-${i}` });
      if (again.executed.length !== 0) throw new Error('a cached re-run executed nodes');
    }
    const rerun = (performance.now() - start) / RERUNS;
    if (first.executed.length !== CHAIN) throw new Error('the first run did not execute every node');
    if (round < 5) continue; // warm-up
    firstTotals.push(firstTotal);
    overheads.push((firstTotal - work) / CHAIN);
    reruns.push(rerun / firstTotal);
  }
  return [
    { bench: 'engine', metric: `first run, ${CHAIN}-node chain (median of ${ROUNDS})`, value: median(firstTotals), unit: 'ms', target: '' },
    { bench: 'engine', metric: 'engine overhead per node', value: median(overheads), unit: 'ms', target: '< 0.2' },
    { bench: 'engine', metric: `cached re-run ÷ first run (mean of ${RERUNS} re-runs)`, value: median(reruns) * 100, unit: '%', target: '≤ 2' },
  ];
}

if (isMain(import.meta)) printTable(await run());
