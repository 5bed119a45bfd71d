// The attention mask on a demo model of any family, through the real nodes (LoadModel → TextEncode →
// VAEEncode → InjectCrossAttention → Sampler → VAEDecode) on a mid-grey square with a half mask, and the
// cross-attention probabilities read back from a test build of the UNet: what the spectrum tests measure.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType, ValueInfoProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import type { NodeDefinition } from '../../server/engine/node-contract.ts';
import InjectCrossAttention from '../../nodes/InjectCrossAttention.ts';
import LoadModel from '../../nodes/LoadModel.ts';
import Sampler from '../../nodes/Sampler.ts';
import TextEncode from '../../nodes/TextEncode.ts';
import VAEDecode from '../../nodes/VAEDecode.ts';
import VAEEncode from '../../nodes/VAEEncode.ts';
import { biasTensor, FrameBias, tokenGate, type Injection } from '../../server/onnx/attention-bias.ts';
import { findCrossAttention, patchCrossAttention } from '../../server/onnx/cross-attention-patch.ts';
import { sdxlFeeds } from '../../server/runtime/families/sdxl.ts';
import { fromHalfArray, toHalfArray } from '../../server/runtime/float16.ts';
import { timestepTensor } from '../../server/runtime/tensors.ts';
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch, VaeModel } from '../../server/runtime/model-values.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import type { MaskBatch } from '../../server/masks/mask-batch.ts';
import { makeContext, makeFolders } from './context.ts';
import { runNode } from './run-node.ts';

export const SPECTRUM_SIZE = 128;
const SIZE = SPECTRUM_SIZE;

/**
 * How far a measured ratio may sit from the attention formula. The two renders differ only by the pull,
 * and the Euler steps are linear in it (the denoiser is linear in x; colour shifts have zero luminance,
 * so the attention does not drift as the colour builds up): the ratio of colour changes is the ratio of
 * attention to the colour word. What is left is 8-bit rounding of the decoded image and the noise's
 * small effect on the luminance-dependent word logit of one head; both are well under 1 % of the change.
 */
export const FORMULA_TOLERANCE = 0.01;

export type Region = 'white' | 'black';
/** The outer quarter of each half, away from the feathered boundary and the model's spatial mixing. */
const inRegion = (region: Region, x: number) => (region === 'white' ? x < SIZE / 4 : x >= (3 * SIZE) / 4);

/** Mean over the region of the per-pixel RGB difference (signed, per channel). */
export function meanShift(a: Uint8Array, b: Uint8Array, region: Region): [number, number, number] {
  const sums = [0, 0, 0];
  let pixels = 0;
  for (let p = 0; p < SIZE * SIZE; p++) {
    if (!inRegion(region, p % SIZE)) continue;
    for (let c = 0; c < 3; c++) sums[c] += a[3 * p + c] - b[3 * p + c];
    pixels++;
  }
  return sums.map((s) => s / pixels) as [number, number, number];
}

/** Mean |a − b| over the region's pixels and channels: the colour change. */
export function meanChange(a: Uint8Array, b: Uint8Array, region: Region): number {
  let sum = 0;
  let count = 0;
  for (let p = 0; p < SIZE * SIZE; p++) {
    if (!inRegion(region, p % SIZE)) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs(a[3 * p + c] - b[3 * p + c]);
    count += 3;
  }
  return sum / count;
}

export interface SpectrumFixture {
  model: DiffusionModel;
  clip: ClipModel;
  vae: VaeModel;
  latent: LatentBatch;
  encode(text: string): Promise<Conditioning>;
  /** The Sampler's latents for `text`, masked white left / black right when `mask` is given. */
  sample(text: string, mask?: { weight: number; words?: string }): Promise<LatentBatch>;
  /** The same, decoded. */
  render(text: string, mask?: { weight: number; words?: string }): Promise<Uint8Array>;
  /**
   * Attention probabilities of every cross-attention layer for this prompt on the grey latent, from a test
   * build of the UNet that also outputs each softmax; rows of [heads · queries, tokens]. With an injection,
   * the build is patched and fed that injection's bias over the whole prompt.
   */
  crossAttentionRows(prompt: Conditioning, unetFile?: string, injection?: Omit<Injection, 'gate'>): Promise<Float32Array[]>;
  /** Mean attention on the token at `position` over every row of every cross-attention layer. */
  meanAttention(prompt: Conditioning, position: number): Promise<number>;
}

