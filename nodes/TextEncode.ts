import { encodePrompt } from '../server/runtime/text-encoding.ts';
import { defineNode } from '../server/engine/node-contract.ts';

export default defineNode({
  type: 'TextEncode',
  displayName: 'Text Encode',
  category: 'limelight/conditioning',
  description:
    "Encodes a prompt with the model's text encoder (77 CLIP tokens) and records which tokens each word became. On an SDXL model: both encoders' penultimate layers and the pooled projection; an empty prompt is zeros, as SDXL pipelines make an empty negative. " +
    "On an SD3 model: both CLIPs' penultimate layers, then T5's 256 tokens when the model has text_encoder_3 (zeros otherwise); the empty prompt is encoded.",
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

