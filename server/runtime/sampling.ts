// The sampling loop: frames in batches, classifier-free guidance batched (unconditional rows first, as
// diffusers does), one noise stream per (step, frame) — shared by all frames unless per-frame noise is
// asked for — and a progress callback after every UNet call (it throws to interrupt).
// Between UNet calls it touches each latent value as few times as it can (guidance in place in the
// output, the next input written to both CFG halves in one pass, one input buffer for every batch):
// this JavaScript is the Sampler's overhead over the UNet's own time (bench/runtime.ts).
import type { InferenceSession } from 'onnxruntime-node';
import type { MaskBatch } from '../masks/mask-batch.ts';
import { maskCountProblem, spanOf } from '../masks/mask-frames.ts';
import { NodeInputError } from '../errors.ts';
import { AttentionFeeds, checkAttention } from './attention-feeds.ts';
import { keptSources, LatentKeepMask, resetKeptArea } from './keep-mask.ts';
import { ClipNoise } from './noise.ts';
import { ancestralStep, epsilonFromOutput, inputScale, lcmStep, planSampling, type SamplerName, type SamplingPlan } from './samplers.ts';
import { stopIfAborted } from './before-run.ts';
import { sessions } from './sessions.ts';
import { readFloats } from './tensors.ts';
import { isGuided, promptFeeds, stepFeeds, unconditionalOf, type Unconditional } from './unet-feeds.ts';
import { sampleFlowMatching } from './flow-sampling.ts';
import type { Conditioning, DiffusionModel, LatentBatch } from './model-values.ts';

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
  /** Where black, every step resets the latent to the source noised to that step: one mask or one per frame, any resolution. */
  keepMask?: MaskBatch;
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
  /** Checked before every UNet call: once aborted, no further call starts. */
  signal?: AbortSignal;
  /** Live previews: after a UNet call for which `due()` is true, the batch's first frame as currently denoised. */
  preview?: { due(): boolean; show(latent: Float32Array): void };
}

/**
 * The Sampler's inputs, checked once before any sampling: throws a NodeInputError naming the input at
 * fault, or the InjectCrossAttention node and input whose mask or words do not fit.
 */
export function checkSamplingInputs(model: DiffusionModel, positive: Conditioning, negative: Conditioning | undefined, latent: LatentBatch, keepMask?: MaskBatch): void {
  const width = model.unet.contextDim;
  for (const [name, c] of [['positive', positive], ['negative', negative]] as const) {
    if (c && width !== undefined && c.hiddenSize !== width) {
      throw new NodeInputError(name, `${name} conditioning is ${c.hiddenSize} wide but ${model.name}'s UNet expects ${width}; encode the prompt with the same model's CLIP`);
    }
  }
  for (const [name, c] of [['positive', positive], ['negative', negative]] as const) {
    if (c && model.family === 'sdxl' && !c.pooled) {
      throw new NodeInputError(name, `${name} conditioning has no pooled prompt (text_embeds), which ${model.name}'s SDXL UNet needs; encode the prompt with the same model's CLIP`);
    }
  }
  if (negative && negative.sequenceLength !== positive.sequenceLength) {
    throw new NodeInputError('negative', `positive has ${positive.sequenceLength} tokens and negative ${negative.sequenceLength}; encode both with the same CLIP`);
  }
  if (latent.channels !== model.latentChannels) {
    throw new NodeInputError('latent', `the latents have ${latent.channels} channels but ${model.name}'s UNet takes ${model.latentChannels}; encode with the same model's VAE`);
  }
  const multiple = model.latentMultiple;
  if (latent.width % multiple !== 0 || latent.height % multiple !== 0) {
    throw new NodeInputError(
      'latent',
      `the latent is ${latent.width}×${latent.height} but ${model.name}'s UNet takes sides that are multiples of ${multiple} (its fixed ×2 down and up steps); encode with the same model's VAE, which pads the frames to fit`,
    );
  }
  const span = spanOf(latent);
  const keepMaskProblem = keepMask ? maskCountProblem('keep_mask', keepMask, span) : null;
  if (keepMaskProblem) throw new NodeInputError('keep_mask', keepMaskProblem);
  if (model.attention) checkAttention(model.attention, positive, span);
}

export async function sampleLatents(
  model: DiffusionModel,
  positive: Conditioning,
  negative: Conditioning | undefined,
  latent: LatentBatch,
  options: SampleOptions,
  hooks: SampleHooks = {},
): Promise<LatentBatch> {
  checkSamplingInputs(model, positive, negative, latent, options.keepMask);
  if (model.flow) return sampleFlowMatching({ ...model, flow: model.flow }, positive, negative, latent, options, hooks);
  return sampleInBatches(model, latent, options.batchSize, (session) => new SamplingRun(session, model, positive, unconditionalOf(positive, negative), latent, options, hooks));
}

