// Any clip size on an SD-layout model: a 852×480 clip through a VAE that divides by 8 and a UNet with fixed
// ×2 down and up steps and skip Concats (latent sides must be multiples of 8, images of 64) comes out
// 852×480, and a keep-mask's black region stays exactly where it was.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import LoadModel from '../../nodes/LoadModel.ts';
import LoadVideo from '../../nodes/LoadVideo.ts';
import Sampler from '../../nodes/Sampler.ts';
import TextEncode from '../../nodes/TextEncode.ts';
import VAEDecode from '../../nodes/VAEDecode.ts';
import VAEEncode from '../../nodes/VAEEncode.ts';
import type { NodeDefinition } from '../../server/engine/node-contract.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import { sampleLatents } from '../../server/runtime/sampling.ts';
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch, VaeModel } from '../../server/runtime/model-values.ts';
import { makeContext, makeFolders } from '../helpers/context.ts';
import { runNode } from '../helpers/run-node.ts';
import { sdLayoutModel } from '../helpers/sd-layout-model.ts';
import { lavfiClip } from '../media/clips.ts';

const [WIDTH, HEIGHT] = [852, 480];
const modelDir = sdLayoutModel();
const folders = { ...makeFolders(), models: path.dirname(modelDir) };
const context = () => makeContext({ folders });
const run = (node: NodeDefinition, inputs: Record<string, unknown>) => runNode(node, inputs, context());

const [model, clip, vae] = (await run(LoadModel, { model: path.basename(modelDir), device: 'cpu' })) as [DiffusionModel, ClipModel, VaeModel];
await lavfiClip(folders.input, 'clip.mp4', `testsrc=size=${WIDTH}x${HEIGHT}:rate=24`, ['-frames:v', '2', '-pix_fmt', 'yuv420p']);
const video = { video: 'clip.mp4', frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 };
const [frames] = (await run(LoadVideo, video)) as [ImageBatch];
const [positive] = (await run(TextEncode, { clip, text: 'a red wall' })) as [Conditioning];
const encode = async (image: ImageBatch) => ((await run(VAEEncode, { vae, image })) as [LatentBatch])[0];
const decode = async (samples: LatentBatch) => ((await run(VAEDecode, { vae, samples })) as [ImageBatch])[0];
const settings = { seed: 1, steps: 4, cfg: 1, sampler: 'euler', temperature: 0, denoise: 0.8, batch_size: 2, noise_per_frame: false };

/** Black (keep) at x ≥ 560, y ≥ 320, on 8-pixel (one latent cell) boundaries: a mask stretched over the padding would move it. */
const KEEP = { left: 560, top: 320 };
const keepMask: MaskBatch = {
  width: WIDTH,
  height: HEIGHT,
  masks: [Float32Array.from({ length: WIDTH * HEIGHT }, (_, i) => (i % WIDTH >= KEEP.left && Math.floor(i / WIDTH) >= KEEP.top ? 0 : 1))],
};

/** The largest and mean absolute RGB difference inside, and the mean outside, the kept rectangle. */
function compare(a: ImageBatch, b: ImageBatch) {
  let [worstInside, sumInside, countInside, sumOutside, countOutside] = [0, 0, 0, 0, 0];
  a.frames.forEach((frame, f) => {
    for (let p = 0; p < WIDTH * HEIGHT; p++) {
      const inside = p % WIDTH >= KEEP.left && Math.floor(p / WIDTH) >= KEEP.top;
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(frame[3 * p + c] - b.frames[f][3 * p + c]);
        if (inside) [worstInside, sumInside, countInside] = [Math.max(worstInside, d), sumInside + d, countInside + 1];
        else [sumOutside, countOutside] = [sumOutside + d, countOutside + 1];
      }
    }
  });
  return { worstInside, meanInside: sumInside / countInside, meanOutside: sumOutside / countOutside };
}

describe('clip sizes on an SD-layout model (VAE ÷ 8, UNet with fixed ×2 steps)', () => {
  it('the model reads its latent multiple from unet/config.json', () => {
    expect([vae.downFactor, model.latentMultiple, vae.latentMultiple]).toEqual([8, 8, 8]);
  });

  it('the test UNet fails on a latent whose sides are not multiples of 8 (so padding mistakes show)', async () => {
    const latent: LatentBatch = { channels: 4, width: 107, height: 60, fps: 24, frames: [new Float32Array(4 * 107 * 60)] };
    const unpadded = { ...model, latentMultiple: 1 };
    await expect(sampleLatents(unpadded, positive, undefined, latent, { ...settings, sampler: 'euler', batchSize: 1, noisePerFrame: false })).rejects.toThrow(/Concat/);
  });

  it('a 852×480 clip comes out 852×480, and the black of a keep-mask stays where it was', async () => {
    expect([frames.width, frames.height]).toEqual([WIDTH, HEIGHT]);
    const latent = await encode(frames);
    // 852×480 padded to 896×512 (multiples of 64): latent 112×64.
    expect([latent.width, latent.height, latent.padding]).toEqual([112, 64, { imageWidth: WIDTH, imageHeight: HEIGHT, paddedWidth: 896, paddedHeight: 512 }]);
    const [sampled] = (await run(Sampler, { model, positive, latent, keep_mask: keepMask, ...settings })) as [LatentBatch];
    const out = await decode(sampled);
    expect([out.width, out.height, out.frames.length]).toEqual([WIDTH, HEIGHT, 2]);
    // Where the mask is black the result is the source's VAE round trip, to the last pixel; elsewhere the UNet changed it.
    const roundTrip = await decode(latent);
    const difference = compare(out, roundTrip);
    expect(difference.worstInside).toBeLessThanOrEqual(1);
    expect(difference.meanOutside).toBeGreaterThan(10);
  });
});
