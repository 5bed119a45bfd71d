import { encodeImages } from '../server/runtime/vae.ts';
import { sameFramesAs } from '../server/engine/frame-counts.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import { NodeInputError } from '../server/errors.ts';

const FRAMES_PER_RUN = 4;

export default defineNode({
  type: 'VAEEncode',
  displayName: 'VAE Encode',
  category: 'limelight/latent',
  description:
    "Encodes frames into the model's latent space. Any size: frames are padded at the right and bottom (edge pixels repeated) to a size the model takes " +
    "(the VAE's down-factor × the UNet's latent multiple: 64 px for Stable Diffusion 1.x/2.x), masks are placed on the padded grid alike, and VAE Decode crops back.",
  version: 2,
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
    if (image.frames.length === 0) throw new NodeInputError('image', 'the image batch has no frames');
    const latent = await encodeImages(vae, image, FRAMES_PER_RUN, (done, total) => ctx.progress(done, total, { frame: done, frames: total, label: 'encoding' }), ctx.signal);
    return { outputs: [latent] };
  },
});