/** Samples the clip in batches of `batchSize` frames with one run over the model's session (held meanwhile). */
export async function sampleInBatches(
  model: DiffusionModel,
  latent: LatentBatch,
  batchSize: number,
  start: (session: InferenceSession) => { sampleFrames(frames: readonly number[]): Promise<Float32Array[]> },
): Promise<LatentBatch> {
  const lease = await sessions.acquire(model.unetFile, model.device);
  try {
    const run = start(lease.session);
    // Frames are numbered on the clip (a streamed chunk starts at its axis), so noise and masks follow the frame, not the chunk.
    const first = latent.axis?.start ?? 0;
    const end = first + latent.frames.length;
    const out: Float32Array[] = [];
    for (let frame = first; frame < end; frame += batchSize) {
      out.push(...(await run.sampleFrames(Array.from({ length: Math.min(batchSize, end - frame) }, (_, i) => frame + i))));
    }
    return {
      channels: latent.channels,
      width: latent.width,
      height: latent.height,
      fps: latent.fps,
      frames: out,
      ...(latent.padding && { padding: latent.padding }),
      ...(latent.axis && { axis: latent.axis }),
    };
  } finally {
    lease.release();
  }
}

/** One Sampler execution: the plan, the noise streams, the UNet input buffer and the progress count shared by its batches. */
class SamplingRun {
  private readonly plan: SamplingPlan;
  private readonly guided: boolean;
  private readonly size: number;
  private readonly calls: number;
  private callsDone = 0;
  private readonly noise: ClipNoise;
  /** The UNet's `sample` input, sized for the largest batch and rewritten in place before every call. */
  private readonly sample: Float32Array;
  private readonly keepMask?: LatentKeepMask;
  /** The clip's first frame in `latent.frames` and the clip's frame count (a streamed chunk's frames are numbered on the clip). */
  private readonly first: number;
  private readonly clipFrames: number;
  private readonly attention?: AttentionFeeds;

  constructor(
    private readonly session: InferenceSession,
    private readonly model: DiffusionModel,
    private readonly positive: Conditioning,
    private readonly unconditional: Unconditional,
    private readonly latent: LatentBatch,
    private readonly options: SampleOptions,
    private readonly hooks: SampleHooks,
  ) {
    this.plan = planSampling(model.scheduler, options);
    this.first = latent.axis?.start ?? 0;
    this.clipFrames = latent.axis?.frames ?? latent.frames.length;
    this.guided = isGuided(model, options.cfg);
    this.size = latent.channels * latent.height * latent.width;
    this.noise = new ClipNoise(options.seed, this.size, options.noisePerFrame);
    this.calls = Math.ceil(latent.frames.length / options.batchSize) * this.plan.timesteps.length;
    const largestBatch = Math.min(options.batchSize, latent.frames.length);
    this.sample = new Float32Array((this.guided ? 2 : 1) * largestBatch * this.size);
    if (options.keepMask) this.keepMask = new LatentKeepMask(options.keepMask, latent.width, latent.height, this.clipFrames, latent.padding);
    if (model.attention) this.attention = new AttentionFeeds(model.attention, positive, latent.width, latent.height, this.clipFrames, latent.padding);
  }

  /** x·c_in(σ) into frame i's row of the UNet input, and into its conditional row too under CFG. */
  private writeInput(x: Float32Array, i: number, k: number, sigma: number): void {
    const { sample, size } = this;
    const scale = inputScale(sigma);
    const first = i * size;
    if (!this.guided) {
      for (let j = 0; j < size; j++) sample[first + j] = x[j] * scale;
      return;
    }
    const second = (k + i) * size;
    for (let j = 0; j < size; j++) {
      const value = x[j] * scale;
      sample[first + j] = value;
      sample[second + j] = value;
    }
  }

