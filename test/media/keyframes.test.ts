import { describe, expect, it } from 'vitest';
import KeyframeInterpolate from '../../nodes/KeyframeInterpolate.ts';
import { distanceTransform } from '../../server/masks/distance-field.ts';
import { EASINGS, keyframePositions, keyframeSchedule, type Easing } from '../../server/masks/keyframes.ts';
import { parseFrameNumbers } from '../../common/keyframe-numbers.ts';
import { maskArea } from '../../server/masks/mask-morph.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';
import { NodeInputError } from '../../server/errors.ts';

const SIZE = 96;

function disc(cx: number, cy: number, radius: number, size = SIZE): Float32Array {
  const mask = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) mask[y * size + x] = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) <= radius ? 1 : 0;
  return mask;
}

function keyMasks(...masks: Float32Array[]): MaskBatch {
  return { width: SIZE, height: SIZE, masks };
}

const DEFAULTS: Omit<Parameters<typeof KeyframeInterpolate.execute>[0], 'masks'> = { keyframes: '1,9', frame_count: 9, end_frame: 0, method: 'morph', easing: 'linear' };

function interpolate(masks: MaskBatch, options: Partial<typeof DEFAULTS> = {}, ctx: TestContext = makeContext()) {
  const result = KeyframeInterpolate.execute({ masks, ...DEFAULTS, ...options }, ctx) as { outputs: [MaskBatch]; ui?: { text: string[] } };
  return { masks: result.outputs[0].masks, ui: result.ui, ctx };
}

function centroidX(mask: Float32Array): number {
  let sum = 0;
  let weight = 0;
  mask.forEach((v, i) => {
    sum += v * ((i % SIZE) + 0.5);
    weight += v;
  });
  return sum / weight;
}

function errorOf(run: () => unknown): NodeInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(NodeInputError);
    return error as NodeInputError;
  }
  throw new Error('expected an input error');
}

