import { measureStability, type StabilityMetrics } from '../server/analysis/stability.ts';
import { requireFit } from '../server/engine/frame-counts.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import type { ImageBatch } from '../server/media/image-batch.ts';
import type { MaskBatch } from '../server/masks/mask-batch.ts';
import { NodeInputError } from '../server/errors.ts';

function describe(metrics: StabilityMetrics): string {
  const show = (value: number | null, digits: number) => (value === null ? 'n/a' : value.toFixed(digits));
  return [
    `stability score ${metrics.score.toFixed(1)} / 100 over ${metrics.frames} frames`,
    `flicker outside the mask ${show(metrics.flicker_outside, 2)}× the source (≈1 good, >1.5 visible)`,
    `flicker inside the mask ${show(metrics.flicker_inside, 2)}× the source`,
    `leak outside the mask ${show(metrics.leak_outside, 4)} (mean luma change where the mask is black)`,
  ].join('\n');
}

export default defineNode({
  type: 'StabilityReport',
  displayName: 'Stability Report',
  category: 'limelight/analysis',
  description:
    'Measures temporal stability of a result against its source: flicker inside and outside the mask, how much changed where the mask is black (leak), and a 0–100 score.',
  version: 1,
  output: true,
  inputs: {
    required: {
      source: { type: 'IMAGE', tooltip: 'the original frames' },
      result: { type: 'IMAGE', tooltip: 'the restyled frames' },
    },
    optional: {
      mask: { type: 'MASK', tooltip: 'white = the region meant to change; one mask or one per frame' },
    },
  },
  outputs: [{ type: 'METRICS', name: 'metrics' }],
  frames: (view) => {
    requireFit(view, 'mask', 'the mask sequence', view.frames('source'));
    return [];
  },
  execute: ({ source, result, mask }, ctx) => {
    const [src, out] = [source as ImageBatch, result as ImageBatch];
    if (src.width !== out.width || src.height !== out.height) {
      throw new NodeInputError('result', `result frames are ${out.width}×${out.height} but source frames are ${src.width}×${src.height}; resize one to match`);
    }
    if (Math.min(src.frames.length, out.frames.length) < 3) ctx.log.warn('flicker needs at least 3 frames; only leak is measured');
    const metrics = measureStability(src, out, mask as MaskBatch | undefined);
    return { outputs: [metrics], ui: { text: [describe(metrics)], metrics: [metrics] } };
  },
});
