// Samplers as schedules plus step rules, all in k-diffusion's σ-space (x = x₀ + σ·ε; the UNet sees
// x / √(σ²+1)). Euler, Euler ancestral and DDIM share one step rule — DDIM with η is exactly the
// ancestral step on DDIM's discrete schedule — and differ in the σ they visit; LCM re-noises its
// consistency estimate; Turbo is one Euler step from the starting σ to 0.
import {
  alphasCumprod,
  sigmaAtTimestep,
  spacedTimesteps,
  trainingSigmas,
  type PredictionType,
  type SchedulerConfig,
} from './schedule.ts';

export const SAMPLER_NAMES = ['euler', 'euler_ancestral', 'ddim', 'lcm', 'turbo'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export interface SamplingPlan {
  sampler: SamplerName;
  /** The UNet timestep of each call. */
  timesteps: number[];
  /** σ at each call, then the σ the last step lands on (one longer than `timesteps`). */
  sigmas: number[];
  /** Ancestral noise scale η (0 = deterministic). */
  eta: number;
  /** LCM only: the share of fresh noise when re-noising (0 = the initial noise again). */
  freshNoise: number;
}

export interface PlanOptions {
  sampler: SamplerName;
  steps: number;
  /** img2img strength: the last max(1, ⌊steps × denoise⌋) steps of the schedule run. */
  denoise: number;
  /** 0–1, the amount of fresh noise re-injected between steps. */
  temperature: number;
}

const LCM_ORIGINAL_STEPS = 50;

/** img2img: the last max(1, ⌊steps × denoise⌋) steps of a schedule run. */
export function stepsToRun(steps: number, denoise: number): number {
  return Math.max(1, Math.min(steps, Math.floor(steps * denoise + 1e-9)));
}

/** diffusers LCMScheduler: `steps` evenly spaced picks from the 50-step grid the model was distilled on. */
function lcmTimesteps(config: SchedulerConfig, steps: number): number[] {
  const ratio = Math.floor(config.numTrainTimesteps / LCM_ORIGINAL_STEPS);
  const origin = Array.from({ length: LCM_ORIGINAL_STEPS }, (_, i) => (i + 1) * ratio - 1).reverse();
  const picks = Math.min(steps, LCM_ORIGINAL_STEPS);
  return Array.from({ length: picks }, (_, i) => origin[Math.floor((i * LCM_ORIGINAL_STEPS) / picks)]);
}

export function planSampling(config: SchedulerConfig, options: PlanOptions): SamplingPlan {
  const alphas = alphasCumprod(config);
  const table = trainingSigmas(alphas);
  const { sampler, steps, denoise, temperature } = options;
  const base = { sampler, eta: 0, freshNoise: 0 };
  if (sampler === 'turbo') {
    const timestep = Math.min(config.numTrainTimesteps - 1, Math.max(0, Math.round(config.numTrainTimesteps * denoise) - 1));
    return { ...base, timesteps: [timestep], sigmas: [table[timestep], 0] };
  }
  const full = sampler === 'lcm' ? lcmTimesteps(config, steps) : spacedTimesteps(config, steps);
  const timesteps = full.slice(full.length - stepsToRun(full.length, denoise));
  if (sampler === 'ddim') {
    const ratio = Math.floor(config.numTrainTimesteps / steps);
    const last = timesteps[timesteps.length - 1] - ratio;
    const finalSigma = last >= 0 ? table[last] : config.setAlphaToOne ? 0 : table[0];
    return { ...base, eta: temperature, timesteps, sigmas: [...timesteps.map((t) => table[t]), finalSigma] };
  }
  const sigmas = [...timesteps.map((t) => sigmaAtTimestep(table, t)), 0];
  if (sampler === 'lcm') return { ...base, freshNoise: temperature, timesteps, sigmas };
  return { ...base, eta: sampler === 'euler_ancestral' ? temperature : 0, timesteps, sigmas };
}

/** The UNet input scale at σ: the model sees x·c_in = x / √(σ²+1). */
export function inputScale(sigma: number): number {
  return 1 / Math.sqrt(sigma * sigma + 1);
}

/**
 * The model's output (ε or v) as ε, in place: v = a·ε − b·x₀ with a = c_in, b = σ·c_in gives
 * ε = σ·a²·x + a·v. With ε, x₀ = x − σ·ε.
 */
export function epsilonFromOutput(x: Float32Array, output: Float32Array, sigma: number, prediction: PredictionType): void {
  if (prediction === 'epsilon') return;
  const a = inputScale(sigma);
  for (let i = 0; i < x.length; i++) output[i] = sigma * a * a * x[i] + a * output[i];
}

/**
 * One ancestral step from σ to σ_next (k-diffusion `get_ancestral_step`): with η = 0 the Euler step
 * x + (σ_next − σ)·ε, with η = 1 the full ancestral noise. `noise` may be omitted when η = 0.
 * Updates `x` in place.
 */
export function ancestralStep(
  x: Float32Array,
  epsilon: Float32Array,
  sigma: number,
  sigmaNext: number,
  eta: number,
  noise?: Float32Array,
): void {
  const sigmaUp = eta > 0 && sigmaNext > 0 ? Math.min(sigmaNext, eta * Math.sqrt((sigmaNext ** 2 * (sigma ** 2 - sigmaNext ** 2)) / sigma ** 2)) : 0;
  const slope = Math.sqrt(sigmaNext ** 2 - sigmaUp ** 2) - sigma;
  if (sigmaUp === 0) {
    for (let i = 0; i < x.length; i++) x[i] += slope * epsilon[i];
    return;
  }
  if (!noise) throw new Error('ancestral step with η > 0 needs noise');
  for (let i = 0; i < x.length; i++) x[i] += slope * epsilon[i] + sigmaUp * noise[i];
}

/** LCM boundary-condition scalings at a timestep (timestep scaling 10, σ_data 0.5). */
export function lcmScalings(timestep: number): { cSkip: number; cOut: number } {
  const scaled = timestep * 10;
  return { cSkip: 0.25 / (scaled * scaled + 0.25), cOut: scaled / Math.sqrt(scaled * scaled + 0.25) };
}

/**
 * One LCM step: the consistency estimate c_out·x₀ + c_skip·(model input), re-noised to σ_next with
 * `noise` (unused when σ_next = 0). Writes the new x into `x`.
 */
export function lcmStep(
  x: Float32Array,
  epsilon: Float32Array,
  sigma: number,
  sigmaNext: number,
  timestep: number,
  noise?: Float32Array,
): void {
  const { cSkip, cOut } = lcmScalings(timestep);
  const scale = inputScale(sigma);
  for (let i = 0; i < x.length; i++) {
    const estimate = cOut * (x[i] - sigma * epsilon[i]) + cSkip * scale * x[i];
    x[i] = sigmaNext > 0 ? estimate + sigmaNext * noise![i] : estimate;
  }
}