describe('KeyframeInterpolate', () => {
  const left = disc(24, 48, 14);
  const right = disc(72, 48, 14);

  it('gives one mask per frame, equal to the keyframe masks at the keyframes, held before and after', () => {
    const big = disc(48, 48, 20);
    for (const method of ['morph', 'crossfade'] as const) {
      const { masks } = interpolate(keyMasks(left, big, right), { keyframes: '3,6,10', frame_count: 12, method });
      expect(masks.length).toBe(12);
      expect(masks[2]).toEqual(left);
      expect(masks[5]).toEqual(big);
      expect(masks[9]).toEqual(right);
      expect(masks[0]).toEqual(left);
      expect(masks[11]).toEqual(right);
    }
  });

  it('morph moves a translated disc keeping its area within 10 % mid-way; crossfade ghosts it', () => {
    const area = maskArea(left);
    const morph = interpolate(keyMasks(left, right)).masks[4]!;
    expect(Math.abs(maskArea(morph) - area) / area).toBeLessThan(0.1);
    expect(centroidX(morph)).toBeCloseTo(48, 0);
    const crossfade = interpolate(keyMasks(left, right), { method: 'crossfade' }).masks[4]!;
    expect(Math.abs(maskArea(crossfade) - area) / area).toBeGreaterThan(0.5);
    expect(Math.max(...crossfade)).toBeCloseTo(0.5, 5);
  });

  it('morph grows a disc smoothly between sizes', () => {
    const small = disc(48, 48, 10);
    const large = disc(48, 48, 30);
    const areas = interpolate(keyMasks(small, large)).masks.map(maskArea);
    for (let i = 1; i < areas.length; i++) expect(areas[i]!).toBeGreaterThan(areas[i - 1]!);
    const midRadius = Math.sqrt(areas[4]! / Math.PI);
    expect(midRadius).toBeGreaterThan(18);
    expect(midRadius).toBeLessThan(22);
  });

  it('applies the easing curve to the timing', () => {
    const centres = (easing: Easing) => interpolate(keyMasks(left, right), { easing }).masks.map(centroidX);
    const linear = centres('linear');
    const easeIn = centres('ease-in');
    const easeOut = centres('ease-out');
    expect(linear[2]! - 24).toBeCloseTo((72 - 24) / 4, 0);
    expect(easeIn[2]!).toBeLessThan(linear[2]! - 4);
    expect(easeOut[2]!).toBeGreaterThan(linear[2]! + 4);
  });

  it('pins the last keyframe to end_frame by stretching the timing', () => {
    expect(keyframePositions([1, 30, 60], 0)).toEqual([1, 30, 60]);
    expect(keyframePositions([1, 30, 60], 119)).toEqual([1, 59, 119]);
    const { masks } = interpolate(keyMasks(left, right), { keyframes: '1,5', frame_count: 12, end_frame: 9 });
    expect(masks[8]).toEqual(right);
    expect(masks[4]).not.toEqual(right);
  });

  it('rejects mismatched counts, bad numbers, frames out of range or not increasing', () => {
    const two = keyMasks(left, right);
    expect(errorOf(() => interpolate(two, { keyframes: '1,5,9' }))).toMatchObject({ inputName: 'keyframes', message: expect.stringMatching(/3 frame numbers for 2 keyframe masks/) });
    expect(errorOf(() => interpolate(two, { keyframes: '1,x' })).message).toMatch(/"x" is not a whole frame number/);
    expect(errorOf(() => interpolate(two, { keyframes: '' })).message).toMatch(/no frame numbers/);
    expect(errorOf(() => interpolate(two, { keyframes: '0,5' })).message).toMatch(/frames count from 1/);
    expect(errorOf(() => interpolate(two, { keyframes: '5,5' })).message).toMatch(/must increase, but 5 follows 5/);
    expect(errorOf(() => interpolate(two, { keyframes: '1,12' })).message).toMatch(/frame 12 is beyond the clip's 9 frames/);
    expect(errorOf(() => interpolate(two, { end_frame: 10 }))).toMatchObject({ inputName: 'end_frame' });
  });

  it('warns (without failing) about keyframes with no overlap or very different areas', () => {
    const tiny = disc(72, 48, 4);
    const { masks, ui, ctx } = interpolate(keyMasks(left, tiny));
    expect(masks.length).toBe(9);
    expect(ui?.text.join('\n')).toMatch(/keyframes 1 and 9: mask areas differ \d+\.\d×/);
    expect(ctx.warnings.length).toBe(ui!.text.length);
    expect(interpolate(keyMasks(left, right), { method: 'crossfade' }).ui?.text.join('\n')).toMatch(/overlap only 0%.*morph/);
    expect(interpolate(keyMasks(left, right)).ui).toBeUndefined();
  });

  it('never writes into its input masks', () => {
    const masks = keyMasks(left.slice(), right.slice());
    const out = interpolate(masks).masks;
    out[0]!.fill(0.5);
    expect(masks.masks[0]).toEqual(left);
  });
});

describe('keyframe timing', () => {
  it('parses the frame numbers users type', () => {
    expect(parseFrameNumbers('1,30,60')).toEqual([1, 30, 60]);
    expect(parseFrameNumbers(' 1 ; 30  60 ')).toEqual([1, 30, 60]);
  });

  it('easing curves start at 0, end at 1, rise monotonically and bend the right way', () => {
    for (const ease of Object.values(EASINGS)) {
      expect([ease(0), ease(1)]).toEqual([0, 1]);
      for (let u = 0.05; u <= 1; u += 0.05) expect(ease(u)).toBeGreaterThanOrEqual(ease(u - 0.05));
    }
    expect(EASINGS['ease-in'](0.5)).toBe(0.25);
    expect(EASINGS['ease-out'](0.5)).toBe(0.75);
    expect(EASINGS['ease-in-out'](0.25)).toBe(0.125);
    expect(EASINGS['ease-in-out'](0.5)).toBe(0.5);
  });

  it('schedules each frame between its surrounding keyframes', () => {
    expect(keyframeSchedule([2, 4], 5, 'linear')).toEqual([
      { from: 0, to: 0, u: 0 },
      { from: 0, to: 0, u: 0 },
      { from: 0, to: 1, u: 0.5 },
      { from: 1, to: 1, u: 0 },
      { from: 1, to: 1, u: 0 },
    ]);
  });
});

describe('distance transform', () => {
  it('matches brute force on a random mask', () => {
    const width = 23;
    const height = 17;
    const features = Array.from({ length: width * height }, (_, i) => (i * 7919) % 31 === 0);
    const fast = distanceTransform(width, height, (i) => features[i]!);
    for (let p = 0; p < width * height; p++) {
      let best = Infinity;
      features.forEach((isFeature, q) => {
        if (isFeature) best = Math.min(best, Math.hypot((p % width) - (q % width), Math.floor(p / width) - Math.floor(q / width)));
      });
      expect(fast[p]).toBeCloseTo(best, 4);
    }
  });
});
