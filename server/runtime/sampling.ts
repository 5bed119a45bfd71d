// The sampling loop: frames in batches, classifier-free guidance batched (unconditional rows first, as
// diffusers does), one noise stream per (step, frame) — shared by all frames unless per-frame noise is
// asked for — and a progress callback after every UNet call (it throws to interrupt).
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { gaussianNoise, noiseStream } from './noise.ts';
import { ancestralStep, epsilonFromOutput, inputScale, lcmStep, planSampling, type SamplerName, type SamplingPlan } from './samplers.ts';
import { sessions } from './sessions.ts';
import { floatTensor, readFloats, timestepTensor } from './tensors.ts';
import type { Conditioning, DiffusionModel, LatentBatch, UNetBatch } from './values.ts';

export interface SampleOptions {
  seed: number;
  steps: number;
  cfg: number;
  sampler: SamplerName;
  /** 0–1: fresh noise re-injected between steps (η for euler_ancestral and ddim, the fresh share for lcm). */
  temperature: number;
  /** img2img strength 0–1. */
  denoise: number;
  /** Frames per UNet call (each call holds 2× as many rows under CFG). */
  batchSize: number;
  /** Independent noise for every frame instead of the clip's one noise. */
  noisePerFrame: boolean;
}

export interface SampleProgress {
  call: number;
  calls: number;
  /** 1-based last frame of the batch being sampled. */
  frame: number;
  frames: number;
  /** 1-based step within the batch. */
  step: number;
  steps: number;
}

export interface SampleHooks {
  /** After every UNet call; throwing stops sampling (interrupt). */
  onProgress?(progress: SampleProgress): void;
  /** Milliseconds spent inside each `session.run` (benchmarks). */
  onRun?(milliseconds: number): void;
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

export function checkConditioning(model: DiffusionModel, positive: Conditioning, negative?: Conditioning): string | null {
  const width = model.unet.contextDim;
  for (const [name, c] of [['positive', positive], ['negative', negative]] as const) {
    if (c && width !== undefined && c.hiddenSize !== width) {
      return `${name} conditioning is ${c.hiddenSize} wide but ${model.name}'s UNet expects ${width}; encode the prompt with the same model's CLIP`;
    }
  }
  if (negative && negative.sequenceLength !== positive.sequenceLength) {
    return `positive has ${positive.sequenceLength} tokens and negative ${negative.sequenceLength}; encode both with the same CLIP`;
  }
  return null;
}

export async function sampleLatents(
  model: DiffusionModel,
  positive: Conditioning,
  negative: Conditioning | undefined,
  latent: LatentBatch,
  options: SampleOptions,
  hooks: SampleHooks = {},
): Promise<LatentBatch> {
  const problem = checkConditioning(model, positive, negative);
  if (problem) throw new Error(problem);
  const lease = await sessions.acquire(model.unetFile, model.device);
  try {
    const run = new SamplingRun(lease.session, model, positive, negative?.embeddings ?? positive.emptyPrompt, latent, options, hooks);
    const frameCount = latent.frames.length;
    const out: Float32Array[] = [];
    for (let start = 0; start < frameCount; start += options.batchSize) {
      out.push(...(await run.sampleFrames(Array.from({ length: Math.min(options.batchSize, frameCount - start) }, (_, i) => start + i))));
    }
    return { channels: latent.channels, width: latent.width, height: latent.height, fps: latent.fps, frames: out };
  } finally {
    lease.release();
  }
}

/** One Sampler execution: the plan, the noise streams and the progress count shared by its batches. */
class SamplingRun {
  private readonly plan: SamplingPlan;
  private readonly guided: boolean;
  private readonly size: number;
  private readonly calls: number;
  private callsDone = 0;
  /** Streams repeat across batches when every frame shares one noise: each is generated once per clip. */
  private readonly noiseCache = new Map<number, Float32Array>();

  constructor(
    private readonly session: InferenceSession,
    private readonly model: DiffusionModel,
    private readonly positive: Conditioning,
    private readonly unconditional: Float32Array,
    private readonly latent: LatentBatch,
    private readonly options: SampleOptions,
    private readonly hooks: SampleHooks,
  ) {
    this.plan = planSampling(model.scheduler, options);
    // LCM UNets take the guidance scale as an embedding instead of a second pass.
    this.guided = options.cfg !== 1 && model.unet.timestepCondDim === undefined;
    this.size = latent.channels * latent.height * latent.width;
    this.calls = Math.ceil(latent.frames.length / options.batchSize) * this.plan.timesteps.length;
  }

  private noise(step: number, frame: number): Float32Array {
    const stream = noiseStream(step, frame, this.options.noisePerFrame);
    let values = this.noiseCache.get(stream);
    if (!values) {
      values = gaussianNoise(this.options.seed, stream, this.size);
      if (!this.options.noisePerFrame) this.noiseCache.set(stream, values);
    }
    return values;
  }

