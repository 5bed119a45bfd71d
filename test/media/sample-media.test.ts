import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import LoadImageSequence from '../../nodes/LoadImageSequence.ts';
import LoadVideo from '../../nodes/LoadVideo.ts';
import MaskFromImage from '../../nodes/MaskFromImage.ts';
import { maskArea } from '../../server/masks/mask-morph.ts';
import { ensureSampleMedia, SAMPLE } from '../../server/demo/sample-media.ts';
import { makeContext } from '../helpers/context.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';

const ctx = makeContext();

beforeAll(() => ensureSampleMedia(ctx.folders.input));

describe('sample media', () => {
  it('is created once: a second call leaves the files alone', async () => {
    const before = statSync(path.join(ctx.folders.input, SAMPLE.video)).mtimeMs;
    await ensureSampleMedia(ctx.folders.input);
    expect(statSync(path.join(ctx.folders.input, SAMPLE.video)).mtimeMs).toBe(before);
    expect(readdirSync(path.join(ctx.folders.input, SAMPLE.keyframesFolder))).toEqual(['0001.png', '0030.png', '0060.png']);
    expect(readdirSync(path.join(ctx.folders.input, SAMPLE.masksFolder)).length).toBe(64);
  });

  it('the clip loads as 64 frames of 512² at 24 fps', async () => {
    const [images, count, fps] = (await LoadVideo.execute(
      { video: SAMPLE.video, frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 },
      ctx,
    )).outputs as [ImageBatch, number, number];
    expect([images.width, images.height, count, fps]).toEqual([512, 512, 64, 24]);
  });

  it('the mask video and the mask images agree, and the object moves and grows', async () => {
    const [maskVideo] = (await LoadVideo.execute(
      { video: SAMPLE.maskVideo, frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 },
      ctx,
    )).outputs;
    const [maskImages] = (await LoadImageSequence.execute({ folder: SAMPLE.masksFolder }, ctx)).outputs;
    const toMask = async (images: ImageBatch) =>
      ((await MaskFromImage.execute({ images, channel: 'luminance', threshold: 0.5, invert: false, feather: 0 }, ctx)).outputs[0] as MaskBatch).masks;
    const fromVideo = await toMask(maskVideo);
    const fromImages = await toMask(maskImages);
    expect(fromVideo.length).toBe(64);
    for (const frame of [0, 29, 63]) {
      const differing = fromVideo[frame]!.filter((v, i) => v !== fromImages[frame]![i]).length;
      expect(differing).toBeLessThan(10);
    }
    expect(maskArea(fromImages[63]!)).toBeGreaterThan(2 * maskArea(fromImages[0]!));
  });
});
