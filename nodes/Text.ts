import { passesValue } from '../server/engine/frame-counts.ts';
import { defineNode } from '../server/engine/node-contract.ts';

export default defineNode({
  type: 'Text',
  displayName: 'Text',
  category: 'utils/primitives',
  description: 'Multi-line text to wire into any STRING input (prompts, keyframe lists, file prefixes).',
  version: 1,
  inputs: {
    required: {
      text: { type: 'STRING', default: '', multiline: true },
    },
  },
  outputs: [{ type: 'STRING', name: 'STRING' }],
  frames: passesValue('text'),
  execute: ({ text }) => ({ outputs: [text] }),
});
