import { featherMask, invertMask, maskFromBytes, maskFromRgb, resizeMask, thresholdMask, type MaskChannel } from '../server/masks/mask-ops.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import type { MaskBatch } from '../server/masks/mask-batch.ts';
import { NodeInputError } from '../server/errors.ts';
import { sameFramesAs } from '../server/engine/frame-counts.ts';

const CHANNELS = ['luminance', 'red', 'green', 'blue', 'alpha'] as const satisfies readonly MaskChannel[];

export default defineNode({
  type: 'MaskFromImage',
  displayName: 'Mask From Image',
  category: 'limelight/mask',
  description:
    'Turns frames into masks (white = attend). A blurry mask loses thin details such as reflections: a threshold plus a small feather gives it a crisp, slightly soft edge.',
  version: 1,
  inputs: {
    required: {
      images: { type: 'IMAGE' },
      channel: { type: 'COMBO', options: CHANNELS, default: 'luminance' },
      threshold: { type: 'FLOAT', default: 0, min: 0, max: 1, step: 0.01, tooltip: 'white at or above this value, black below (0 = keep soft values)' },
      invert: { type: 'BOOLEAN', default: false },
      feather: { type: 'INT', default: 0, min: 0, max: 256, tooltip: 'soften the edge over about this many pixels' },
    },
    optional: {
      match_size: { type: 'IMAGE', tooltip: 'resize the masks to these frames\' size' },
    },
  },
  outputs: [{ type: 'MASK', name: 'MASK' }],
  frames: sameFramesAs('images'),
  stream: { kind: 'per-frame' },
  execute: ({ images, channel, threshold, invert, feather, match_size }, ctx) => {
    const alphas = images.alphas;
    if (channel === 'alpha' && !alphas) {
      throw new NodeInputError('channel', 'these frames have no alpha channel (only images with transparency loaded by Load Image or Load Image Sequence do); pick luminance or a colour channel');
    }
    const width = match_size?.width ?? images.width;
    const height = match_size?.height ?? images.height;
    const masks = images.frames.map((frame, i) => {
      ctx.progress(i + 1, images.frames.length, { frame: i + 1, frames: images.frames.length, label: 'masking' });
      let mask = channel === 'alpha' ? maskFromBytes(alphas![i]!) : maskFromRgb(frame, channel);
      mask = resizeMask(mask, images.width, images.height, width, height);
      if (threshold > 0) mask = thresholdMask(mask, threshold);
      if (invert) mask = invertMask(mask);
      return featherMask(mask, width, height, feather);
    });
    const result: MaskBatch = { width, height, masks, ...(images.axis && { axis: images.axis }) };
    return { outputs: [result] };
  },
});
