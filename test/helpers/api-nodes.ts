// The node types of the API tests: Limelight's, the engine's test nodes and a few that hold, read, spin
// or crash. Named by module and export (API_TEST_NODE_SET) so the runner thread loads the same ones.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ALL_NODES } from '../../nodes/index.ts';
import { defineNode, type NodeDefinition } from '../../server/engine/node-contract.ts';
import type { NodeSetRef } from '../../server/runner/node-set.ts';
import { testNodes } from './test-nodes.ts';

/** Output node that reports progress until it is interrupted, or until `steps` reports. */
const TestHold = defineNode({
  type: 'TestHold',
  displayName: 'Test Hold',
  category: 'test',
  description: 'reports progress every few milliseconds for `steps` steps (interrupt it to stop sooner)',
  version: 1,
  output: true,
  inputs: { required: { steps: { type: 'INT', default: 1_000_000, min: 1, max: 1_000_000 } }, optional: { label: { type: 'STRING', default: '' } } },
  outputs: [],
  execute: async ({ steps, label }, ctx) => {
    for (let step = 1; step <= steps; step++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      ctx.progress(step, steps, { step, steps });
    }
    return { outputs: [], ui: { text: [`held ${label ?? ''}`] } };
  },
});

/** Output node that keeps its thread busy (never yields) between progress reports, like a long synchronous loop. */
const TestSpin = defineNode({
  type: 'TestSpin',
  displayName: 'Test Spin',
  category: 'test',
  description: 'spins `ms` milliseconds per step without yielding, reporting progress after each',
  version: 1,
  output: true,
  inputs: { required: { steps: { type: 'INT', default: 1000, min: 1, max: 1_000_000 }, ms: { type: 'INT', default: 5, min: 1, max: 1000 } } },
  outputs: [],
  execute: ({ steps, ms }, ctx) => {
    for (let step = 1; step <= steps; step++) {
      const end = performance.now() + ms;
      while (performance.now() < end);
      ctx.progress(step, steps, { step, steps });
    }
    return { outputs: [], ui: { text: [`spun ${steps}`] } };
  },
});

/** Output node that kills the thread running it (an error nothing catches), as a native fault would. */
const TestCrash = defineNode({
  type: 'TestCrash',
  displayName: 'Test Crash',
  category: 'test',
  description: 'throws outside the engine, so the runner thread dies',
  version: 1,
  output: true,
  inputs: { required: { message: { type: 'STRING', default: 'crashed on purpose' } } },
  outputs: [],
  execute: ({ message }) =>
    new Promise(() => {
      setTimeout(() => {
        throw new Error(message);
      });
    }),
});

/** Output node showing a file of the input folder, chosen from a combo of the files there now. */
const TestReadInput = defineNode({
  type: 'TestReadInput',
  displayName: 'Test Read Input',
  category: 'test',
  description: 'shows the text of a file in the input folder',
  version: 1,
  output: true,
  inputs: { required: { file: { type: 'COMBO', options: ({ folders }) => readdirSync(folders.input).filter((f) => f.endsWith('.txt')) } } },
  outputs: [],
  execute: ({ file }, ctx) => ({ outputs: [], ui: { text: [readFileSync(path.join(ctx.folders.input, file), 'utf8')] } }),
});

export const API_TEST_NODES: NodeDefinition[] = [...ALL_NODES, ...testNodes().definitions, ...([TestHold, TestSpin, TestCrash, TestReadInput] as NodeDefinition[])];

export const API_TEST_NODE_SET: NodeSetRef = { module: import.meta.url, export: 'API_TEST_NODES' };
