import { describe, expect, it } from 'vitest';
import StabilityReport from '../../nodes/StabilityReport.ts';
import { measureStability } from '../../server/analysis/stability.ts';
import { makeContext } from '../helpers/context.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';

const SIZE = 64;

/** Frames whose grey level per pixel is `level(t, x)` (0–1), same for every row. */
function clip(frames: number, level: (t: number, x: number) => number): ImageBatch {
  return {
    width: SIZE,
    height: SIZE,
    fps: 24,
    frames: Array.from({ length: frames }, (_, t) => {
      const data = new Uint8Array(SIZE * SIZE * 3);
      for (let i = 0; i < SIZE * SIZE; i++) data.fill(Math.round(255 * level(t, i % SIZE)), i * 3, i * 3 + 3);
      return data;
    }),
  };
}

/** White (attend) on the left half. */
const leftHalf: MaskBatch = { width: SIZE, height: SIZE, masks: [Float32Array.from({ length: SIZE * SIZE }, (_, i) => (i % SIZE < SIZE / 2 ? 1 : 0))] };

describe('stability metrics', () => {
  it('a result equal to its source scores 100 with flicker 1 and no leak', () => {
    const source = clip(8, (t, x) => 0.3 + 0.002 * t * (x % 5));
    const metrics = measureStability(source, source, leftHalf);
    expect(metrics).toMatchObject({ flicker_inside: 1, flicker_outside: 1, leak_outside: 0, score: 100, frames: 8 });
  });

  it('measures known flicker outside the mask: ±a alternation gives D2 = 2a and leak = a', () => {
    const a = 10 / 255; // exact in uint8
    const source = clip(9, () => 0.5);
    const result = clip(9, (t, x) => (x < SIZE / 2 ? 0.5 : 0.5 + (t % 2 === 0 ? a : -a)));
    const metrics = measureStability(source, result, leftHalf);
    expect(metrics.flicker_outside).toBeCloseTo((2 * a + 1e-3) / 1e-3, 0);
    expect(metrics.leak_outside).toBeCloseTo(a, 3);
    expect(metrics.flicker_inside).toBeCloseTo(1, 5);
    expect(metrics.score).toBeCloseTo(100 / metrics.flicker_outside! * Math.exp(-10 * metrics.leak_outside!), 0);
  });

  it('does not count smooth motion as flicker', () => {
    const source = clip(10, () => 0.2);
    const drift = clip(10, (t) => (51 + 5 * t) / 255); // a steady fade in exact 8-bit steps: zero second difference
    const metrics = measureStability(source, drift);
    expect(metrics.flicker_outside).toBeCloseTo(1, 4);
    expect(metrics.leak_outside).toBeGreaterThan(0.05);
  });

  it('flicker inside the mask is reported separately and weighs less in the score', () => {
    const source = clip(9, () => 0.5);
    const inside = measureStability(source, clip(9, (t, x) => (x < SIZE / 2 ? 0.5 + (t % 2 ? 0.02 : -0.02) : 0.5)), leftHalf);
    const outside = measureStability(source, clip(9, (t, x) => (x >= SIZE / 2 ? 0.5 + (t % 2 ? 0.02 : -0.02) : 0.5)), leftHalf);
    expect(inside.flicker_inside!).toBeGreaterThan(10);
    expect(inside.flicker_outside).toBeCloseTo(1, 5);
    expect(inside.score).toBeGreaterThan(outside.score);
  });
});

describe('StabilityReport node', () => {
  it('shows the metrics as text and returns them', async () => {
    const source = clip(5, () => 0.5);
    const result = await StabilityReport.execute({ source, result: clip(5, (t) => 0.5 + (t % 2 ? 0.04 : 0)), mask: leftHalf }, makeContext());
    expect(result.outputs[0]).toMatchObject({ frames: 5 });
    expect((result.ui!.text as string[])[0]).toMatch(/^stability score \d+\.\d \/ 100 over 5 frames\nflicker outside the mask \d+\.\d\d×/);
  });

  it('refuses frames of different sizes, naming the input', async () => {
    const small = { ...clip(3, () => 0.5), width: 32, height: 32, frames: [new Uint8Array(32 * 32 * 3)] };
    await expect(async () => StabilityReport.execute({ source: clip(3, () => 0.5), result: small }, makeContext())).rejects.toMatchObject({ inputName: 'result' });
  });
});