  /** Rows of the UNet batch: the unconditional rows first under CFG (as diffusers orders them). */
  private staticInputs(frames: readonly number[]): Record<string, Tensor> {
    const { model, positive, guided } = this;
    const rowEmbeddings = guided ? [...frames.map(() => this.unconditional), ...frames.map(() => positive.embeddings)] : frames.map(() => positive.embeddings);
    const context = new Float32Array(rowEmbeddings.length * positive.embeddings.length);
    rowEmbeddings.forEach((row, i) => context.set(row, i * positive.embeddings.length));
    const inputs: Record<string, Tensor> = {
      encoder_hidden_states: floatTensor(model.unet.floatType, context, [rowEmbeddings.length, positive.sequenceLength, positive.hiddenSize]),
    };
    const conditionDim = model.unet.timestepCondDim;
    if (conditionDim) {
      inputs.timestep_cond = floatTensor(model.unet.floatType, guidanceEmbedding(this.options.cfg, conditionDim, rowEmbeddings.length), [rowEmbeddings.length, conditionDim]);
    }
    return inputs;
  }

  async sampleFrames(frames: readonly number[]): Promise<Float32Array[]> {
    const { plan, model, latent, options, size, guided } = this;
    const k = frames.length;
    const rows = guided ? 2 * k : k;
    const initialNoise = frames.map((f) => this.noise(0, f));
    const x = frames.map((f, i) => {
      const values = new Float32Array(size);
      const source = latent.frames[f];
      for (let j = 0; j < size; j++) values[j] = source[j] + plan.sigmas[0] * initialNoise[i][j];
      return values;
    });
    const fixed = this.staticInputs(frames);
    const epsilon = new Float32Array(size);
    const sample = new Float32Array(rows * size);
    const conditional = Array.from({ length: rows }, (_, r) => !guided || r >= k);

    for (let step = 0; step < plan.timesteps.length; step++) {
      const [sigma, sigmaNext, timestep] = [plan.sigmas[step], plan.sigmas[step + 1], plan.timesteps[step]];
      const scale = inputScale(sigma);
      for (let i = 0; i < k; i++) {
        const row = x[i];
        for (let j = 0; j < size; j++) sample[i * size + j] = row[j] * scale;
      }
      if (guided) sample.copyWithin(k * size, 0, k * size);
      const feeds: Record<string, Tensor> = {
        ...fixed,
        sample: floatTensor(model.unet.floatType, sample, [rows, latent.channels, latent.height, latent.width]),
        timestep: timestepTensor(model.unet, timestep, rows),
      };
      const batch: UNetBatch = {
        frames,
        frameCount: latent.frames.length,
        conditional,
        latentHeight: latent.height,
        latentWidth: latent.width,
        step,
        steps: plan.timesteps.length,
        positive: this.positive,
      };
      for (const provide of model.extraInputs) Object.assign(feeds, provide(batch));
      const started = performance.now();
      const result = await this.session.run(feeds);
      this.hooks.onRun?.(performance.now() - started);
      const output = readFloats(result.out_sample);

      const wantsFresh = sigmaNext > 0 && (plan.eta > 0 || (plan.sampler === 'lcm' && plan.freshNoise > 0));
      for (let i = 0; i < k; i++) {
        if (guided) combineGuidance(output, i, k, options.cfg, epsilon);
        else epsilon.set(output.subarray(i * size, (i + 1) * size));
        epsilonFromOutput(x[i], epsilon, sigma, model.scheduler.predictionType);
        const fresh = wantsFresh ? this.noise(step + 1, frames[i]) : undefined;
        if (plan.sampler === 'lcm') {
          lcmStep(x[i], epsilon, sigma, sigmaNext, timestep, sigmaNext > 0 ? mixNoise(initialNoise[i], fresh, plan.freshNoise) : undefined);
        } else {
          ancestralStep(x[i], epsilon, sigma, sigmaNext, plan.eta, fresh);
        }
      }
      this.callsDone++;
      this.hooks.onProgress?.({
        call: this.callsDone,
        calls: this.calls,
        frame: frames[k - 1] + 1,
        frames: latent.frames.length,
        step: step + 1,
        steps: plan.timesteps.length,
      });
    }
    // Back from σ-space to the latent the VAE decodes (differs only when the last σ is not 0, as in DDIM).
    const finalScale = inputScale(plan.sigmas[plan.sigmas.length - 1]);
    return x.map((values) => (finalScale === 1 ? values : values.map((v) => v * finalScale)));
  }
}

/** uncond + cfg·(cond − uncond) for frame i of a batch whose first k rows are unconditional, into `out`. */
function combineGuidance(output: Float32Array, i: number, k: number, cfg: number, out: Float32Array): void {
  const size = out.length;
  const u = i * size;
  const c = (k + i) * size;
  for (let j = 0; j < size; j++) out[j] = output[u + j] + cfg * (output[c + j] - output[u + j]);
}

/** √(1−s)·initial + √s·fresh: LCM's re-noising, deterministic at s = 0. */
function mixNoise(initial: Float32Array, fresh: Float32Array | undefined, share: number): Float32Array {
  if (!fresh || share === 0) return initial;
  const a = Math.sqrt(1 - share);
  const b = Math.sqrt(share);
  return initial.map((v, j) => a * v + b * fresh[j]);
}
