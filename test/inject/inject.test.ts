import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { injectAttention, parseWords } from '../../server/onnx/inject.ts';
import type { Conditioning, DiffusionModel, UNetBatch } from '../../server/runtime/model-values.ts';
import { attentionTestModel, DIMS } from '../helpers/attention-graphs.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';

const { tokens: T, latent: L } = DIMS;

function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'limelight-inject-'));
  const unetFile = path.join(dir, 'model.onnx');
  writeFileSync(unetFile, attentionTestModel('sdpa-4d'));
  const model = { kind: 'diffusion-model', name: 'test', folder: dir, unetFile, extraInputs: [] } as unknown as DiffusionModel;
  return { model, cache: path.join(dir, 'cache') };
}

const positive = {
  text: 'a red door',
  words: [
    { word: 'a', positions: [1] },
    { word: 'red', positions: [2] },
    { word: 'door', positions: [3] },
  ],
  sequenceLength: T,
} as unknown as Conditioning;

function masks(values: number[]): MaskBatch {
  return { width: L * 8, height: L * 8, masks: values.map((v) => new Float32Array(L * 8 * L * 8).fill(v)) };
}

function batch(frames: number[], guided: boolean, frameCount = 4): UNetBatch {
  const rows = guided ? frames.length * 2 : frames.length;
  return { frames, frameCount, conditional: Array.from({ length: rows }, (_, r) => !guided || r >= frames.length), latentHeight: L, latentWidth: L, step: 0, steps: 1, positive };
}

describe('injectAttention', () => {
  it('weight 0 keeps the unpatched UNet (bit-identical by construction)', async () => {
    const { model, cache } = setup();
    const result = await injectAttention(model, { masks: masks([0]), weight: 0, words: [] }, cache);
    expect(result.unetFile).toBe(model.unetFile);
    expect(result.extraInputs).toHaveLength(0);
  });

  it('points the model at the patched UNet and feeds biases to the conditional half only', async () => {
    const { model, cache } = setup();
    const result = await injectAttention(model, { masks: masks([0]), weight: 0.8, words: [] }, cache);
    expect(result.unetFile).not.toBe(model.unetFile);
    const feeds = result.extraInputs[0](batch([0, 1], true));
    const l = feeds.limelight_attention_query_factors_d1;
    const g = feeds.limelight_attention_token_factors_d1;
    expect(l.dims).toEqual([4, 1, L * L, 1]);
    expect(g.dims).toEqual([4, 1, 1, T]);
    const [factors, gates] = [l.data as Float32Array, g.data as Float32Array];
    expect(factors.subarray(0, 2 * L * L).every((v) => v === 0)).toBe(true); // unconditional rows
    expect(factors[2 * L * L]).toBeCloseTo(Math.log(0.2), 5); // black: ln(1 − 0.8)
    expect(Array.from(gates.subarray(2 * T, 3 * T))).toEqual([0, 1, 1, 1, 1]); // BOS is never biased
    expect(feeds.limelight_attention_query_factors_d2.dims).toEqual([4, 1, (L / 2) * (L / 2), 1]);
  });

  it('changing mask or weight reuses the patched file; chained masks add their biases', async () => {
    const { model, cache } = setup();
    const first = await injectAttention(model, { masks: masks([0]), weight: 0.8, words: ['red'] }, cache);
    const written = statSync(first.unetFile).mtimeMs;
    const reweighted = await injectAttention(model, { masks: masks([0]), weight: 0.5, words: ['red'] }, cache);
    expect(reweighted.unetFile).toBe(first.unetFile);
    expect(statSync(first.unetFile).mtimeMs).toBe(written);
    const chained = await injectAttention(first, { masks: masks([0]), weight: 0.5, words: ['door'] }, cache);
    expect(chained.unetFile).toBe(first.unetFile); // one patched graph serves any number of chained masks
    expect(chained.extraInputs).toHaveLength(1);
    const feeds = chained.extraInputs[0](batch([0], false));
    const [factors, gates] = [feeds.limelight_attention_query_factors_d1, feeds.limelight_attention_token_factors_d1];
    expect([factors.dims, gates.dims]).toEqual([
      [1, 1, L * L, 2],
      [1, 1, 2, T],
    ]);
    // Query 0's bias row: Σᵢ Lᵢ·Gᵢ[k], a sum of logs.
    const [l, g] = [factors.data as Float32Array, gates.data as Float32Array];
    const row = Array.from({ length: T }, (_, k) => l[0] * g[k] + l[1] * g[T + k]);
    expect(row.map((v) => Number(v.toFixed(5)))).toEqual([0, 0, Number(Math.log(0.2).toFixed(5)), Number(Math.log(0.5).toFixed(5)), 0]);
  });

  it('one mask per frame follows the frame index; a count matching neither is an error naming both', async () => {
    const { model, cache } = setup();
    const perFrame = await injectAttention(model, { masks: masks([1, 0, 1, 0]), weight: 1, words: [] }, cache);
    const data = perFrame.extraInputs[0](batch([0, 1], false)).limelight_attention_query_factors_d1.data as Float32Array;
    expect(data[0]).toBe(0); // frame 0 white
    expect(data[L * L]).toBeCloseTo(Math.log(1e-4), 4); // frame 1 black
    const wrong = await injectAttention(model, { masks: masks([1, 0, 1]), weight: 1, words: [] }, cache);
    expect(() => wrong.extraInputs[0](batch([0], false, 4))).toThrow(/mask has 3 frames but the clip has 4/);
  });

  it('a target word missing from the prompt is an error that says so', async () => {
    const { model, cache } = setup();
    const result = await injectAttention(model, { masks: masks([0]), weight: 0.8, words: parseWords('Window,') }, cache);
    expect(() => result.extraInputs[0](batch([0], false))).toThrow(/"window" is not a word of the prompt "a red door"/);
  });
});
