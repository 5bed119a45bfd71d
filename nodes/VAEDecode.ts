import { decodeLatents } from '../server/runtime/vae.ts';
import { sameFramesAs } from '../server/engine/frame-counts.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import { NodeInputError } from '../server/errors.ts';

const FRAMES_PER_RUN = 4;

export default defineNode({
  type: 'VAEDecode',
  displayName: 'VAE Decode',
  category: 'limelight/latent',
  description: 'Decodes latent frames back into uint8 RGB frames, cropped back to the source size when VAE Encode padded them.',
  version: 2,
  inputs: {
    required: {
      vae: { type: 'VAE' },
      samples: { type: 'LATENT' },
    },
  },
  outputs: [{ type: 'IMAGE', name: 'IMAGE' }],
  frames: sameFramesAs('samples'),
  stream: { kind: 'per-frame', batch: () => FRAMES_PER_RUN },
  execute: async ({ vae, samples }, ctx) => {
    if (samples.channels !== vae.latentChannels) {
      throw new NodeInputError('samples', `the latents have ${samples.channels} channels but ${vae.name}'s VAE decodes ${vae.latentChannels}; use the VAE of the model that made them`);
    }
    const images = await decodeLatents(vae, samples, FRAMES_PER_RUN, (done, total) => ctx.progress(done, total, { frame: done, frames: total, label: 'decoding' }), ctx.signal);
    return { outputs: [images] };
  },
});
