// The one rule for masks on a clip (one mask for every frame, or one per frame), and the stability
// report following it (it used to repeat the last mask for the frames it had none for).
import { describe, expect, it } from 'vitest';
import { NodeInputError } from '../../server/errors.ts';
import StabilityReport from '../../nodes/StabilityReport.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import { fitsClip } from '../../server/frame-axis.ts';
import { maskCountProblem, maskForFrame } from '../../server/masks/mask-frames.ts';
import { makeContext } from '../helpers/context.ts';

describe('one mask, or one per frame', () => {
  it('fits one mask to any clip and n masks to a clip of n frames only', () => {
    expect([fitsClip(1, 1), fitsClip(1, 64), fitsClip(64, 64)]).toEqual([true, true, true]);
    expect([fitsClip(2, 64), fitsClip(65, 64), fitsClip(0, 64)]).toEqual([false, false, false]);
  });

  it('says why a count does not fit, naming the input, both counts and the fix', () => {
    const clip = { start: 0, end: 3, frames: 3 };
    const count = (n: number) => ({ masks: Array.from({ length: n }, () => 0) });
    expect(maskCountProblem('keep_mask', count(3), clip)).toBeNull();
    expect(maskCountProblem('keep_mask', count(2), clip)).toBe(
      'keep_mask has 2 masks but the clip has 3 frames; give one mask (used for every frame) or one per frame (KeyframeInterpolate makes them)',
    );
    expect(maskCountProblem('mask', count(0), clip)).toMatch(/^mask is an empty mask batch; connect a mask image/);
  });

  it('picks the frame\'s mask, the one mask for every frame, and refuses a frame it has none for', () => {
    expect([0, 1, 5].map((frame) => maskForFrame({ masks: ['only'] }, frame, 6))).toEqual(['only', 'only', 'only']);
    expect([0, 2].map((frame) => maskForFrame({ masks: ['a', 'b', 'c'] }, frame, 3))).toEqual(['a', 'c']);
    expect(() => maskForFrame({ masks: ['a', 'b'] }, 2, 3)).toThrow(RangeError);
  });

  it('reads a streamed chunk of masks by the clip\'s frame index, and says which frames it holds when they do not fit', () => {
    const chunk = { masks: ['m8', 'm9', 'm10', 'm11'], axis: { start: 8, frames: 24 } };
    expect([8, 11].map((frame) => maskForFrame(chunk, frame, 24))).toEqual(['m8', 'm11']);
    expect(maskCountProblem('mask', chunk, { start: 8, end: 12, frames: 24 })).toBeNull();
    expect(maskCountProblem('mask', chunk, { start: 8, end: 16, frames: 24 })).toMatch(/^mask has masks for frames 9–12 but the clip has 24 frames/);
  });
});

describe('StabilityReport masks', () => {
  const SIZE = 16;
  const grey = (frames: number): ImageBatch => ({ width: SIZE, height: SIZE, fps: 24, frames: Array.from({ length: frames }, () => new Uint8Array(SIZE * SIZE * 3).fill(128)) });
  const masks = (count: number): MaskBatch => ({ width: SIZE, height: SIZE, masks: Array.from({ length: count }, () => new Float32Array(SIZE * SIZE).fill(1)) });

  it('refuses a mask count that is neither one nor the frame count, naming the mask input', async () => {
    const error = await Promise.resolve()
      .then(() => StabilityReport.execute({ source: grey(5), result: grey(5), mask: masks(2) }, makeContext()))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeInputError);
    expect((error as NodeInputError).inputName).toBe('mask');
    expect((error as Error).message).toMatch(/mask has 2 masks but the clip has 5 frames/);
  });

  it('takes one mask, or one per frame', async () => {
    for (const count of [1, 5]) {
      const result = await StabilityReport.execute({ source: grey(5), result: grey(5), mask: masks(count) }, makeContext());
      expect(result.outputs[0]).toMatchObject({ frames: 5, leak_outside: null });
    }
  });
});
