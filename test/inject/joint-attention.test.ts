// Joint attention (SD3) on the SD3 demo model: the finder recognises the Softmax whose keys concatenate
// image and text keys in the 4-D and 3-D score layouts (with and without SD3.5's qk-norm on the keys);
// the patched scores differ from the unpatched ones exactly on image rows × text columns, by the bias;
// and through the real nodes the practitioner's spectrum follows the formula, w = 0 is bit-identical,
// a fixed seed repeats, and a `words` gate moves only that word.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType, ValueInfoProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { NodeDefinition } from '../../server/engine/node-contract.ts';
import InjectCrossAttention from '../../nodes/InjectCrossAttention.ts';
import LoadModel from '../../nodes/LoadModel.ts';
import Sampler from '../../nodes/Sampler.ts';
import TextEncode from '../../nodes/TextEncode.ts';
import VAEDecode from '../../nodes/VAEDecode.ts';
import VAEEncode from '../../nodes/VAEEncode.ts';
import { biasTensor, FrameBias, tokenGate } from '../../server/onnx/attention-bias.ts';
import { findCrossAttention, patchCrossAttention } from '../../server/onnx/cross-attention-patch.ts';
import { ensureSd3DemoModel, SD3_DEMO_MODEL_NAME, writeSd3DemoModel } from '../../server/demo/demo-sd3.ts';
import type { Sd3DemoTransformerOptions } from '../../server/demo/demo-sd3-transformer.ts';
import { COLOUR_WORDS } from '../../server/demo/demo-vocab.ts';
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch, VaeModel } from '../../server/runtime/model-values.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';
import { makeContext, makeFolders } from '../helpers/context.ts';
import { runNode } from '../helpers/run-node.ts';
import { meanChange, meanShift, SPECTRUM_SIZE } from '../helpers/attention-spectrum.ts';

/** The spectrum helpers measure the outer quarter of each half of a render this size. */
const SIZE = SPECTRUM_SIZE;
const folders = { ...makeFolders(), models: mkdtempSync(path.join(tmpdir(), 'limelight-models-')) };
ensureSd3DemoModel(folders.models);
const run = (node: NodeDefinition, inputs: Record<string, unknown>) => runNode(node, inputs, makeContext({ folders }));

const [model, clip, vae] = (await run(LoadModel, { model: SD3_DEMO_MODEL_NAME, device: 'cpu' })) as [DiffusionModel, ClipModel, VaeModel];
const encode = async (text: string) => (await run(TextEncode, { clip, text }))[0] as Conditioning;

/** Mid grey: both halves have the same content, and no colour clips. */
const grey: ImageBatch = { width: SIZE, height: SIZE, fps: 0, frames: [new Uint8Array(SIZE * SIZE * 3).fill(128)] };
const latent = (await run(VAEEncode, { vae, image: grey }))[0] as LatentBatch;
/** White (attend) on the left half, black on the right. */
const halfMask: MaskBatch = { width: SIZE, height: SIZE, masks: [Float32Array.from({ length: SIZE * SIZE }, (_, i) => (i % SIZE < SIZE / 2 ? 1 : 0))] };
const settings = { seed: 3, steps: 8, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.5, batch_size: 1, noise_per_frame: false };
/** Image tokens at SIZE²: the latent (÷8) patchified by 2. */
const IMAGE_TOKENS = (SIZE / 16) ** 2;

async function render(text: string, mask?: { weight: number; words?: string }, seed = settings.seed): Promise<Uint8Array> {
  const masked = mask ? ((await run(InjectCrossAttention, { model, mask: halfMask, weight: mask.weight, words: mask.words ?? '' }))[0] as DiffusionModel) : model;
  const samples = (await run(Sampler, { ...settings, seed, model: masked, positive: await encode(text), latent }))[0] as LatentBatch;
  return ((await run(VAEDecode, { vae, samples }))[0] as ImageBatch).frames[0];
}

interface Scores {
  /** Per joint layer: the Softmax input, [rows of batch·heads·tokens, tokens]. */
  inputs: Float32Array[];
  probabilities: Float32Array[];
  /** Tokens per row: image tokens + the prompt's 333. */
  tokens: number;
}

/**
 * Every joint layer's scores and probabilities for this prompt on the grey latent at σ = 0.5, from a test
 * build of the transformer that also outputs them; with `weight`, the build is patched and fed the half
 * mask's bias over the whole prompt.
 */
