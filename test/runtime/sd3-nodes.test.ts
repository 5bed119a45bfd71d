// The SD3 demo through the nodes on a clip of an odd size: VAEEncode pads to the transformer's multiple
// (VAE factor 8 × patch 2 = 16 px), the Sampler gives the same frames in batches of 1 as in one batch (with
// and without a joint-attention mask), every frame starts from the same noise, and VAEDecode crops back.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NodeDefinition } from '../../server/engine/node-contract.ts';
import InjectCrossAttention from '../../nodes/InjectCrossAttention.ts';
import LoadModel from '../../nodes/LoadModel.ts';
import Sampler from '../../nodes/Sampler.ts';
import TextEncode from '../../nodes/TextEncode.ts';
import VAEDecode from '../../nodes/VAEDecode.ts';
import VAEEncode from '../../nodes/VAEEncode.ts';
import { ensureSd3DemoModel, SD3_DEMO_MODEL_NAME } from '../../server/demo/demo-sd3.ts';
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch, VaeModel } from '../../server/runtime/model-values.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import { makeContext, makeFolders } from '../helpers/context.ts';
import { runNode } from '../helpers/run-node.ts';
import { syntheticClip } from '../helpers/runtime-fixtures.ts';

const folders = { ...makeFolders(), models: mkdtempSync(path.join(tmpdir(), 'limelight-models-')) };
ensureSd3DemoModel(folders.models);
const run = (node: NodeDefinition, inputs: Record<string, unknown>) => runNode(node, inputs, makeContext({ folders }));
const [model, clip, vae] = (await run(LoadModel, { model: SD3_DEMO_MODEL_NAME, device: 'cpu' })) as [DiffusionModel, ClipModel, VaeModel];
const positive = (await run(TextEncode, { clip, text: 'a golden ball' }))[0] as Conditioning;
const clipFrames = syntheticClip(100, 60, 3);
const latent = (await run(VAEEncode, { vae, image: clipFrames }))[0] as LatentBatch;
const settings = { seed: 5, steps: 4, cfg: 5, sampler: 'euler', temperature: 0, denoise: 0.6, noise_per_frame: false };
const bytes = (values: Float32Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);
const sample = async (m: DiffusionModel, batch: number, input = latent) =>
  ((await run(Sampler, { ...settings, model: m, positive, latent: input, batch_size: batch }))[0] as LatentBatch).frames;

describe('the SD3 demo through the nodes', () => {
  it('pads a 100×60 clip to 112×64 (latent 14×8), and VAEDecode crops back to 100×60', async () => {
    expect([latent.width, latent.height, latent.channels]).toEqual([14, 8, 16]);
    const samples = { ...latent, frames: await sample(model, 3) };
    const decoded = (await run(VAEDecode, { vae, samples }))[0] as ImageBatch;
    expect([decoded.width, decoded.height, decoded.frames.length]).toEqual([100, 60, 3]);
  });

  it('chunked ≡ one pass, with and without a joint-attention mask', async () => {
    const mask = { width: 100, height: 60, masks: [Float32Array.from({ length: 6000 }, (_, i) => (i % 100 < 50 ? 1 : 0))] };
    const masked = (await run(InjectCrossAttention, { model, mask, weight: 0.8, words: '' }))[0] as DiffusionModel;
    const firstFrames: Float32Array[] = [];
    for (const m of [model, masked]) {
      const [one, chunked] = [await sample(m, 3), await sample(m, 1)];
      one.forEach((frame, f) => expect(bytes(frame).equals(bytes(chunked[f]))).toBe(true));
      firstFrames.push(one[0]);
    }
    // The mask did act on the flow path (else both cases would compare unmasked output with itself).
    expect(bytes(firstFrames[0]).equals(bytes(firstFrames[1]))).toBe(false);
  });

  it('gives every frame the same noise: identical frames sample identically', async () => {
    const still = { ...latent, frames: [latent.frames[0], latent.frames[0]] };
    const [a, b] = await sample(model, 2, still);
    expect(bytes(a).equals(bytes(b))).toBe(true);
  });
});