  async sampleFrames(frames: readonly number[]): Promise<Float32Array[]> {
    const { plan, model, latent, options, size, guided, first } = this;
    const k = frames.length;
    const source = (f: number) => latent.frames[f - first];
    const rows = guided ? 2 * k : k;
    const lastStep = plan.timesteps.length - 1;
    const initialNoise = frames.map((f) => this.noise.at(0, f));
    const kept = keptSources(this.keepMask, frames, source, initialNoise);
    const x = frames.map((f, i) => {
      const values = noised(source(f), initialNoise[i], plan.sigmas[0]);
      this.writeInput(values, i, k, plan.sigmas[0]);
      return values;
    });
    const feeds = promptFeeds(model, this.positive, this.unconditional, k, options.cfg, latent);
    const sample = this.sample.subarray(0, rows * size);
    const conditional = Array.from({ length: rows }, (_, r) => !guided || r >= k);

    for (let step = 0; step <= lastStep; step++) {
      const [sigma, sigmaNext, timestep] = [plan.sigmas[step], plan.sigmas[step + 1], plan.timesteps[step]];
      Object.assign(feeds, stepFeeds(model, sample, [rows, latent.channels, latent.height, latent.width], timestep));
      if (this.attention) Object.assign(feeds, this.attention.forBatch(frames, conditional));
      await stopIfAborted(this.hooks.signal);
      const started = performance.now();
      const result = await this.session.run(feeds);
      this.hooks.onRun?.(performance.now() - started);
      const output = readFloats(result.out_sample);

      const wantsFresh = sigmaNext > 0 && (plan.eta > 0 || (plan.sampler === 'lcm' && plan.freshNoise > 0));
      for (let i = 0; i < k; i++) {
        const epsilon = guided ? guideInPlace(output, i, k, size, options.cfg) : output.subarray(i * size, (i + 1) * size);
        epsilonFromOutput(x[i], epsilon, sigma, model.scheduler.predictionType);
        if (i === 0 && this.hooks.preview?.due()) this.hooks.preview.show(denoisedEstimate(x[i], epsilon, sigma));
        const fresh = wantsFresh ? this.noise.at(step + 1, frames[i]) : undefined;
        if (plan.sampler === 'lcm') {
          lcmStep(x[i], epsilon, sigma, sigmaNext, timestep, sigmaNext > 0 ? mixNoise(initialNoise[i], fresh, plan.freshNoise) : undefined);
        } else {
          ancestralStep(x[i], epsilon, sigma, sigmaNext, plan.eta, fresh);
        }
        if (step === lastStep) continue;
        const keep = kept[i];
        if (keep) resetKeptArea(x[i], keep, sigmaNext);
        this.writeInput(x[i], i, k, sigmaNext);
      }
      this.callsDone++;
      this.hooks.onProgress?.({
        call: this.callsDone,
        calls: this.calls,
        frame: frames[k - 1] - first + 1,
        frames: latent.frames.length,
        step: step + 1,
        steps: plan.timesteps.length,
      });
    }
    // Back from σ-space to the latent the VAE decodes (differs only when the last σ is not 0, as in DDIM);
    // the kept area is then the source exactly, whatever σ the schedule ended on.
    const finalScale = inputScale(plan.sigmas[plan.sigmas.length - 1]);
    x.forEach((values, i) => {
      if (finalScale !== 1) scaleInPlace(values, finalScale);
      const keep = kept[i];
      if (keep) resetKeptArea(values, keep, 0);
    });
    return x;
  }
}

// The loops over latent values are small functions of their own: V8 optimises those at once, while the
// same loop written inline in the async sampleFrames or in a closure ran about 7× slower (measured).

/**
 * uncond + cfg·(cond − uncond) for frame i of a batch whose first k rows are unconditional, written over
 * its conditional row of the UNet output (ours to change); returns that row.
 */
export function guideInPlace(output: Float32Array, i: number, k: number, size: number, cfg: number): Float32Array {
  const u = i * size;
  const c = (k + i) * size;
  for (let j = 0; j < size; j++) output[c + j] = output[u + j] + cfg * (output[c + j] - output[u + j]);
  return output.subarray(c, c + size);
}

/** x − σ·d: the clean latent the model currently predicts (d = ε, or flow matching's velocity), a new array (live previews). */
export function denoisedEstimate(x: Float32Array, epsilon: Float32Array, sigma: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let j = 0; j < out.length; j++) out[j] = x[j] - sigma * epsilon[j];
  return out;
}

/** source + σ·noise, a new array. */
function noised(source: Float32Array, noise: Float32Array, sigma: number): Float32Array {
  const out = new Float32Array(source.length);
  for (let j = 0; j < out.length; j++) out[j] = source[j] + sigma * noise[j];
  return out;
}

function scaleInPlace(values: Float32Array, factor: number): void {
  for (let j = 0; j < values.length; j++) values[j] *= factor;
}

/** √(1−s)·initial + √s·fresh: LCM's re-noising, deterministic at s = 0. */
function mixNoise(initial: Float32Array, fresh: Float32Array | undefined, share: number): Float32Array {
  if (!fresh || share === 0) return initial;
  const a = Math.sqrt(1 - share);
  const b = Math.sqrt(share);
  const out = new Float32Array(initial.length);
  for (let j = 0; j < out.length; j++) out[j] = a * initial[j] + b * fresh[j];
  return out;
}
