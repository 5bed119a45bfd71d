import { encodeImages } from '../server/runtime/vae.ts';
import { sameFramesAs } from '../server/engine/frame-counts.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import { NodeInputError } from '../server/errors.ts';

const FRAMES_PER_RUN = 4;

export default defineNode({
  type: 'VAEEncode',
  displayName: 'VAE Encode',
  category: 'limelight/latent',
  description: 'Encodes frames into the model\'s latent space (width and height must be multiples of the VAE\'s down-factor: 8 for Stable Diffusion).',
  version: 1,
  inputs: {
    required: {
      vae: { type: 'VAE' },
      image: { type: 'IMAGE' },
    },
  },
  outputs: [{ type: 'LATENT', name: 'LATENT' }],
  frames: sameFramesAs('image'),
  stream: { kind: 'per-frame', batch: () => FRAMES_PER_RUN },
  execute: async ({ vae, image }, ctx) => {
    const factor = vae.downFactor;
    if (image.width % factor !== 0 || image.height % factor !== 0) {
      const fit = (n: number) => Math.max(factor, Math.round(n / factor) * factor);
      throw new NodeInputError(
        'image',
        `${image.width}×${image.height} is not a multiple of ${factor}, the VAE's down-factor; resize the frames to e.g. ${fit(image.width)}×${fit(image.height)}`,
      );
    }
    if (image.frames.length === 0) throw new NodeInputError('image', 'the image batch has no frames');
    const latent = await encodeImages(vae, image, FRAMES_PER_RUN, (done, total) => ctx.progress(done, total, { frame: done, frames: total, label: 'encoding' }));
    return { outputs: [latent] };
  },
});