/** Loads `modelName` (built by `ensure` into a fresh models folder) and prepares the grey latent and the half mask. */
export async function spectrumFixture(modelName: string, ensure: (modelsFolder: string) => string): Promise<SpectrumFixture> {
  const folders = { ...makeFolders(), models: mkdtempSync(path.join(tmpdir(), 'limelight-models-')) };
  ensure(folders.models);
  const run = (node: NodeDefinition, inputs: Record<string, unknown>) => runNode(node, inputs, makeContext({ folders }));
  const [model, clip, vae] = (await run(LoadModel, { model: modelName, device: 'cpu' })) as [DiffusionModel, ClipModel, VaeModel];
  const encode = async (text: string) => (await run(TextEncode, { clip, text }))[0] as Conditioning;
  /** Mid grey: both halves have the same content, and its luminance (0) leaves the attention at its design point. */
  const grey: ImageBatch = { width: SIZE, height: SIZE, fps: 0, frames: [new Uint8Array(SIZE * SIZE * 3).fill(128)] };
  const latent = (await run(VAEEncode, { vae, image: grey }))[0] as LatentBatch;
  /** White (attend) on the left half, black on the right. */
  const halfMask: MaskBatch = { width: SIZE, height: SIZE, masks: [Float32Array.from({ length: SIZE * SIZE }, (_, i) => (i % SIZE < SIZE / 2 ? 1 : 0))] };
  const settings = { seed: 3, steps: 8, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.5, batch_size: 1, noise_per_frame: false };

  async function sample(text: string, mask?: { weight: number; words?: string }): Promise<LatentBatch> {
    const masked = mask ? ((await run(InjectCrossAttention, { model, mask: halfMask, weight: mask.weight, words: mask.words ?? '' }))[0] as DiffusionModel) : model;
    return (await run(Sampler, { ...settings, model: masked, positive: await encode(text), latent }))[0] as LatentBatch;
  }

  async function render(text: string, mask?: { weight: number; words?: string }): Promise<Uint8Array> {
    return ((await run(VAEDecode, { vae, samples: await sample(text, mask) }))[0] as ImageBatch).frames[0];
  }

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
      timestep: timestepTensor(model.unet, 500, 1),
      encoder_hidden_states: float(prompt.embeddings, [1, prompt.sequenceLength, prompt.hiddenSize]),
    };
    if (model.family === 'sdxl') Object.assign(feeds, sdxlFeeds(model, [prompt.pooled!], latent));
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

  async function meanAttention(prompt: Conditioning, position: number): Promise<number> {
    let sum = 0;
    let rows = 0;
    for (const probabilities of await crossAttentionRows(prompt)) {
      for (let row = 0; row < probabilities.length / prompt.sequenceLength; row++) sum += probabilities[row * prompt.sequenceLength + position];
      rows += probabilities.length / prompt.sequenceLength;
    }
    return sum / rows;
  }

  return { model, clip, vae, latent, encode, sample, render, crossAttentionRows, meanAttention };
}

/**
 * The practitioner's spectrum: black÷white colour change at each weight, measured and predicted by
 * (1 − w)/((1 − w) + w·p₀).
 */
export async function measureSpectrum(
  fixture: SpectrumFixture,
  p0: number,
  weights: readonly number[],
  onWhite: (weight: number, white: number) => void,
): Promise<Map<number, { measured: number; predicted: number }>> {
  const plain = await fixture.render('a wall');
  const ratios = new Map<number, { measured: number; predicted: number }>();
  for (const weight of weights) {
    const coloured = await fixture.render('a red wall', { weight });
    const white = meanChange(coloured, plain, 'white');
    onWhite(weight, white);
    ratios.set(weight, { measured: meanChange(coloured, plain, 'black') / white, predicted: (1 - weight) / (1 - weight + weight * p0) });
  }
  return ratios;
}
