// The UNet's standard feeds for one batch of frames, as the sampling loop gives them (and bench/runtime.ts,
// so its baseline feeds what the Sampler feeds): the prompt rows, LCM's guidance embedding, and per step
// the scaled latents and the timestep. Attention-bias feeds come from attention-feeds.ts.
import type { Tensor } from 'onnxruntime-node';
import { sdxlFeeds } from './families/sdxl.ts';
import { floatTensor, timestepTensor } from './tensors.ts';
import type { Conditioning, DiffusionModel, LatentBatch } from './model-values.ts';

/** The unconditional half of CFG: the negative prompt's rows, else the empty prompt's. */
export interface Unconditional {
  readonly embeddings: Float32Array;
  readonly pooled?: Float32Array;
}

export function unconditionalOf(positive: Conditioning, negative: Conditioning | undefined): Unconditional {
  return negative ? { embeddings: negative.embeddings, pooled: negative.pooled } : { embeddings: positive.emptyPrompt, pooled: positive.emptyPooled };
}

/** Whether a call also runs the unconditional rows (classifier-free guidance); LCM UNets take the scale as an embedding instead. */
export function isGuided(model: DiffusionModel, cfg: number): boolean {
  return cfg !== 1 && model.unet.timestepCondDim === undefined;
}

/** diffusers `get_guidance_scale_embedding`: LCM UNets take the guidance scale as a sinusoidal embedding. */
export function guidanceEmbedding(cfg: number, dim: number, rows: number): Float32Array {
  const half = Math.floor(dim / 2);
  const w = (cfg - 1) * 1000;
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < half; i++) {
    const frequency = Math.exp((-Math.log(10000) * i) / Math.max(half - 1, 1));
    for (let r = 0; r < rows; r++) {
      out[r * dim + i] = Math.sin(w * frequency);
      out[r * dim + half + i] = Math.cos(w * frequency);
    }
  }
  return out;
}

/**
 * The feeds of a batch of `frames` frames that stay the same at every step: the prompt rows, the
 * unconditional ones first under CFG (as diffusers orders them), LCM's guidance embedding, and SDXL's
 * pooled prompt and micro-conditioning (from the latent's size).
 */
export function promptFeeds(
  model: DiffusionModel,
  positive: Conditioning,
  unconditional: Unconditional,
  frames: number,
  cfg: number,
  latent: Pick<LatentBatch, 'width' | 'height' | 'padding'>,
): Record<string, Tensor> {
  const perRow = <T>(conditional: T, negative: T): T[] => (isGuided(model, cfg) ? [...Array(frames).fill(negative), ...Array(frames).fill(conditional)] : Array(frames).fill(conditional));
  const rowEmbeddings = perRow(positive.embeddings, unconditional.embeddings);
  const rows = rowEmbeddings.length;
  const context = new Float32Array(rows * positive.embeddings.length);
  rowEmbeddings.forEach((row: Float32Array, i) => context.set(row, i * positive.embeddings.length));
  const feeds: Record<string, Tensor> = {
    encoder_hidden_states: floatTensor(model.unet.floatType, context, [rows, positive.sequenceLength, positive.hiddenSize]),
  };
  const conditionDim = model.unet.timestepCondDim;
  if (conditionDim) feeds.timestep_cond = floatTensor(model.unet.floatType, guidanceEmbedding(cfg, conditionDim, rows), [rows, conditionDim]);
  if (model.family === 'sdxl') Object.assign(feeds, sdxlFeeds(model, perRow(positive.pooled!, unconditional.pooled!), latent));
  return feeds;
}

/**
 * The feeds that change at every step: `sample` (rows × channels × height × width, already scaled by
 * c_in(σ)) and the timestep. A float16 tensor is a converted copy, so the sample is wrapped again each step.
 */
export function stepFeeds(model: DiffusionModel, sample: Float32Array, dims: readonly [rows: number, channels: number, height: number, width: number], timestep: number): Record<string, Tensor> {
  return { sample: floatTensor(model.unet.floatType, sample, dims), timestep: timestepTensor(model.unet, timestep, dims[0]) };
}
