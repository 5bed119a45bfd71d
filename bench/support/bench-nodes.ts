// The node types of the server benchmark: Limelight's and a synthetic frame node. Named by module and
// export (BENCH_NODE_SET), so the server's runner thread loads them too.
import { performance } from 'node:perf_hooks';
import { ALL_NODES } from '../../nodes/index.ts';
import { defineNode, type NodeDefinition } from '../../server/engine/node-contract.ts';
import type { NodeSetRef } from '../../server/runner/node-set.ts';

export const FRAME_WORK_MS = 5;

const BenchFrames = defineNode({
  type: 'BenchFrames',
  displayName: 'Bench Frames',
  category: 'bench',
  description: 'per frame: a fixed chunk of synchronous work, a progress report, then a yield (as frame nodes do)',
  version: 1,
  output: true,
  inputs: { required: { frames: { type: 'INT', default: 100, min: 1, max: 100_000 }, seed: { type: 'INT', default: 0, min: 0, max: 1e9 } } },
  outputs: [],
  execute: async ({ frames }, ctx) => {
    for (let frame = 1; frame <= frames; frame++) {
      const end = performance.now() + FRAME_WORK_MS;
      while (performance.now() < end);
      ctx.progress(frame, frames, { frame, frames });
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { outputs: [], ui: { text: [`${frames} frames`] } };
  },
});

export const BENCH_NODES: NodeDefinition[] = [...ALL_NODES, BenchFrames as NodeDefinition];

export const BENCH_NODE_SET: NodeSetRef = { module: import.meta.url, export: 'BENCH_NODES' };
