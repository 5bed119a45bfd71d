import path from 'node:path';
import { NoCrossAttentionError } from '../server/onnx/cross-attention-patch.ts';
import { injectAttention, parseWords } from '../server/onnx/inject.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import { NodeInputError } from '../server/errors.ts';

export default defineNode({
  type: 'InjectCrossAttention',
  displayName: 'Inject Cross-Attention Mask',
  category: 'limelight/attention',
  description:
    'The spotlight: where the mask is white the prompt acts as usual; where it is black the UNet\'s cross-attention to the prompt is scaled by (1 − weight), so that area keeps its look. 0.8 is the usual weight; 1.0 is rigid ("flat sticker"), 0.1 barely holds. Chain two for two masks on two word groups. On SD3 models it biases the joint attention where image tokens look at the prompt\'s tokens (CLIP and T5).',
  version: 1,
  recordsNodeId: true,
  inputs: {
    required: {
      model: { type: 'MODEL' },
      mask: { type: 'MASK', tooltip: 'white = attend to the prompt here; one mask for every frame, or one per frame' },
      weight: { type: 'FLOAT', default: 0.8, min: 0, max: 1, step: 0.05, tooltip: '0 = no effect, 0.8 = usual, 1 = the prompt is ignored where black' },
    },
    optional: {
      words: { type: 'STRING', default: '', tooltip: 'only these prompt words follow the mask (e.g. "door frame"); empty = the whole prompt' },
    },
  },
  outputs: [{ type: 'MODEL', name: 'MODEL' }],
  // The masks ride in the MODEL to the Sampler, which checks them against the clip it samples.
  frames: (view) => {
    const frames = view.frames('mask');
    const own = frames === undefined ? [] : [{ frames, resize: view.resize('mask'), node: view.node, input: 'mask', what: 'the mask sequence' }];
    return [{ carried: [...view.carried('model'), ...own] }];
  },
  // Streamed, each chunk's MODEL carries the chunk's masks (on the clip's axis) to the Sampler of that chunk.
  stream: { kind: 'per-frame' },
  execute: async ({ model, mask, weight, words }, ctx) => {
    if (mask.masks.length === 0) throw new NodeInputError('mask', 'the mask batch is empty; connect a mask image or KeyframeInterpolate');
    try {
      const injected = await injectAttention(
        model,
        { nodeId: ctx.nodeId, masks: mask, weight, words: parseWords(words ?? '') },
        path.join(ctx.folders.temp, 'patched-models'),
      );
      return { outputs: [injected] };
    } catch (error) {
      if (error instanceof NoCrossAttentionError) throw new NodeInputError('model', `${model.name}: ${error.message}`);
      throw error;
    }
  },
});
