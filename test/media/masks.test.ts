import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { NodeResult } from '../../server/engine/node-contract.ts';
import LoadImage from '../../nodes/LoadImage.ts';
import LoadImageSequence from '../../nodes/LoadImageSequence.ts';
import MaskFromImage from '../../nodes/MaskFromImage.ts';
import { makeContext } from '../helpers/context.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';
import { NodeInputError } from '../../server/errors.ts';

const DEFAULTS: Omit<Parameters<typeof MaskFromImage.execute>[0], 'images'> = { channel: 'luminance', threshold: 0, invert: false, feather: 0 };

function maskOf(images: ImageBatch, options: Partial<typeof DEFAULTS> & { match_size?: ImageBatch } = {}): MaskBatch {
  // MaskFromImage runs synchronously, so its input errors throw straight from execute.
  return (MaskFromImage.execute({ images, ...DEFAULTS, ...options }, makeContext()) as NodeResult).outputs[0] as MaskBatch;
}

/** A 16×8 frame: left half a soft grey ramp in red, right half pure green. */
function testFrame(): ImageBatch {
  const width = 16;
  const height = 8;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (x < 8) rgb[i] = x * 32;
      else rgb[i + 1] = 255;
    }
  }
  return { width, height, fps: 0, frames: [rgb] };
}

describe('MaskFromImage', () => {
  it('reads the chosen channel as 0–1, with luminance weighting green most', () => {
    const frame = testFrame();
    const red = maskOf(frame, { channel: 'red' }).masks[0]!;
    expect(red[3]).toBeCloseTo(96 / 255, 5);
    expect(red[12]).toBe(0);
    expect(maskOf(frame, { channel: 'green' }).masks[0]![12]).toBe(1);
    expect(maskOf(frame, { channel: 'luminance' }).masks[0]![12]).toBeCloseTo(0.587, 3);
    expect(maskOf(frame, { channel: 'blue' }).masks[0]!.every((v) => v === 0)).toBe(true);
  });

  it('thresholds (0 keeps soft values) and inverts', () => {
    const frame = testFrame();
    const hard = maskOf(frame, { channel: 'red', threshold: 0.5 }).masks[0]!;
    expect(Array.from(hard.subarray(0, 8))).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    const inverted = maskOf(frame, { channel: 'red', threshold: 0.5, invert: true }).masks[0]!;
    expect(Array.from(inverted.subarray(0, 8))).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(new Set(maskOf(frame, { channel: 'red' }).masks[0]!.subarray(0, 8)).size).toBe(8);
  });

  it('feathers a hard edge into a ramp about `feather` pixels wide, keeping the far sides', () => {
    const width = 64;
    const rgb = new Uint8Array(width * 4 * 3);
    for (let p = 0; p < width * 4; p++) if (p % width >= 32) rgb.fill(255, p * 3, p * 3 + 3);
    const row = maskOf({ width, height: 4, fps: 0, frames: [rgb] }, { threshold: 0.5, feather: 10 }).masks[0]!.subarray(0, width);
    expect(row[0]).toBeCloseTo(0, 5);
    expect(row[63]).toBeCloseTo(1, 5);
    expect(row[31]! + row[32]!).toBeCloseTo(1, 5);
    const ramp = Array.from(row).filter((v) => v > 0.1 && v < 0.9).length;
    expect(ramp).toBeGreaterThanOrEqual(8);
    expect(ramp).toBeLessThanOrEqual(12);
    for (let x = 1; x < width; x++) expect(row[x]!).toBeGreaterThanOrEqual(row[x - 1]! - 1e-6);
  });

  it('resizes to match another IMAGE, averaging when shrinking', () => {
    const frame = testFrame();
    const target: ImageBatch = { width: 8, height: 4, fps: 0, frames: [] };
    const mask = maskOf(frame, { channel: 'green', match_size: target });
    expect([mask.width, mask.height, mask.masks[0]!.length]).toEqual([8, 4, 32]);
    expect(Array.from(mask.masks[0]!.subarray(0, 8)).map((v) => Math.round(v * 100) / 100)).toEqual([0, 0, 0, 0.13, 0.88, 1, 1, 1]);
  });

  it('never writes into its input frames', () => {
    const frame = testFrame();
    const before = frame.frames[0]!.slice();
    maskOf(frame, { threshold: 0.3, invert: true, feather: 3 });
    expect(frame.frames[0]).toEqual(before);
  });

  it('asks for another channel when the frames have no alpha', () => {
    expect(() => maskOf(testFrame(), { channel: 'alpha' })).toThrow(NodeInputError);
    expect(() => maskOf(testFrame(), { channel: 'alpha' })).toThrow(/no alpha channel.*pick luminance/);
  });
});

describe('LoadImage and LoadImageSequence', () => {
  async function rgbaPng(file: string, width: number, height: number, alphaLeft: number): Promise<void> {
    const pixels = Buffer.alloc(width * height * 4, 200);
    for (let p = 0; p < width * height; p++) pixels[p * 4 + 3] = p % width < width / 2 ? alphaLeft : 255;
    writeFileSync(file, await sharp(pixels, { raw: { width, height, channels: 4 } }).png().toBuffer());
  }

  it('LoadImage gives the RGB frame and a mask white where opaque; its alpha feeds MaskFromImage', async () => {
    const ctx = makeContext();
    await rgbaPng(path.join(ctx.folders.input, 'cut-out.png'), 8, 2, 0);
    const [images, mask] = (await LoadImage.execute({ image: 'cut-out.png' }, ctx)).outputs as [ImageBatch, MaskBatch];
    expect([images.width, images.height, images.fps, images.frames[0]![0]]).toEqual([8, 2, 0, 200]);
    expect(Array.from(mask.masks[0]!.subarray(0, 8))).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(maskOf(images, { channel: 'alpha' }).masks[0]!.subarray(0, 8))).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('LoadImage without alpha gives an all-white mask; unreadable files are input errors', async () => {
    const ctx = makeContext();
    writeFileSync(path.join(ctx.folders.input, 'plain.jpg'), await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).jpeg().toBuffer());
    const [, mask] = (await LoadImage.execute({ image: 'plain.jpg' }, ctx)).outputs as [ImageBatch, MaskBatch];
    expect(mask.masks[0]!.every((v) => v === 1)).toBe(true);
    writeFileSync(path.join(ctx.folders.input, 'broken.png'), 'not an image');
    await expect(LoadImage.execute({ image: 'broken.png' }, ctx)).rejects.toThrow(/cannot read broken\.png/);
  });

  it('LoadImageSequence loads a folder in name order and refuses mixed sizes', async () => {
    const ctx = makeContext();
    const folder = path.join(ctx.folders.input, 'masks');
    mkdirSync(folder);
    for (const [name, alpha] of [['0002.png', 100], ['0001.png', 0], ['0003.png', 255]] as const) await rgbaPng(path.join(folder, name), 4, 1, alpha);
    const [images, mask, count] = (await LoadImageSequence.execute({ folder: 'masks' }, ctx)).outputs as [ImageBatch, MaskBatch, number];
    expect(count).toBe(3);
    expect(images.frames.length).toBe(3);
    expect(mask.masks.map((m) => Math.round(m[0]! * 255))).toEqual([0, 100, 255]);

    await rgbaPng(path.join(folder, '0004.png'), 5, 1, 255);
    await expect(LoadImageSequence.execute({ folder: 'masks' }, ctx)).rejects.toThrow(/0004\.png is 5×1 but 0001\.png is 4×1/);
  });
});
