import { StabilityMeter, type StabilityMetrics } from '../server/analysis/stability.ts';
import { requireFit } from '../server/engine/frame-counts.ts';
import { defineNode, writeWhole, type ExecuteContext, type SinkWriter } from '../server/engine/node-contract.ts';
import { maskCountProblem, maskForFrame } from '../server/masks/mask-frames.ts';
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
  stream: { kind: 'sink', open: openReport },
  execute: (inputs, ctx) => writeWhole(openReport(ctx), inputs),
});

interface ReportInputs {
  source: ImageBatch;
  result: ImageBatch;
  mask?: MaskBatch;
}

/** Measures the clip as its frames arrive (whole, or chunk by chunk in order): the same numbers either way. */
function openReport(ctx: ExecuteContext): SinkWriter<ReportInputs> {
  let meter: StabilityMeter | undefined;
  return {
    async write({ source, result, mask }, range) {
      if (source.width !== result.width || source.height !== result.height) {
        throw new NodeInputError('result', `result frames are ${result.width}×${result.height} but source frames are ${source.width}×${source.height}; resize one to match`);
      }
      meter ??= new StabilityMeter(source.width, source.height);
      const { start, frames } = range ?? { start: 0, frames: source.frames.length };
      const span = { start, end: start + Math.min(source.frames.length, result.frames.length), frames };
      const maskProblem = mask ? maskCountProblem('mask', mask, span) : null;
      if (maskProblem) throw new NodeInputError('mask', maskProblem);
      const maskOf = (i: number) => ({ values: maskForFrame(mask!, start + i, frames), width: mask!.width, height: mask!.height });
      meter.add(source, result, mask && maskOf);
    },
    async finish() {
      const metrics = meter!.result();
      if (metrics.frames < 3) ctx.log.warn('flicker needs at least 3 frames; only leak is measured');
      return { outputs: [metrics], ui: { text: [describe(metrics)], metrics: [metrics] } };
    },
    async abort() {},
  };
}
