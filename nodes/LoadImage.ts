import path from 'node:path';
import { fileFingerprint } from '../server/file-identity.ts';
import { readImage } from '../server/media/image-io.ts';
import { checkInputName, IMAGE_EXTENSIONS, inputPath, listInputFiles } from './support/input-files.ts';
import { maskFromBytes } from '../server/masks/mask-ops.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import type { ImageBatch } from '../server/media/image-batch.ts';
import type { MaskBatch } from '../server/masks/mask-batch.ts';
import { NodeInputError } from '../server/errors.ts';

export default defineNode({
  type: 'LoadImage',
  displayName: 'Load Image',
  category: 'limelight/image',
  description: 'Loads an image from the input folder as a one-frame IMAGE, with a MASK from its alpha (white where opaque; all white without alpha).',
  version: 1,
  inputs: {
    required: {
      image: { type: 'COMBO', options: ({ folders }) => listInputFiles(folders.input, IMAGE_EXTENSIONS), upload: 'image' },
    },
  },
  outputs: [
    { type: 'IMAGE', name: 'IMAGE' },
    { type: 'MASK', name: 'MASK' },
  ],
  fingerprint: ({ image }, { folders }) => (image ? fileFingerprint(path.resolve(folders.input, image)) : ''),
  validate: ({ image }, { folders }) => checkInputName(folders.input, image, 'file'),
  frames: () => [{ frames: 1 }, { frames: 1 }],
  execute: async ({ image }, ctx) => {
    const file = inputPath(ctx.folders.input, image, 'image', 'file');
    let decoded;
    try {
      decoded = await readImage(file);
    } catch (error) {
      throw new NodeInputError('image', `cannot read ${image}: ${(error as Error).message}. Re-save it as PNG or JPEG and upload it again`);
    }
    const { width, height, rgb, alpha } = decoded;
    const images: ImageBatch = { width, height, fps: 0, frames: [rgb], ...(alpha && { alphas: [alpha] }) };
    const mask: MaskBatch = { width, height, masks: [alpha ? maskFromBytes(alpha) : new Float32Array(width * height).fill(1)] };
    return { outputs: [images, mask] };
  },
});
