import { writeFile } from 'node:fs/promises';
import { encodePreview } from '../server/media/image-io.ts';
import { reserveOutputFile, type OutputFileRef } from '../server/media/output-files.ts';
import { defineNode, writeWhole, type ExecuteContext, type SinkWriter } from '../server/engine/node-contract.ts';
import type { ImageBatch } from '../server/media/image-batch.ts';

/** Previews are shown on the node: no need for more than this many pixels on the longer side. */
const PREVIEW_MAX_SIDE = 512;

/** `count` frame indices spread evenly over `total` frames, first and last included. */
export function spreadIndices(total: number, count: number): number[] {
  if (total <= count) return Array.from({ length: total }, (_, i) => i);
  if (count === 1) return [0];
  return Array.from({ length: count }, (_, i) => Math.round((i * (total - 1)) / (count - 1)));
}

export default defineNode({
  type: 'PreviewImage',
  displayName: 'Preview Image',
  category: 'limelight/image',
  description: 'Shows frames on the node (small PNGs in the temp folder, evenly spread over the clip).',
  version: 1,
  inputs: {
    required: {
      images: { type: 'IMAGE' },
      max_frames: { type: 'INT', default: 8, min: 1, max: 1000, tooltip: 'frames shown, spread evenly over the clip' },
    },
  },
  outputs: [],
  output: true,
  stream: { kind: 'sink', open: openPreview },
  execute: (inputs, ctx) => writeWhole(openPreview(ctx), inputs),
});

/** Writes the previewed frames as they arrive (whole, or chunk by chunk in order). */
function openPreview(ctx: ExecuteContext): SinkWriter<{ images: ImageBatch; max_frames: number }> {
  const refs: OutputFileRef[] = [];
  return {
    async write({ images, max_frames }, range) {
      const { start, frames } = range ?? { start: 0, frames: images.frames.length };
      const indices = spreadIndices(frames, max_frames);
      for (const [n, index] of indices.entries()) {
        if (index < start || index >= start + images.frames.length) continue;
        ctx.progress(n + 1, indices.length, { frame: index - start + 1, frames: images.frames.length, label: 'preview' });
        const png = await encodePreview(images.frames[index - start]!, images.width, images.height, PREVIEW_MAX_SIDE, 'png');
        const reserved = await reserveOutputFile(ctx.folders.temp, 'limelight_preview', '.png', 'temp');
        await writeFile(reserved.path, png);
        refs.push(reserved.ref);
      }
    },
    finish: async () => ({ outputs: [], ui: { images: refs } }),
    async abort() {},
  };
}
