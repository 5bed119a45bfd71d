// The attention mask on the demo model, through the real nodes (LoadModel → TextEncode → VAEEncode →
// InjectCrossAttention → Sampler → VAEDecode): the practitioner's weight spectrum against the formula,
// word targeting, and the BOS mass at w = 1 in fp32 and fp16. The demo UNet's denoiser ignores the prompt,
// so the difference between a colour prompt and the same prompt without colour words is the prompt's pull alone.
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
import { biasTensor, FrameBias, tokenGate, type Injection } from '../../server/onnx/attention-bias.ts';
import { findCrossAttention, patchCrossAttention } from '../../server/onnx/cross-attention-patch.ts';
import { DEMO_MODEL_NAME, ensureDemoModel, writeDemoModel } from '../../server/demo/demo-model.ts';
import { COLOUR_WORDS } from '../../server/demo/demo-vocab.ts';
import { fromHalfArray, toHalfArray } from '../../server/runtime/float16.ts';
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch, VaeModel } from '../../server/runtime/model-values.ts';
import { makeContext, makeFolders } from '../helpers/context.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';
import { runNode } from '../helpers/run-node.ts';
import { regionMeasures } from '../helpers/mask-regions.ts';

const SIZE = 128;
const folders = { ...makeFolders(), models: mkdtempSync(path.join(tmpdir(), 'limelight-models-')) };
ensureDemoModel(folders.models);
const context = () => makeContext({ folders });

const run = (node: NodeDefinition, inputs: Record<string, unknown>) => runNode(node, inputs, context());

const [model, clip, vae] = (await run(LoadModel, { model: DEMO_MODEL_NAME, device: 'cpu' })) as [DiffusionModel, ClipModel, VaeModel];
const encode = async (text: string) => (await run(TextEncode, { clip, text }))[0] as Conditioning;

/** Mid grey: both halves have the same content, and its luminance (0) leaves the attention at its design point. */
const grey: ImageBatch = { width: SIZE, height: SIZE, fps: 0, frames: [new Uint8Array(SIZE * SIZE * 3).fill(128)] };
const latent = (await run(VAEEncode, { vae, image: grey }))[0] as LatentBatch;
/** White (attend) on the left half, black on the right. */
const halfMask: MaskBatch = {
  width: SIZE,
  height: SIZE,
  masks: [Float32Array.from({ length: SIZE * SIZE }, (_, i) => (i % SIZE < SIZE / 2 ? 1 : 0))],
};
const settings = { seed: 3, steps: 8, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.5, batch_size: 1, noise_per_frame: false };

async function render(text: string, mask?: { weight: number; words?: string }): Promise<Uint8Array> {
  const masked = mask ? ((await run(InjectCrossAttention, { model, mask: halfMask, weight: mask.weight, words: mask.words ?? '' }))[0] as DiffusionModel) : model;
  const samples = (await run(Sampler, { ...settings, model: masked, positive: await encode(text), latent }))[0] as LatentBatch;
  return ((await run(VAEDecode, { vae, samples }))[0] as ImageBatch).frames[0];
}

const { meanShift, meanChange } = regionMeasures(SIZE);

/**
 * Attention probabilities of every cross-attention layer for this prompt on the grey latent, from a test
 * build of the UNet that also outputs each softmax; rows of [heads · queries, tokens]. With an injection,
 * the build is patched and fed that injection's bias over the whole prompt.
 */
async function crossAttentionRows(prompt: Conditioning, unetFile = model.unetFile, injection?: Omit<Injection, 'gate'>): Promise<Float32Array[]> {
  const graph = fromBinary(ModelProtoSchema, readFileSync(unetFile));
  const softmaxes = findCrossAttention(graph).map((layer) => graph.graph!.node.find((n) => n.name === layer.nodeName)!.output[0]);
  const biasInputs = injection ? patchCrossAttention(graph).biasInputs : [];
  const encoder = graph.graph!.input.find((i) => i.name === 'encoder_hidden_states')!.type!.value;
  const fp16 = encoder.case === 'tensorType' && encoder.value.elemType === TensorProto_DataType.FLOAT16;
  for (const name of softmaxes) {
    const elemType = fp16 ? TensorProto_DataType.FLOAT16 : TensorProto_DataType.FLOAT;
    graph.graph!.output.push(create(ValueInfoProtoSchema, { name, type: { value: { case: 'tensorType', value: { elemType } } } }));
  }
  const session = await ort.InferenceSession.create(toBinary(ModelProtoSchema, graph));
  const float = (data: Float32Array, dims: number[]) => (fp16 ? new ort.Tensor('float16', toHalfArray(data), dims) : new ort.Tensor('float32', data, dims));
  const { width, height, channels } = latent;
  const feeds: Record<string, ort.Tensor> = {
    sample: float(latent.frames[0], [1, channels, height, width]),
    timestep: new ort.Tensor('int64', BigInt64Array.from([500n]), [1]),
    encoder_hidden_states: float(prompt.embeddings, [1, prompt.sequenceLength, prompt.hiddenSize]),
  };
  if (injection) {
    const frame = new FrameBias(width, height, [{ ...injection, gate: tokenGate(prompt.sequenceLength) }], biasInputs.map((b) => b.divisor));
    for (const input of biasInputs) {
      const { data, dims, type } = biasTensor(input, [frame], prompt.sequenceLength);
      feeds[input.name] = new ort.Tensor(type, data, dims);
    }
  }
  const result = await session.run(feeds);
  await session.release();
  return softmaxes.map((name) => (fp16 ? fromHalfArray(result[name].data as Uint16Array) : (result[name].data as Float32Array)));
}

