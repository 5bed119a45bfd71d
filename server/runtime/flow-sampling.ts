// The sampling loop for flow-matching models (SD3/3.5): the Sampler node runs it when the MODEL carries
// a FlowMatchEulerDiscrete config. Frames in batches, classifier-free guidance batched (unconditional
// rows first), one noise stream per (step, frame) shared by the clip's frames unless asked otherwise, the
// keep-mask reset after every step, and a progress callback after every transformer call.
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { NodeInputError } from '../errors.ts';
import { AttentionFeeds } from './attention-feeds.ts';
import { stopIfAborted } from './before-run.ts';
import { flowNoised, flowStep, planFlowMatching, type FlowMatchConfig, type FlowPlan } from './flow-matching.ts';
import { keptSources, LatentKeepMask, resetKeptArea } from './keep-mask.ts';
import { ClipNoise } from './noise.ts';
import { denoisedEstimate, guideInPlace, sampleInBatches, type SampleHooks, type SampleOptions } from './sampling.ts';
import { floatTensor, readFloats, timestepTensor } from './tensors.ts';
import { isGuided, promptFeeds, unconditionalOf, type Unconditional } from './unet-feeds.ts';
import type { Conditioning, DiffusionModel, LatentBatch } from './model-values.ts';

/** The samplers a flow-matching model runs: Euler on the velocity; euler_ancestral adds temperature's fresh noise. */
const FLOW_SAMPLERS: readonly SampleOptions['sampler'][] = ['euler', 'euler_ancestral'];

/** The Sampler's flow-matching choices, checked before sampling: a NodeInputError names the input at fault. */
export function checkFlowOptions(model: DiffusionModel, positive: Conditioning, negative: Conditioning | undefined, options: SampleOptions): void {
  if (!FLOW_SAMPLERS.includes(options.sampler)) {
    throw new NodeInputError('sampler', `${model.name} is a flow-matching model (SD3), which samples with euler or euler_ancestral (temperature > 0 re-injects noise); choose one of those instead of ${options.sampler}`);
  }
  for (const [name, c] of [['positive', positive], ['negative', negative]] as const) {
    if (c && (!c.pooled || (model.pooledDim !== undefined && c.pooled.length !== model.pooledDim))) {
      throw new NodeInputError(name, `${name} conditioning has no pooled embedding of width ${model.pooledDim ?? 2048}; encode the prompt with ${model.name}'s CLIP`);
    }
  }
}

export async function sampleFlowMatching(
  model: DiffusionModel & { flow: FlowMatchConfig },
  positive: Conditioning,
  negative: Conditioning | undefined,
  latent: LatentBatch,
  options: SampleOptions,
  hooks: SampleHooks,
): Promise<LatentBatch> {
  checkFlowOptions(model, positive, negative, options);
  return sampleInBatches(model, latent, options.batchSize, (session) => new FlowRun(session, model, positive, unconditionalOf(positive, negative), latent, options, hooks));
}

class FlowRun {
  private readonly plan: FlowPlan;
  private readonly guided: boolean;
  private readonly size: number;
  private readonly calls: number;
  private callsDone = 0;
  private readonly noise: ClipNoise;
  private readonly keepMask?: LatentKeepMask;
  private readonly attention?: AttentionFeeds;
  /** The first frame of `latent.frames` on the clip (a streamed chunk's frames are numbered on the clip). */
  private readonly first: number;

