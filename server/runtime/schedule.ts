// The noise schedule of a diffusers scheduler config: betas → alphas_cumprod → sigmas, and the timesteps a
// sampler visits for a step count and spacing (diffusers `set_timesteps`).

export type BetaSchedule = 'scaled_linear' | 'linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

export interface SchedulerConfig {
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  numTrainTimesteps: number;
  stepsOffset: number;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  /** DDIM: the "previous" alphas_cumprod after the last step is 1 (true) or alphas_cumprod[0] (false). */
  setAlphaToOne: boolean;
}

/** Stable Diffusion 1.x defaults, used for keys a config leaves out. */
export const SD_SCHEDULER_DEFAULTS: SchedulerConfig = {
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  numTrainTimesteps: 1000,
  stepsOffset: 1,
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
  setAlphaToOne: false,
};

function oneOf<T extends string>(value: unknown, allowed: readonly T[], key: string, fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`scheduler_config.json: "${key}" is ${JSON.stringify(value)}; supported: ${allowed.join(', ')}`);
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Reads a diffusers `scheduler_config.json` object (snake_case keys). */
export function parseSchedulerConfig(json: Record<string, unknown>): SchedulerConfig {
  const d = SD_SCHEDULER_DEFAULTS;
  return {
    betaStart: numberOr(json.beta_start, d.betaStart),
    betaEnd: numberOr(json.beta_end, d.betaEnd),
    betaSchedule: oneOf(json.beta_schedule, ['scaled_linear', 'linear', 'squaredcos_cap_v2'], 'beta_schedule', d.betaSchedule),
    numTrainTimesteps: numberOr(json.num_train_timesteps, d.numTrainTimesteps),
    stepsOffset: numberOr(json.steps_offset, 0),
    predictionType: oneOf(json.prediction_type, ['epsilon', 'v_prediction'], 'prediction_type', d.predictionType),
    timestepSpacing: oneOf(json.timestep_spacing, ['leading', 'trailing', 'linspace'], 'timestep_spacing', d.timestepSpacing),
    setAlphaToOne: typeof json.set_alpha_to_one === 'boolean' ? json.set_alpha_to_one : d.setAlphaToOne,
  };
}

export function betas(config: SchedulerConfig): Float64Array {
  const n = config.numTrainTimesteps;
  const out = new Float64Array(n);
  if (config.betaSchedule === 'squaredcos_cap_v2') {
    const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
    return out;
  }
  const scaled = config.betaSchedule === 'scaled_linear';
  const start = scaled ? Math.sqrt(config.betaStart) : config.betaStart;
  const end = scaled ? Math.sqrt(config.betaEnd) : config.betaEnd;
  for (let i = 0; i < n; i++) {
    const beta = n === 1 ? start : start + ((end - start) * i) / (n - 1);
    out[i] = scaled ? beta * beta : beta;
  }
  return out;
}

export function alphasCumprod(config: SchedulerConfig): Float64Array {
  const b = betas(config);
  const out = new Float64Array(b.length);
  let product = 1;
  for (let i = 0; i < b.length; i++) {
    product *= 1 - b[i];
    out[i] = product;
  }
  return out;
}

/** σ for each training timestep: sqrt((1 − ᾱ) / ᾱ), the noise level in k-diffusion's x = x₀ + σ·ε form. */
export function trainingSigmas(alphas: Float64Array): Float64Array {
  return alphas.map((a) => Math.sqrt((1 - a) / a));
}

/** σ at a (possibly fractional) timestep, interpolated linearly between training timesteps like diffusers. */
export function sigmaAtTimestep(sigmas: Float64Array, timestep: number): number {
  const t = Math.min(Math.max(timestep, 0), sigmas.length - 1);
  const low = Math.floor(t);
  const high = Math.min(low + 1, sigmas.length - 1);
  return sigmas[low] + (sigmas[high] - sigmas[low]) * (t - low);
}

/** The descending timesteps of an `steps`-step schedule (diffusers `set_timesteps`). */
export function spacedTimesteps(config: SchedulerConfig, steps: number, spacing = config.timestepSpacing): number[] {
  const n = config.numTrainTimesteps;
  if (steps < 1 || steps > n) throw new Error(`steps must be between 1 and ${n}, got ${steps}`);
  if (spacing === 'leading') {
    const ratio = Math.floor(n / steps);
    return Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio + config.stepsOffset);
  }
  if (spacing === 'trailing') {
    const ratio = n / steps;
    return Array.from({ length: steps }, (_, i) => Math.round(n - i * ratio) - 1);
  }
  return Array.from({ length: steps }, (_, i) => (steps === 1 ? n - 1 : ((n - 1) * (steps - 1 - i)) / (steps - 1)));
}
