// The one rule for masks on a clip (one mask for every frame, or one per frame), and the stability
// report following it (it used to repeat the last mask for the frames it had none for).
import { describe, expect, it } from 'vitest';
import { NodeInputError } from '../../server/errors.ts';
import StabilityReport from '../../nodes/StabilityReport.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import { maskCountProblem, maskForFrame, masksFitFrames } from '../../server/masks/mask-frames.ts';
import { makeContext } from '../helpers/context.ts';

describe('one mask, or one per frame', () => {
  it('fits one mask to any clip and n masks to a clip of n frames only', () => {
    expect([masksFitFrames(1, 1), masksFitFrames(1, 64), masksFitFrames(64, 64)]).toEqual([true, true, true]);
    expect([masksFitFrames(2, 64), masksFitFrames(65, 64), masksFitFrames(0, 64)]).toEqual([false, false, false]);
  });

  it('says why a count does not fit, naming the input, both counts and the fix', () => {
    expect(maskCountProblem('keep_mask', 3, 3)).toBeNull();
    expect(maskCountProblem('keep_mask', 2, 3)).toBe(
      'keep_mask has 2 masks but the clip has 3 frames; give one mask (used for every frame) or one per frame (KeyframeInterpolate makes them)',
    );
    expect(maskCountProblem('mask', 0, 3)).toMatch(/^mask is an empty mask batch; connect a mask image/);
  });

  it('picks the frame\'s mask, the one mask for every frame, and refuses a frame it has none for', () => {
    expect([0, 1, 5].map((frame) => maskForFrame(['only'], frame))).toEqual(['only', 'only', 'only']);
    expect([0, 2].map((frame) => maskForFrame(['a', 'b', 'c'], frame))).toEqual(['a', 'c']);
    expect(() => maskForFrame(['a', 'b'], 2)).toThrow(RangeError);
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
