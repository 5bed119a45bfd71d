import { passesValue } from '../server/engine/frame-counts.ts';
import { defineNode } from '../server/engine/node-contract.ts';

export default defineNode({
  type: 'Int',
  displayName: 'Integer',
  category: 'utils/primitives',
  description: 'A whole number to wire into any INT input (frame counts, seeds, sizes).',
  version: 1,
  inputs: {
    required: {
      value: { type: 'INT', default: 0, min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, step: 1 },
    },
  },
  outputs: [{ type: 'INT', name: 'INT' }],
  frames: passesValue('value'),
  execute: ({ value }) => ({ outputs: [value] }),
});
