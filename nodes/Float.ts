import { passesValue } from '../server/engine/frame-counts.ts';
import { defineNode } from '../server/engine/node-contract.ts';

export default defineNode({
  type: 'Float',
  displayName: 'Float',
  category: 'utils/primitives',
  description: 'A number to wire into any FLOAT input (weights, strengths, frame rates).',
  version: 1,
  inputs: {
    required: {
      value: { type: 'FLOAT', default: 0, min: -1e12, max: 1e12, step: 0.01 },
    },
  },
  outputs: [{ type: 'FLOAT', name: 'FLOAT' }],
  frames: passesValue('value'),
  execute: ({ value }) => ({ outputs: [value] }),
});
