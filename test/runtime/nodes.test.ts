// The model nodes end to end on the demo model: LoadModel → TextEncode → VAEEncode → Sampler → VAEDecode.
import path from 'node:path';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import type { InferenceSession } from 'onnxruntime-node';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import type { ExecuteContext, NodeDefinition } from '../../server/engine/node-contract.ts';
import { runNode } from '../helpers/run-node.ts';
import LoadModel from '../../nodes/LoadModel.ts';
import Sampler from '../../nodes/Sampler.ts';
import TextEncode from '../../nodes/TextEncode.ts';
import VAEDecode from '../../nodes/VAEDecode.ts';
import VAEEncode from '../../nodes/VAEEncode.ts';
import { digestBytes } from '../../server/engine/cached-values.ts';
import type { Conditioning, DiffusionModel, LatentBatch, VaeModel, ClipModel } from '../../server/runtime/model-values.ts';
import { makeContext, makeFolders } from '../helpers/context.ts';
import { watchUNetRuns } from '../helpers/unet-runs.ts';
import { demoModel, meanRgb, psnr, sampleClipFrames, syntheticClip } from '../helpers/runtime-fixtures.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';

const modelDir = demoModel({}, 'limelight-demo');
const context = (overrides: Partial<ExecuteContext> = {}) =>
  makeContext({ folders: { ...makeFolders(), models: path.dirname(modelDir) }, ...overrides });

const run = (node: NodeDefinition, inputs: Record<string, unknown>, ctx = context()) => runNode(node, inputs, ctx);

const [model, clip, vae] = (await run(LoadModel, { model: 'limelight-demo', device: 'cpu' })) as [DiffusionModel, ClipModel, VaeModel];
const encode = async (text: string) => (await run(TextEncode, { clip, text }))[0] as Conditioning;
const toLatent = async (image: ImageBatch) => (await run(VAEEncode, { vae, image }))[0] as LatentBatch;
const toImage = async (samples: LatentBatch) => (await run(VAEDecode, { vae, samples }))[0] as ImageBatch;

const settings = { seed: 42, steps: 20, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.5, batch_size: 2, noise_per_frame: false };
const sample = async (positive: Conditioning, latent: LatentBatch, overrides: Record<string, unknown> = {}, ctx = context()) =>
  (await run(Sampler, { model, positive, latent, ...settings, ...overrides }, ctx))[0] as LatentBatch;

/** Per row of a UNet call: whether it holds the prompt's embeddings (the conditional half under CFG). */
function promptRows(feeds: InferenceSession.FeedsType, prompt: Conditioning): boolean[] {
  const context = feeds.encoder_hidden_states.data as Float32Array;
  const size = prompt.embeddings.length;
  return Array.from({ length: context.length / size }, (_, r) => context.subarray(r * size, (r + 1) * size).every((v, j) => v === prompt.embeddings[j]));
}

const clip256 = syntheticClip(256, 256, 3);
const latent256 = await toLatent(clip256);
const neutral = await encode('a photo of a street');

