// Small node types for engine tests: each counts its executions so tests can see what ran.
import { defineNode, type NodeDefinition } from '../../server/engine/node-contract.ts';

export interface Signal {
  readonly data: Float32Array;
}

export function testNodes() {
  const runs: string[] = [];
  const record = (type: string, id: string) => runs.push(`${type}:${id}`);

  const Source = defineNode({
    type: 'TestSource',
    displayName: 'Test Source',
    category: 'test',
    description: 'a ramp of `length` samples starting at `start`',
    version: 1,
    persist: true,
    inputs: { required: { start: { type: 'FLOAT', default: 0, min: -1000, max: 1000 }, length: { type: 'INT', default: 4, min: 1, max: 1 << 20 } } },
    outputs: [{ type: 'SIGNAL', name: 'signal' }],
    execute: ({ start, length }, ctx) => {
      record('TestSource', ctx.nodeId);
      const data = new Float32Array(length).map((_, i) => start + i);
      return { outputs: [{ data }] };
    },
  });

  const Scale = defineNode({
    type: 'TestScale',
    displayName: 'Test Scale',
    category: 'test',
    description: 'multiplies a signal',
    version: 1,
    inputs: { required: { signal: { type: 'SIGNAL' }, factor: { type: 'FLOAT', default: 1, min: -100, max: 100 } } },
    outputs: [{ type: 'SIGNAL', name: 'signal' }],
    execute: ({ signal, factor }, ctx) => {
      record('TestScale', ctx.nodeId);
      const input = signal as Signal;
      return { outputs: [{ data: input.data.map((v) => v * factor) }] };
    },
  });

  const ScaleInPlace = defineNode({
    type: 'TestScaleInPlace',
    displayName: 'Test Scale In Place (buggy)',
    category: 'test',
    description: 'multiplies a signal by writing into its input — a bug the engine must catch',
    version: 1,
    inputs: { required: { signal: { type: 'SIGNAL' }, factor: { type: 'FLOAT', default: 2, min: -100, max: 100 } } },
    outputs: [{ type: 'SIGNAL', name: 'signal' }],
    execute: ({ signal, factor }, ctx) => {
      record('TestScaleInPlace', ctx.nodeId);
      const input = signal as Signal;
      for (let i = 0; i < input.data.length; i++) input.data[i] *= factor;
      return { outputs: [input] };
    },
  });

  const Slow = defineNode({
    type: 'TestSlow',
    displayName: 'Test Slow',
    category: 'test',
    description: 'reports progress (and a one-byte preview) `steps` times, waiting a tick between reports',
    version: 1,
    inputs: { required: { signal: { type: 'SIGNAL' }, steps: { type: 'INT', default: 5, min: 1, max: 1000 } } },
    outputs: [{ type: 'SIGNAL', name: 'signal' }],
    execute: async ({ signal, steps }, ctx) => {
      record('TestSlow', ctx.nodeId);
      for (let step = 1; step <= steps; step++) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        ctx.progress(step, steps, { step, steps });
        ctx.preview?.('png', new Uint8Array([step]));
      }
      return { outputs: [signal] };
    },
  });

  const Sum = defineNode({
    type: 'TestSum',
    displayName: 'Test Sum',
    category: 'test',
    description: 'output node: the sum of a signal',
    version: 1,
    output: true,
    inputs: { required: { signal: { type: 'SIGNAL' } }, optional: { label: { type: 'STRING', default: 'sum' } } },
    outputs: [],
    execute: ({ signal, label }, ctx) => {
      record('TestSum', ctx.nodeId);
      const total = (signal as Signal).data.reduce((a, b) => a + b, 0);
      return { outputs: [], ui: { text: [`${label}=${total}`] } };
    },
  });

  const Fail = defineNode({
    type: 'TestFail',
    displayName: 'Test Fail',
    category: 'test',
    description: 'always throws',
    version: 1,
    inputs: { required: { signal: { type: 'SIGNAL' } } },
    outputs: [{ type: 'SIGNAL', name: 'signal' }],
    execute: () => {
      throw new Error('this node always fails');
    },
  });

  const definitions: NodeDefinition[] = [Source, Scale, ScaleInPlace, Slow, Sum, Fail];
  return { definitions, runs };
}