/** Mean attention on the token at `position` over every row of every cross-attention layer. */
async function meanAttention(prompt: Conditioning, position: number): Promise<number> {
  let sum = 0;
  let rows = 0;
  for (const probabilities of await crossAttentionRows(prompt)) {
    for (let row = 0; row < probabilities.length / prompt.sequenceLength; row++) sum += probabilities[row * prompt.sequenceLength + position];
    rows += probabilities.length / prompt.sequenceLength;
  }
  return sum / rows;
}

/** Least-squares coefficients (a, b) of shift ≈ a·u + b·v. */
function decompose(shift: readonly number[], u: readonly number[], v: readonly number[]): [number, number] {
  const dot = (x: readonly number[], y: readonly number[]) => x.reduce((s, xi, i) => s + xi * y[i], 0);
  const [uu, uv, vv, su, sv] = [dot(u, u), dot(u, v), dot(v, v), dot(shift, u), dot(shift, v)];
  const det = uu * vv - uv * uv;
  return [(su * vv - sv * uv) / det, (sv * uu - su * uv) / det];
}

/**
 * How far a measured ratio may sit from the attention formula. The two renders differ only by the pull,
 * and the Euler steps are linear in it (the denoiser is linear in x; colour shifts have zero luminance,
 * so the attention does not drift as the colour builds up): the ratio of colour changes is the ratio of
 * attention to the colour word. What is left is 8-bit rounding of the decoded image and the noise's
 * small effect on the luminance-dependent word logit of one head; both are well under 1 % of the change.
 */
const FORMULA_TOLERANCE = 0.01;

describe('InjectCrossAttention on the demo model', () => {
  it("follows the practitioner's spectrum and the formula (1−w)/((1−w)+w·p₀)", async () => {
    const colourPrompt = 'a red wall';
    const p0 = await meanAttention(await encode(colourPrompt), 0);
    expect(p0).toBeGreaterThan(0.5); // BOS is the attention sink the formula's denominator rests on
    const plain = await render('a wall');
    const ratios = new Map<number, { measured: number; predicted: number }>();
    for (const weight of [1, 0.8, 0.1]) {
      const coloured = await render(colourPrompt, { weight });
      const white = meanChange(coloured, plain, 'white');
      expect(white, `w = ${weight}: the colour shows where the mask is white`).toBeGreaterThan(10);
      ratios.set(weight, { measured: meanChange(coloured, plain, 'black') / white, predicted: (1 - weight) / (1 - weight + weight * p0) });
    }
    expect(ratios.get(1)!.measured).toBeLessThanOrEqual(0.01);
    expect(ratios.get(0.8)!.measured).toBeGreaterThanOrEqual(0.1);
    expect(ratios.get(0.8)!.measured).toBeLessThanOrEqual(0.35);
    expect(ratios.get(0.1)!.measured).toBeGreaterThanOrEqual(0.8);
    for (const [weight, { measured, predicted }] of ratios) expect(Math.abs(measured - predicted), `w = ${weight}: ${measured} vs ${predicted}`).toBeLessThan(FORMULA_TOLERANCE);
  });

  it.each(['float32', 'float16'] as const)('w = 1, all black: every cross-attention row puts ≥ 0.999 of its mass on BOS (%s UNet)', async (floatType) => {
    let unetFile = model.unetFile;
    if (floatType === 'float16') {
      const dir = mkdtempSync(path.join(tmpdir(), 'limelight-fp16-'));
      writeDemoModel(dir, { floatType });
      unetFile = path.join(dir, 'unet', 'model.onnx');
    }
    const prompt = await encode('a red wall');
    const rows = await crossAttentionRows(prompt, unetFile, { mask: new Float32Array(64), maskWidth: 8, maskHeight: 8, weight: 1 });
    expect(rows).toHaveLength(3);
    for (const probabilities of rows) {
      let least = 1;
      for (let row = 0; row < probabilities.length / prompt.sequenceLength; row++) least = Math.min(least, probabilities[row * prompt.sequenceLength]);
      expect(least).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('word targeting: only the chosen colour word follows the mask', async () => {
    const prompt = 'red wall, blue sky';
    const plain = await render('a wall, a sky');
    const masked = await render(prompt, { weight: 1, words: 'red' });
    const [white, black] = (['white', 'black'] as const).map((region) => decompose(meanShift(masked, plain, region), COLOUR_WORDS.red, COLOUR_WORDS.blue));
    const [redWhite, blueWhite] = white;
    const [redBlack, blueBlack] = black;
    expect(redWhite).toBeGreaterThan(10);
    expect(blueWhite).toBeGreaterThan(10);
    expect(redBlack / redWhite).toBeLessThanOrEqual(0.01);
    // Where black, red's attention moves to the other tokens in proportion, blue's share included: blue
    // grows by 1/(1 − a_red), a few per cent. Untargeted words do not follow the mask beyond that.
    const conditioning = await encode(prompt);
    const redShare = await meanAttention(conditioning, conditioning.words.find((w) => w.word === 'red')!.positions[0]);
    expect(Math.abs(blueBlack / blueWhite - 1 / (1 - redShare))).toBeLessThan(FORMULA_TOLERANCE);
    expect(Math.abs(blueBlack / blueWhite - 1)).toBeLessThan(0.1);
  });
});
