import { encodePrompt } from '../server/runtime/text-encoding.ts';
import { defineNode } from '../server/engine/node-contract.ts';

export default defineNode({
  type: 'TextEncode',
  displayName: 'Text Encode',
  category: 'limelight/conditioning',
  description:
    'Encodes a prompt with the model\'s text encoder (77 CLIP tokens; SD3: both CLIPs, then T5\'s 256 tokens when the model has text_encoder_3) and records which tokens each word became.',
  version: 1,
  inputs: {
    required: {
      clip: { type: 'CLIP' },
      text: { type: 'STRING', default: '', multiline: true },
    },
  },
  outputs: [{ type: 'CONDITIONING', name: 'CONDITIONING' }],
  persist: true,
  execute: async ({ clip, text }, ctx) => {
    const conditioning = await encodePrompt(clip, text);
    if (conditioning.truncated) ctx.log.warn(`the prompt is longer than ${conditioning.sequenceLength - 2} tokens; the rest was cut off`);
    return { outputs: [conditioning] };
  },
});