  constructor(
    private readonly session: InferenceSession,
    private readonly model: DiffusionModel & { flow: FlowMatchConfig },
    private readonly positive: Conditioning,
    private readonly unconditional: Unconditional,
    private readonly latent: LatentBatch,
    private readonly options: SampleOptions,
    private readonly hooks: SampleHooks,
  ) {
    this.plan = planFlowMatching(model.flow, { ...options, temperature: options.sampler === 'euler_ancestral' ? options.temperature : 0 });
    this.guided = isGuided(model, options.cfg);
    this.size = latent.channels * latent.height * latent.width;
    this.noise = new ClipNoise(options.seed, this.size, options.noisePerFrame);
    this.calls = Math.ceil(latent.frames.length / options.batchSize) * this.plan.timesteps.length;
    this.first = latent.axis?.start ?? 0;
    const clipFrames = latent.axis?.frames ?? latent.frames.length;
    if (options.keepMask) this.keepMask = new LatentKeepMask(options.keepMask, latent.width, latent.height, clipFrames, latent.padding);
    if (model.attention) this.attention = new AttentionFeeds(model.attention, positive, latent.width, latent.height, clipFrames, latent.padding);
  }

  /** The prompt feeds of a batch: the context rows (from unet-feeds) and the pooled rows in the same order. */
  private promptFeeds(frames: number): Record<string, Tensor> {
    const { model, positive, unconditional, guided } = this;
    const feeds = promptFeeds(model, positive, unconditional, frames, this.options.cfg, this.latent);
    const rows = [...(guided ? Array<Float32Array>(frames).fill(unconditional.pooled!) : []), ...Array<Float32Array>(frames).fill(positive.pooled!)];
    const width = positive.pooled!.length;
    const pooled = new Float32Array(rows.length * width);
    rows.forEach((row, i) => pooled.set(row, i * width));
    feeds.pooled_projections = floatTensor(model.unet.floatType, pooled, [rows.length, width]);
    return feeds;
  }

  async sampleFrames(frames: readonly number[]): Promise<Float32Array[]> {
    const { plan, model, latent, size, guided, options, first } = this;
    const k = frames.length;
    const source = (f: number) => latent.frames[f - first];
    const rows = guided ? 2 * k : k;
    const lastStep = plan.timesteps.length - 1;
    const initialNoise = frames.map((f) => this.noise.at(0, f));
    const kept = keptSources(this.keepMask, frames, source, initialNoise);
    const x = frames.map((f, i) => flowNoised(source(f), initialNoise[i], plan.sigmas[0]));
    const feeds = this.promptFeeds(k);
    const sample = new Float32Array(rows * size);
    const conditional = Array.from({ length: rows }, (_, r) => !guided || r >= k);
    for (let step = 0; step <= lastStep; step++) {
      const [sigma, sigmaNext] = [plan.sigmas[step], plan.sigmas[step + 1]];
      x.forEach((values, i) => {
        sample.set(values, i * size);
        if (guided) sample.set(values, (k + i) * size);
      });
      feeds.hidden_states = floatTensor(model.unet.floatType, sample, [rows, latent.channels, latent.height, latent.width]);
      feeds.timestep = timestepTensor(model.unet, plan.timesteps[step], rows);
      if (this.attention) Object.assign(feeds, this.attention.forBatch(frames, conditional));
      await stopIfAborted(this.hooks.signal);
      const started = performance.now();
      const result = await this.session.run(feeds);
      this.hooks.onRun?.(performance.now() - started);
      const output = readFloats(result.out_hidden_states);
      for (let i = 0; i < k; i++) {
        const velocity = guided ? guideInPlace(output, i, k, size, options.cfg) : output.subarray(i * size, (i + 1) * size);
        if (i === 0 && this.hooks.preview?.due()) this.hooks.preview.show(denoisedEstimate(x[i], velocity, sigma));
        const fresh = plan.eta > 0 && sigmaNext > 0 ? this.noise.at(step + 1, frames[i]) : undefined;
        flowStep(x[i], velocity, sigma, sigmaNext, plan.eta, fresh);
        const keep = kept[i];
        if (keep) resetKeptArea(x[i], keep, sigmaNext, 1 - sigmaNext);
      }
      this.callsDone++;
      this.hooks.onProgress?.({ call: this.callsDone, calls: this.calls, frame: frames[k - 1] - first + 1, frames: latent.frames.length, step: step + 1, steps: plan.timesteps.length });
    }
    return x;
  }
}