async function jointScores(prompt: Conditioning, file = model.unetFile, weight?: number): Promise<Scores> {
  const graph = fromBinary(ModelProtoSchema, readFileSync(file));
  const softmaxes = findCrossAttention(graph).map((layer) => graph.graph!.node.find((n) => n.name === layer.nodeName)!);
  const biasInputs = weight === undefined ? [] : patchCrossAttention(graph, 2).biasInputs;
  const exposed = softmaxes.flatMap((node) => [node.input[0], node.output[0]]);
  for (const name of exposed) graph.graph!.output.push(create(ValueInfoProtoSchema, { name, type: { value: { case: 'tensorType', value: { elemType: TensorProto_DataType.FLOAT } } } }));
  const session = await ort.InferenceSession.create(toBinary(ModelProtoSchema, graph));
  const { width, height, channels } = latent;
  const feeds: Record<string, ort.Tensor> = {
    hidden_states: new ort.Tensor('float32', latent.frames[0], [1, channels, height, width]),
    timestep: new ort.Tensor('float32', Float32Array.of(500), [1]),
    encoder_hidden_states: new ort.Tensor('float32', prompt.embeddings, [1, prompt.sequenceLength, prompt.hiddenSize]),
    pooled_projections: new ort.Tensor('float32', prompt.pooled!, [1, prompt.pooled!.length]),
  };
  if (weight !== undefined) {
    const frame = new FrameBias(width, height, [{ mask: halfMask.masks[0], maskWidth: SIZE, maskHeight: SIZE, weight, gate: tokenGate(prompt.sequenceLength) }], biasInputs.map((b) => b.divisor));
    for (const input of biasInputs) {
      const { data, dims, type } = biasTensor(input, [frame], prompt.sequenceLength);
      feeds[input.name] = new ort.Tensor(type, data, dims);
    }
  }
  const result = await session.run(feeds);
  await session.release();
  const read = (name: string) => Float32Array.from(result[name].data as Float32Array);
  return {
    inputs: softmaxes.map((n) => read(n.input[0])),
    probabilities: softmaxes.map((n) => read(n.output[0])),
    tokens: IMAGE_TOKENS + prompt.sequenceLength,
  };
}

/** The mean share of image rows' attention on the columns the bias does not touch: BOS and the image keys. */
function untouchedShare(scores: Scores): number {
  let sum = 0;
  let rows = 0;
  for (const probabilities of scores.probabilities) {
    for (let row = 0; row < probabilities.length / scores.tokens; row++) {
      if (row % scores.tokens >= IMAGE_TOKENS) continue; // text queries
      const base = row * scores.tokens;
      for (let k = 0; k <= IMAGE_TOKENS; k++) sum += probabilities[base + k]; // the image keys, then BOS
      rows++;
    }
  }
  return sum / rows;
}

function transformerVariant(options: Sd3DemoTransformerOptions): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'limelight-sd3-')), 'model');
  writeSd3DemoModel(dir, options);
  return path.join(dir, 'transformer', 'model.onnx');
}

/**
 * How far a measured ratio may sit from the formula: the two renders differ only by the pull, the
 * denoiser is linear in x and the demo's attention does not depend on x, so what is left is the 8-bit
 * rounding of the decoded image.
 */
const FORMULA_TOLERANCE = 0.02;
/** Score layouts, with the scale as a constant and as a trace computes it from the query's shape. */
const SCORE_VARIANTS: Sd3DemoTransformerOptions[] = [{ scores: '4d' }, { scores: '3d' }, { scores: '4d', tracedScale: true }, { scores: '3d', tracedScale: true }];

