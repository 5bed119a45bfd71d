import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeInputError } from '../../server/errors.ts';
import { byteSize } from '../../server/engine/cached-values.ts';
import { SURGERY_VERSION } from '../../server/onnx/cross-attention-patch.ts';
import { injectAttention, parseWords } from '../../server/onnx/inject.ts';
import { AttentionFeeds, checkAttention } from '../../server/runtime/attention-feeds.ts';
import type { AttentionMask, Conditioning, DiffusionModel } from '../../server/runtime/model-values.ts';
import { attentionTestModel, DIMS } from '../helpers/attention-graphs.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';

const { tokens: T, latent: L } = DIMS;

function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'limelight-inject-'));
  const unetFile = path.join(dir, 'model.onnx');
  writeFileSync(unetFile, attentionTestModel('sdpa-4d'));
  const model = { kind: 'diffusion-model', name: 'test', folder: dir, unetFile } as unknown as DiffusionModel;
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

/** InjectCrossAttention node 7's mask. */
function mask(batch: MaskBatch, weight: number, words: string[] = []): AttentionMask {
  return { nodeId: '7', masks: batch, weight, words };
}

/** The clips these tests sample have four frames (one mask serves them all, or one mask per frame). */
const CLIP_FRAMES = 4;
const clip = (frames: number) => ({ start: 0, end: frames, frames });

/** The bias feeds of one UNet call over clip frames `frames`, unconditional rows first when guided. */
function feedsFor(model: DiffusionModel, frames: number[], guided: boolean) {
  const rows = guided ? frames.length * 2 : frames.length;
  return new AttentionFeeds(model.attention!, positive, L, L, CLIP_FRAMES).forBatch(frames, Array.from({ length: rows }, (_, r) => !guided || r >= frames.length));
}

function errorOf(run: () => void): NodeInputError {
  try {
    run();
  } catch (error) {
    return error as NodeInputError;
  }
  throw new Error('expected an error');
}

describe('injectAttention', () => {
  it('weight 0 keeps the unpatched UNet (bit-identical by construction)', async () => {
    const { model, cache } = setup();
    const result = await injectAttention(model, mask(masks([0]), 0), cache);
    expect(result.unetFile).toBe(model.unetFile);
    expect(result.attention).toBeUndefined();
  });

  it('points the model at the patched UNet and feeds biases to the conditional half only', async () => {
    const { model, cache } = setup();
    const result = await injectAttention(model, mask(masks([0]), 0.8), cache);
    expect(result.unetFile).not.toBe(model.unetFile);
    const feeds = feedsFor(result, [0, 1], true);
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
    const first = await injectAttention(model, mask(masks([0]), 0.8, ['red']), cache);
    const written = statSync(first.unetFile).mtimeMs;
    const reweighted = await injectAttention(model, mask(masks([0]), 0.5, ['red']), cache);
    expect(reweighted.unetFile).toBe(first.unetFile);
    expect(statSync(first.unetFile).mtimeMs).toBe(written);
    const chained = await injectAttention(first, mask(masks([0]), 0.5, ['door']), cache);
    expect(chained.unetFile).toBe(first.unetFile); // one patched graph serves any number of chained masks
    expect(chained.attention?.masks).toHaveLength(2);
    expect(chained.attention?.sourceFile).toBe(model.unetFile);
    const feeds = feedsFor(chained, [0], false);
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
    const perFrame = await injectAttention(model, mask(masks([1, 0, 1, 0]), 1), cache);
    const data = feedsFor(perFrame, [0, 1], false).limelight_attention_query_factors_d1.data as Float32Array;
    expect(data[0]).toBe(0); // frame 0 white
    expect(data[L * L]).toBeCloseTo(Math.log(1e-4), 4); // frame 1 black
    const wrong = await injectAttention(model, mask(masks([1, 0, 1]), 1), cache);
    const error = errorOf(() => checkAttention(wrong.attention!, positive, clip(4)));
    expect(error).toBeInstanceOf(NodeInputError);
    expect([error.nodeId, error.inputName]).toEqual(['7', 'mask']);
    expect(error.message).toMatch(/mask has 3 masks but the clip has 4 frames/);
    expect(() => checkAttention(perFrame.attention!, positive, clip(4))).not.toThrow();
  });

  it('a target word missing from the prompt is an error that says so', async () => {
    const { model, cache } = setup();
    const result = await injectAttention(model, mask(masks([0]), 0.8, parseWords('Window,')), cache);
    const error = errorOf(() => checkAttention(result.attention!, positive, clip(1)));
    expect([error.nodeId, error.inputName]).toEqual(['7', 'words']);
    expect(error.message).toMatch(/"window" is not a word of the prompt "a red door"/);
  });

  it('puts plain data on the MODEL: the masks, weight, words, the node and the patched graph\'s identity, measured and cloneable', async () => {
    const { model, cache } = setup();
    const perFrame = masks([1, 0, 1, 0]);
    const result = await injectAttention(model, mask(perFrame, 0.8, ['red']), cache);
    const { attention } = result;
    expect(attention).toMatchObject({ sourceFile: model.unetFile, surgeryVersion: SURGERY_VERSION, masks: [{ nodeId: '7', masks: perFrame, weight: 0.8, words: ['red'] }] });
    expect(attention?.sourceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(result.unetFile).toContain(attention!.sourceHash);
    // Another process gets the same data (a function anywhere in it would make structuredClone throw).
    expect(structuredClone(result)).toEqual(result);
    // The memory cache's budget counts the masks the MODEL holds.
    const maskBytes = perFrame.masks.reduce((sum, m) => sum + m.byteLength, 0);
    expect(byteSize(result) - byteSize(model)).toBeGreaterThanOrEqual(maskBytes);
  });

  it('reuses the feeds of a batch with the same biases as the last: the next step, or the next batch under one mask', async () => {
    const { model, cache } = setup();
    const conditional = [true, true];
    const one = await injectAttention(model, mask(masks([0]), 1), cache);
    const oneMask = new AttentionFeeds(one.attention!, positive, L, L, CLIP_FRAMES);
    const first = oneMask.forBatch([0, 1], conditional);
    expect(oneMask.forBatch([0, 1], conditional)).toBe(first);
    expect(oneMask.forBatch([2, 3], conditional)).toBe(first);
    const perFrame = await injectAttention(model, mask(masks([1, 0, 1, 0]), 1), cache);
    const maskPerFrame = new AttentionFeeds(perFrame.attention!, positive, L, L, CLIP_FRAMES);
    const firstFrames = maskPerFrame.forBatch([0, 1], conditional);
    const nextFrames = maskPerFrame.forBatch([2, 3], conditional);
    expect(nextFrames).not.toBe(firstFrames);
    expect(Array.from(nextFrames.limelight_attention_query_factors_d1.data as Float32Array)).toEqual(Array.from(firstFrames.limelight_attention_query_factors_d1.data as Float32Array));
  });
});
