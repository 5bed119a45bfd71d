// diffusers' FlowMatchEulerDiscreteScheduler (SD3/3.5), in its own σ-space: x_σ = (1 − σ)·x₀ + σ·noise,
// the transformer predicts the velocity v = noise − x₀ at timestep σ·1000, and an Euler step is
// x += (σ_next − σ)·v. Temperature re-injects fresh noise: the step re-noises the predicted x₀ with a mix
// of the predicted noise and fresh noise (η = 0 is exactly the Euler step, η = 1 diffusers' stochastic sampling).
import { stepsToRun } from './samplers.ts';

export interface FlowMatchConfig {
  numTrainTimesteps: number;
  /** σ' = shift·σ / (1 + (shift − 1)·σ): 3.0 for the released SD3 models. */
  shift: number;
}

const SD3_SHIFT = 3;

/** Reads a `FlowMatchEulerDiscreteScheduler` scheduler_config.json (snake_case keys). */
export function parseFlowMatchConfig(json: Record<string, unknown>): FlowMatchConfig {
  const positive = (value: unknown, fallback: number, key: string) => {
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
    throw new Error(`scheduler_config.json: "${key}" is ${JSON.stringify(value)}; expected a positive number`);
  };
  if (json.use_dynamic_shifting === true) {
    throw new Error('scheduler_config.json: use_dynamic_shifting (resolution-dependent shift, as Flux uses) is not supported; SD3/3.5 use a fixed "shift"');
  }
  return { numTrainTimesteps: positive(json.num_train_timesteps, 1000, 'num_train_timesteps'), shift: positive(json.shift, SD3_SHIFT, 'shift') };
}

export function shiftSigma(sigma: number, shift: number): number {
  return (shift * sigma) / (1 + (shift - 1) * sigma);
}

export interface FlowPlan {
  /** σ at each transformer call, then 0 (one longer than the calls). */
  sigmas: number[];
  /** The transformer's timestep at each call: σ·num_train_timesteps. */
  timesteps: number[];
  /** Fresh-noise share between steps (0 = deterministic Euler). */
  eta: number;
}

/**
 * `set_timesteps(steps)`: a linspace from σ_max·N to σ_min·N (σ_min is the shifted last training σ),
 * divided by N and shifted again; img2img (denoise < 1) runs the last max(1, ⌊steps·denoise⌋) of them.
 */
export function planFlowMatching(config: FlowMatchConfig, options: { steps: number; denoise: number; temperature: number }): FlowPlan {
  const { numTrainTimesteps: n, shift } = config;
  const { steps } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  const sigmaMax = shiftSigma(1, shift);
  const sigmaMin = shiftSigma(1 / n, shift);
  const full = Array.from({ length: steps }, (_, i) => {
    const t = steps === 1 ? sigmaMax * n : sigmaMax * n + ((sigmaMin - sigmaMax) * n * i) / (steps - 1);
    return shiftSigma(t / n, shift);
  });
  const sigmas = full.slice(full.length - stepsToRun(steps, options.denoise));
  return { sigmas: [...sigmas, 0], timesteps: sigmas.map((s) => s * n), eta: options.temperature };
}

/** x_σ = σ·noise + (1 − σ)·x₀, a new array (`scale_noise`). */
export function flowNoised(source: Float32Array, noise: Float32Array, sigma: number): Float32Array {
  const out = new Float32Array(source.length);
  for (let j = 0; j < out.length; j++) out[j] = sigma * noise[j] + (1 - sigma) * source[j];
  return out;
}

/**
 * One step from σ to σ_next on the velocity v, in place. With η = 0 (or no fresh noise) the Euler step
 * x + (σ_next − σ)·v; otherwise x₀ = x − σ·v and noise = x + (1 − σ)·v are re-mixed:
 * x = (1 − σ_next)·x₀ + σ_next·(√(1−η)·noise + √η·fresh).
 */
export function flowStep(x: Float32Array, velocity: Float32Array, sigma: number, sigmaNext: number, eta: number, fresh?: Float32Array): void {
  if (eta === 0 || !fresh || sigmaNext === 0) {
    const slope = sigmaNext - sigma;
    for (let i = 0; i < x.length; i++) x[i] += slope * velocity[i];
    return;
  }
  const [kept, added] = [Math.sqrt(1 - eta), Math.sqrt(eta)];
  for (let i = 0; i < x.length; i++) {
    const clean = x[i] - sigma * velocity[i];
    const noise = x[i] + (1 - sigma) * velocity[i];
    x[i] = (1 - sigmaNext) * clean + sigmaNext * (kept * noise + added * fresh[i]);
  }
}