describe('joint attention (SD3) on the SD3 demo model', () => {
  it.each([
    [{ scores: '4d' }, 'sdpa-4d'],
    [{ scores: '3d' }, 'legacy-3d'],
    [{ scores: '4d', qkNorm: true }, 'sdpa-4d'],
    [{ scores: '3d', qkNorm: true }, 'legacy-3d'],
    [{ scores: '3d', tracedScale: true }, 'legacy-3d'],
    [{ scores: 'fused' }, 'fused-mha'],
  ] as const)('finds both blocks as joint attention: %o', (options, shape) => {
    const layers = findCrossAttention(fromBinary(ModelProtoSchema, readFileSync(transformerVariant(options))), 2);
    const op = shape === 'fused-mha' ? 'MultiHeadAttention' : 'Softmax';
    expect(layers.map((l) => [l.nodeName, l.shape, l.joint, l.divisor, l.heads])).toEqual([
      [`/transformer_blocks.0/attn/${op}`, shape, true, 2, 2],
      [`/transformer_blocks.1/attn/${op}`, shape, true, 2, 2],
    ]);
  });

  it.each(SCORE_VARIANTS)('the bias changes exactly the image-query × text-key scores, by L[q]·G[k] (%o)', async (options) => {
    const file = transformerVariant(options);
    const prompt = await encode('a red wall');
    const plain = await jointScores(prompt, file);
    const weight = 0.8;
    const biased = await jointScores(prompt, file, weight);
    const side = SIZE / 16;
    // Largest |after − before − expected| per block of the scores; the mask is area-averaged and
    // feathered, so only image queries well inside a half are compared: ln(1 − w) in the black half, 0 in the white.
    const deviation = { untouched: 0, black: 0, white: 0 };
    const counts = { untouched: 0, black: 0, white: 0 };
    plain.inputs.forEach((before, layer) => {
      const after = biased.inputs[layer];
      expect(after.length).toBe(before.length);
      for (let i = 0; i < before.length; i++) {
        const [row, column] = [Math.floor(i / plain.tokens) % plain.tokens, i % plain.tokens];
        const textColumn = column > IMAGE_TOKENS; // BOS (column IMAGE_TOKENS) has gate 0
        const x = row % side;
        const block = row >= IMAGE_TOKENS || !textColumn ? 'untouched' : x >= side / 2 + 1 ? 'black' : x < side / 2 - 1 ? 'white' : undefined;
        if (!block) continue;
        const expected = block === 'black' ? Math.log(1 - weight) : 0;
        deviation[block] = Math.max(deviation[block], Math.abs(after[i] - before[i] - expected));
        counts[block]++;
      }
    });
    expect(Object.values(counts).every((n) => n > 0)).toBe(true);
    expect(deviation.untouched).toBeLessThan(1e-5);
    expect(deviation.white).toBeLessThan(1e-5);
    expect(deviation.black).toBeLessThan(1e-4);
  });

  it('fused MultiHeadAttention takes the same bias in its attention_bias: the same samples as the 4-D scores', async () => {
    writeSd3DemoModel(path.join(folders.models, 'sd3-fused'), { scores: 'fused' });
    const [fused] = (await run(LoadModel, { model: 'sd3-fused', device: 'cpu' })) as [DiffusionModel];
    const positive = await encode('a red wall');
    const samples = async (m: DiffusionModel, weight: number) => {
      const masked = (await run(InjectCrossAttention, { model: m, mask: halfMask, weight, words: '' }))[0] as DiffusionModel;
      return ((await run(Sampler, { ...settings, model: masked, positive, latent }))[0] as LatentBatch).frames[0];
    };
    expect(fused.attention).toBeUndefined();
    const [sdpa, fusedSamples, unmasked] = [await samples(model, 0.8), await samples(fused, 0.8), await samples(fused, 0)];
    expect(Math.max(...sdpa.map((v, i) => Math.abs(v - fusedSamples[i])))).toBeLessThan(1e-3);
    expect(Math.max(...fusedSamples.map((v, i) => Math.abs(v - unmasked[i])))).toBeGreaterThan(1);
  });

  it("follows the practitioner's spectrum and the formula (1−w)/((1−w)+w·p₀), p₀ = BOS + the image keys", async () => {
    const colourPrompt = 'a red wall';
    const p0 = untouchedShare(await jointScores(await encode(colourPrompt)));
    expect(p0).toBeGreaterThan(0.5);
    expect(p0).toBeLessThan(0.95);
    const plain = await render('a wall');
    const ratios = new Map<number, { measured: number; predicted: number }>();
    for (const weight of [1, 0.8, 0.1]) {
      const coloured = await render(colourPrompt, { weight });
      const white = meanChange(coloured, plain, 'white');
      expect(white, `w = ${weight}: the colour shows where the mask is white`).toBeGreaterThan(10);
      ratios.set(weight, { measured: meanChange(coloured, plain, 'black') / white, predicted: (1 - weight) / (1 - weight + weight * p0) });
    }
    expect(ratios.get(1)!.measured).toBeLessThanOrEqual(0.02);
    for (const [weight, { measured, predicted }] of ratios) expect(Math.abs(measured - predicted), `w = ${weight}: ${measured} vs ${predicted}`).toBeLessThan(FORMULA_TOLERANCE);
  });

  it('w = 0 is bit-identical to the unpatched model, and a fixed seed repeats exactly', async () => {
    const unmasked = await render('a red wall');
    expect(Buffer.from(await render('a red wall', { weight: 0 })).equals(Buffer.from(unmasked))).toBe(true);
    expect(Buffer.from(await render('a red wall')).equals(Buffer.from(unmasked))).toBe(true);
    const masked = await render('a red wall', { weight: 0.8 });
    expect(Buffer.from(await render('a red wall', { weight: 0.8 })).equals(Buffer.from(masked))).toBe(true);
    expect(Buffer.from(await render('a red wall', undefined, 4)).equals(Buffer.from(unmasked))).toBe(false);
  });

  it('word targeting: only the chosen colour word follows the mask', async () => {
    const plain = await render('a wall, a sky');
    const masked = await render('red wall, blue sky', { weight: 1, words: 'red' });
    const project = (shift: readonly number[], colour: readonly number[]) => shift.reduce((s, v, c) => s + v * colour[c], 0) / colour.reduce((s, v) => s + v * v, 0);
    const [white, black] = (['white', 'black'] as const).map((region) => meanShift(masked, plain, region));
    expect(project(white, COLOUR_WORDS.red)).toBeGreaterThan(10);
    expect(project(black, COLOUR_WORDS.red) / project(white, COLOUR_WORDS.red)).toBeLessThan(0.4);
    expect(project(black, COLOUR_WORDS.blue) / project(white, COLOUR_WORDS.blue)).toBeGreaterThan(0.9);
  });
});