describe('model nodes on the demo model', () => {
  it('LoadModel reports the provider and lists model folders', async () => {
    const result = await LoadModel.execute({ model: 'limelight-demo', device: 'cpu' }, context());
    expect(result.ui?.text).toEqual(['limelight-demo (Stable Diffusion 1.x/2.x) on cpu']);
    const env = { folders: { ...makeFolders(), models: path.dirname(modelDir) } };
    const models = new NodeRegistry([LoadModel]).objectInfo(env).LoadModel.input.required.model;
    expect(models[0]).toEqual(['limelight-demo']);
  });

  it('keeps the picture: img2img at denoise 0.5 stays well above 20 dB PSNR', async () => {
    const out = await toImage(await sample(neutral, latent256));
    expect(out.width).toBe(256);
    expect(out.fps).toBe(24);
    for (let f = 0; f < 3; f++) expect(psnr(out.frames[f], clip256.frames[f])).toBeGreaterThan(24);
  });

  it('keeps the sample clip above 20 dB PSNR at denoise 0.5 (hobbyist settings)', { timeout: 60_000 }, async () => {
    const clip = await sampleClipFrames(4);
    const out = await toImage(await sample(neutral, await toLatent(clip), { batch_size: 4 }));
    for (let f = 0; f < clip.frames.length; f++) expect(psnr(out.frames[f], clip.frames[f])).toBeGreaterThan(20);
  });

  it('recolours towards the colour words of the prompt', async () => {
    const base = meanRgb((await toImage(await sample(neutral, latent256))).frames[0]);
    const red = meanRgb((await toImage(await sample(await encode('a red street'), latent256))).frames[0]);
    const blue = meanRgb((await toImage(await sample(await encode('a blue street'), latent256))).frames[0]);
    expect(red[0] - base[0]).toBeGreaterThan(15);
    expect(red[2] - base[2]).toBeLessThan(-5);
    expect(blue[2] - base[2]).toBeGreaterThan(15);
    expect(blue[0] - base[0]).toBeLessThan(-5);
  });

  it('is bit-identical run after run', async () => {
    const prompt = await encode('golden light');
    const runs = await Promise.all([0, 1, 2].map(() => sample(prompt, latent256, { sampler: 'euler_ancestral', temperature: 0.5 })));
    for (const other of runs.slice(1)) other.frames.forEach((frame, f) => expect(Buffer.from(frame.buffer).equals(Buffer.from(runs[0].frames[f].buffer))).toBe(true));
  });

  it('gives every frame the same noise unless noise_per_frame is on', async () => {
    const still = await toLatent({ ...clip256, frames: [clip256.frames[0], clip256.frames[0]] });
    const shared = await sample(neutral, still, { batch_size: 1 });
    expect(shared.frames[1]).toEqual(shared.frames[0]);
    const separate = await sample(neutral, still, { noise_per_frame: true });
    expect(separate.frames[1]).not.toEqual(separate.frames[0]);
  });

  it('runs every sampler; temperature adds fresh noise only where it applies', async () => {
    const small = await toLatent(syntheticClip(64, 64, 1));
    const outputs: Record<string, Float32Array> = {};
    for (const sampler of ['euler', 'euler_ancestral', 'ddim', 'lcm', 'turbo']) {
      for (const temperature of [0, 0.8]) {
        const frame = (await sample(neutral, small, { sampler, temperature, steps: 8 })).frames[0];
        expect(frame.every(Number.isFinite)).toBe(true);
        outputs[`${sampler}@${temperature}`] = frame;
      }
    }
    expect(outputs['euler_ancestral@0']).toEqual(outputs['euler@0']);
    expect(outputs['euler@0.8']).toEqual(outputs['euler@0']);
    expect(outputs['turbo@0.8']).toEqual(outputs['turbo@0']);
    for (const sampler of ['euler_ancestral', 'ddim', 'lcm']) expect(outputs[`${sampler}@0.8`]).not.toEqual(outputs[`${sampler}@0`]);
    expect(outputs['ddim@0']).not.toEqual(outputs['euler@0']);
  });

  it('reports frames and steps, and batches CFG (cfg 1 runs the conditional rows only)', async () => {
    const unetRuns = watchUNetRuns(model.unetFile);
    const ctx = context();
    await run(Sampler, { model, positive: neutral, latent: latent256, ...settings, steps: 4, batch_size: 2 }, ctx).finally(unetRuns.stop);
    const rows = unetRuns.feeds.map((feeds) => promptRows(feeds, neutral));
    expect(ctx.progressCalls.map((c) => [c.value, c.max, c.detail?.frame, c.detail?.step])).toEqual([
      [1, 4, 2, 1], [2, 4, 2, 2], [3, 4, 3, 1], [4, 4, 3, 2],
    ]);
    expect(ctx.progressCalls[0].detail).toMatchObject({ frames: 3, steps: 2 });
    expect(rows[0]).toEqual([false, false, true, true]);
    const unguidedRuns = watchUNetRuns(model.unetFile);
    await run(Sampler, { model, positive: neutral, latent: latent256, ...settings, steps: 2, cfg: 1 }).finally(unguidedRuns.stop);
    expect(promptRows(unguidedRuns.feeds[0], neutral)).toEqual([true, true]);
  });

  it('sends live previews of the frame being denoised that look like the frame, and none when nothing shows them', async () => {
    const headless = context({ preview: undefined });
    await run(Sampler, { model, positive: neutral, latent: latent256, ...settings, steps: 4 }, headless);
    const ctx = context();
    await run(Sampler, { model, positive: neutral, latent: latent256, ...settings, steps: 8, batch_size: 1 }, ctx);
    await vi.waitFor(() => expect(ctx.previews.length).toBeGreaterThan(0));
    expect(headless.previews).toEqual([]);
    const image = sharp(ctx.previews[0].bytes);
    expect([ctx.previews[0].format, (await image.metadata()).format]).toEqual(['jpeg', 'jpeg']);
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([latent256.width, latent256.height]);
    const [shown, source] = [meanRgb(new Uint8Array(data)), meanRgb(clip256.frames[0])];
    for (let c = 0; c < 3; c++) expect(Math.abs(shown[c] - source[c])).toBeLessThan(12);
  });

  it('stops within one UNet call of an interrupt', async () => {
    const unetRuns = watchUNetRuns(model.unetFile);
    const ctx = context();
    const original = ctx.progress.bind(ctx);
    ctx.progress = (value, max, detail) => {
      if (value === 2) ctx.abort();
      original(value, max, detail);
    };
    await expect(run(Sampler, { model, positive: neutral, latent: latent256, ...settings }, ctx).finally(unetRuns.stop)).rejects.toThrow();
    expect(unetRuns.feeds.length).toBe(2);
  });

  it('never writes into its inputs', async () => {
    const digests = latent256.frames.map(digestBytes);
    const embeddings = digestBytes(neutral.embeddings);
    await sample(neutral, latent256, { steps: 2 });
    expect(latent256.frames.map(digestBytes)).toEqual(digests);
    expect(digestBytes(neutral.embeddings)).toBe(embeddings);
  });

  it('takes any frame size: pads it to what the model takes, and VAE Decode crops back to it', async () => {
    const odd = syntheticClip(102, 66, 1);
    const latent = await toLatent(odd);
    // The demo VAE divides by 4 and its UNet takes latent sides in multiples of 8: 128×96 px.
    expect([latent.width, latent.height, latent.padding]).toEqual([32, 24, { imageWidth: 102, imageHeight: 66, paddedWidth: 128, paddedHeight: 96 }]);
    const out = await toImage(await sample(neutral, latent, { steps: 4 }));
    expect([out.width, out.height]).toEqual([102, 66]);
    expect(psnr(out.frames[0], odd.frames[0])).toBeGreaterThan(20);
  });

  it("refuses a latent whose sides the UNet's ×2 steps cannot take, saying to encode with the model's VAE", async () => {
    const latent = { ...latent256, width: 60, height: 64, frames: latent256.frames.map((f) => f.subarray(0, 4 * 60 * 64)) };
    await expect(sample(neutral, latent)).rejects.toThrow(/the latent is 60×64 but limelight-demo's UNet takes sides that are multiples of 8 .*encode with the same model's VAE/);
  });
});
