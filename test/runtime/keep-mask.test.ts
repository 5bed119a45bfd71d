// The Sampler's keep_mask on the demo model: black keeps the source latent exactly (so the decoded
// picture there is the plain VAE round trip), white samples freely; one mask or one per frame.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import LoadModel from '../../nodes/LoadModel.ts';
import Sampler from '../../nodes/Sampler.ts';
import TextEncode from '../../nodes/TextEncode.ts';
import VAEDecode from '../../nodes/VAEDecode.ts';
import VAEEncode from '../../nodes/VAEEncode.ts';
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch, VaeModel } from '../../server/runtime/model-values.ts';
import { makeContext, makeFolders } from '../helpers/context.ts';
import { demoModel, syntheticClip } from '../helpers/runtime-fixtures.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';
import { NodeInputError } from '../../server/errors.ts';
import type { NodeDefinition } from '../../server/engine/node-contract.ts';
import { runNode } from '../helpers/run-node.ts';

const modelDir = demoModel({}, 'limelight-demo');
const context = () => makeContext({ folders: { ...makeFolders(), models: path.dirname(modelDir) } });
const run = (node: NodeDefinition, inputs: Record<string, unknown>) => runNode(node, inputs, context());

const [model, clip, vae] = (await run(LoadModel, { model: 'limelight-demo', device: 'cpu' })) as [DiffusionModel, ClipModel, VaeModel];
const toLatent = async (image: ImageBatch) => (await run(VAEEncode, { vae, image }))[0] as LatentBatch;
const toImage = async (samples: LatentBatch) => (await run(VAEDecode, { vae, samples }))[0] as ImageBatch;
const red = (await run(TextEncode, { clip, text: 'a red wall' }))[0] as Conditioning;

const settings = { seed: 7, steps: 6, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.6, batch_size: 2, noise_per_frame: false };
const sample = async (latent: LatentBatch, overrides: Record<string, unknown> = {}) =>
  (await run(Sampler, { model, positive: red, latent, ...settings, ...overrides }))[0] as LatentBatch;

// 64² frames → a 16² latent (the demo VAE's down-factor is 4). The masks are 48×24, another resolution
// and aspect, whose halves still fall exactly on latent cells after area averaging.
const clip64 = syntheticClip(64, 64, 2);
const latent = await toLatent(clip64);
const roundTrip = await toImage(latent);
const halfMask = (blackSide: 'left' | 'right'): Float32Array =>
  Float32Array.from({ length: 48 * 24 }, (_, i) => ((i % 48 < 24) === (blackSide === 'left') ? 0 : 1));
const masks = (...sides: ('left' | 'right')[]): MaskBatch => ({ width: 48, height: 24, masks: sides.map(halfMask) });

/** Latent values of one half (all channels) of a 16-wide latent frame. */
function latentHalf(frame: Float32Array, side: 'left' | 'right'): number[] {
  return Array.from(frame).filter((_, j) => (j % 16 < 8) === (side === 'left'));
}

/**
 * Largest per-channel difference and mean red change over image columns [from, to). The decoder's
 * bilinear upsampling reads the neighbouring latent column within 2 px of a cell edge, so the compared
 * columns stop 4 px short of the mask's edge at x = 32.
 */
function compare(a: Uint8Array, b: Uint8Array, from: number, to: number): { maxDiff: number; redShift: number } {
  let maxDiff = 0;
  let redShift = 0;
  let pixels = 0;
  for (let y = 0; y < 64; y++) {
    for (let x = from; x < to; x++) {
      const i = 3 * (y * 64 + x);
      for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(a[i + c] - b[i + c]));
      redShift += a[i] - b[i];
      pixels++;
    }
  }
  return { maxDiff, redShift: redShift / pixels };
}
const LEFT = [0, 28] as const;
const RIGHT = [36, 64] as const;

const bits = (frames: readonly Float32Array[]) => frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64'));

describe('Sampler keep_mask', () => {
  it('keeps the black half at the VAE round trip (max 1 level) while the prompt recolours the white half', async () => {
    const out = await toImage(await sample(latent, { keep_mask: masks('left') }));
    const free = await toImage(await sample(latent));
    for (let f = 0; f < 2; f++) {
      const kept = compare(out.frames[f], roundTrip.frames[f], ...LEFT);
      expect(kept.maxDiff).toBeLessThanOrEqual(1);
      // Without the mask the same half does change: the tolerance above is not loose enough to hide it.
      expect(compare(free.frames[f], roundTrip.frames[f], ...LEFT).redShift).toBeGreaterThan(10);
      expect(compare(out.frames[f], roundTrip.frames[f], ...RIGHT).redShift).toBeGreaterThan(10);
    }
  });

  it.each(['euler', 'euler_ancestral', 'ddim', 'lcm', 'turbo'])('ends with the source latent exactly where black (%s)', async (sampler) => {
    const out = await sample(latent, { sampler, temperature: 0.5, keep_mask: masks('left') });
    for (let f = 0; f < 2; f++) {
      expect(latentHalf(out.frames[f], 'left')).toEqual(latentHalf(latent.frames[f], 'left'));
      expect(latentHalf(out.frames[f], 'right')).not.toEqual(latentHalf(latent.frames[f], 'right'));
    }
  });

  it('resets at every step, not only at the end: a 50% grey mask moves the colour well under half as far', async () => {
    const grey: MaskBatch = { width: 4, height: 4, masks: [new Float32Array(16).fill(0.5)] };
    const shift = async (overrides: Record<string, unknown>) =>
      compare((await toImage(await sample(latent, overrides))).frames[0], roundTrip.frames[0], 0, 64).redShift;
    const free = await shift({});
    const halfKept = await shift({ keep_mask: grey });
    expect(halfKept).toBeGreaterThan(0);
    // Blending only the final latent would give half the shift; pulling back at each of the 3 steps compounds.
    expect(halfKept).toBeLessThan(0.35 * free);
  });

  it('takes one mask per frame', async () => {
    const out = await sample(latent, { keep_mask: masks('left', 'right') });
    expect(latentHalf(out.frames[0], 'left')).toEqual(latentHalf(latent.frames[0], 'left'));
    expect(latentHalf(out.frames[1], 'right')).toEqual(latentHalf(latent.frames[1], 'right'));
    const image = await toImage(out);
    expect(compare(image.frames[0], roundTrip.frames[0], ...RIGHT).redShift).toBeGreaterThan(10);
    expect(compare(image.frames[1], roundTrip.frames[1], ...LEFT).redShift).toBeGreaterThan(10);
  });

  it('changes nothing when the mask is white everywhere', async () => {
    const white: MaskBatch = { width: 8, height: 8, masks: [new Float32Array(64).fill(1)] };
    expect(bits((await sample(latent, { keep_mask: white })).frames)).toEqual(bits((await sample(latent)).frames));
  });

  it('refuses a mask count that is neither one nor the frame count, naming both', async () => {
    const three = await toLatent(syntheticClip(64, 64, 3));
    const error = await sample(three, { keep_mask: masks('left', 'right') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeInputError);
    expect((error as NodeInputError).inputName).toBe('keep_mask');
    expect((error as Error).message).toMatch(/2 masks .* 3 frames.*one mask .* or one per frame/);
  });

  it('is bit-identical run after run', async () => {
    const options = { sampler: 'euler_ancestral', temperature: 0.7, keep_mask: masks('right', 'left') };
    const runs = await Promise.all([0, 1, 2].map(() => sample(latent, options)));
    expect(bits(runs[1].frames)).toEqual(bits(runs[0].frames));
    expect(bits(runs[2].frames)).toEqual(bits(runs[0].frames));
  });
});
