// Scheduler numerics against values computed here from the published formulas (diffusers / k-diffusion),
// not against the implementation's own output.
import { describe, expect, it } from 'vitest';
import { ancestralStep, epsilonFromOutput, inputScale, lcmScalings, lcmStep, planSampling } from '../../server/runtime/samplers.ts';
import { alphasCumprod, parseSchedulerConfig, SD_SCHEDULER_DEFAULTS, spacedTimesteps } from '../../server/runtime/schedule.ts';

const SD = SD_SCHEDULER_DEFAULTS;

/** SD 1.x alphas_cumprod written out independently: betas linear in √β from √0.00085 to √0.012. */
function referenceAlphaBar(t: number): number {
  let product = 1;
  for (let i = 0; i <= t; i++) {
    const sqrtBeta = Math.sqrt(0.00085) + (i / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085));
    product *= 1 - sqrtBeta * sqrtBeta;
  }
  return product;
}

const sigmaOf = (alphaBar: number) => Math.sqrt((1 - alphaBar) / alphaBar);

describe('noise schedule', () => {
  it('alphas_cumprod matches the scaled-linear formula and the known SD endpoints', () => {
    const table = alphasCumprod(SD);
    expect(table.length).toBe(1000);
    expect(table[0]).toBeCloseTo(0.99915, 10);
    for (const t of [1, 250, 500, 999]) expect(table[t]).toBeCloseTo(referenceAlphaBar(t), 12);
    // The published SD 1.x extremes: σ_max 14.6146 (SD-Turbo's one step), σ_min 0.0292.
    expect(sigmaOf(table[999])).toBeCloseTo(14.6146, 3);
    expect(sigmaOf(table[0])).toBeCloseTo(0.0292, 4);
  });

  it('spaces timesteps like diffusers set_timesteps', () => {
    expect(spacedTimesteps(SD, 20, 'leading')).toEqual([951, 901, 851, 801, 751, 701, 651, 601, 551, 501, 451, 401, 351, 301, 251, 201, 151, 101, 51, 1]);
    expect(spacedTimesteps(SD, 4, 'trailing')).toEqual([999, 749, 499, 249]);
    expect(spacedTimesteps(SD, 3, 'linspace')).toEqual([999, 499.5, 0]);
  });

  it('reads scheduler_config.json and refuses unknown values by name', () => {
    const config = parseSchedulerConfig({ prediction_type: 'v_prediction', timestep_spacing: 'trailing', steps_offset: 0 });
    expect(config).toMatchObject({ predictionType: 'v_prediction', timestepSpacing: 'trailing', stepsOffset: 0, betaStart: 0.00085 });
    expect(() => parseSchedulerConfig({ prediction_type: 'sample' })).toThrow(/prediction_type.*"sample".*epsilon, v_prediction/);
  });
});

describe('sampling plans', () => {
  it('denoise runs the last ⌊steps × denoise⌋ steps, at least one', () => {
    const plan = planSampling(SD, { sampler: 'euler', steps: 20, denoise: 0.5, temperature: 0 });
    expect(plan.timesteps).toEqual([451, 401, 351, 301, 251, 201, 151, 101, 51, 1]);
    expect(plan.sigmas[0]).toBeCloseTo(sigmaOf(referenceAlphaBar(451)), 10);
    expect(plan.sigmas.at(-1)).toBe(0);
    expect(planSampling(SD, { sampler: 'euler', steps: 20, denoise: 0.01, temperature: 0 }).timesteps).toEqual([1]);
  });

  it('turbo is one step from timestep 999 (σ 14.6146) at full strength', () => {
    const full = planSampling(SD, { sampler: 'turbo', steps: 20, denoise: 1, temperature: 0.7 });
    expect(full.timesteps).toEqual([999]);
    expect(full.sigmas[0]).toBeCloseTo(14.6146, 3);
    expect(full.sigmas[1]).toBe(0);
    expect(planSampling(SD, { sampler: 'turbo', steps: 1, denoise: 0.5, temperature: 0 }).timesteps).toEqual([499]);
  });

  it('LCM picks from its 50-step grid (diffusers: 4 steps → 999, 759, 499, 259)', () => {
    const plan = planSampling(SD, { sampler: 'lcm', steps: 4, denoise: 1, temperature: 0.3 });
    expect(plan.timesteps).toEqual([999, 759, 499, 259]);
    expect(plan.freshNoise).toBe(0.3);
  });

  it('temperature is η for euler_ancestral and ddim; euler stays deterministic', () => {
    expect(planSampling(SD, { sampler: 'euler', steps: 10, denoise: 1, temperature: 0.8 }).eta).toBe(0);
    expect(planSampling(SD, { sampler: 'euler_ancestral', steps: 10, denoise: 1, temperature: 0.8 }).eta).toBe(0.8);
    const ddim = planSampling(SD, { sampler: 'ddim', steps: 10, denoise: 1, temperature: 0.5 });
    expect(ddim.eta).toBe(0.5);
    // DDIM's last step lands on alphas_cumprod[0] (set_alpha_to_one false), not on σ = 0.
    expect(ddim.sigmas.at(-1)).toBeCloseTo(sigmaOf(0.99915), 10);
  });
});

describe('step rules', () => {
  const x = Float32Array.from([1.5, -2, 0.25]);
  const eps = Float32Array.from([0.3, -0.1, 0.9]);

  it('Euler first step: x₁ = x₀ + (σ₁ − σ₀)·ε̂', () => {
    const [sigma0, sigma1] = [sigmaOf(referenceAlphaBar(951)), sigmaOf(referenceAlphaBar(901))];
    const next = x.slice();
    ancestralStep(next, eps, sigma0, sigma1, 0);
    for (let i = 0; i < 3; i++) expect(next[i]).toBeCloseTo(x[i] + (sigma1 - sigma0) * eps[i], 5);
  });

  it('DDIM with η equals the diffusers VP-space formula', () => {
    const [t, prev] = [501, 451];
    const [aT, aPrev] = [referenceAlphaBar(t), referenceAlphaBar(prev)];
    const noise = Float32Array.from([0.5, 1.2, -0.7]);
    const eta = 0.6;
    // diffusers DDIMScheduler.step, written out.
    const z = Array.from(x); // the VP-space sample
    const x0 = z.map((v, i) => (v - Math.sqrt(1 - aT) * eps[i]) / Math.sqrt(aT));
    const variance = ((1 - aPrev) / (1 - aT)) * (1 - aT / aPrev);
    const stdDev = eta * Math.sqrt(variance);
    const expected = x0.map((v, i) => Math.sqrt(aPrev) * v + Math.sqrt(1 - aPrev - stdDev ** 2) * eps[i] + stdDev * noise[i]);

    const [sigma, sigmaPrev] = [sigmaOf(aT), sigmaOf(aPrev)];
    const state = Float32Array.from(z, (v) => v / inputScale(sigma)); // σ-space: z / √ᾱ
    ancestralStep(state, eps, sigma, sigmaPrev, eta, noise);
    for (let i = 0; i < 3; i++) expect(state[i] * inputScale(sigmaPrev)).toBeCloseTo(expected[i], 5);
  });

  it('Euler ancestral splits σ_next into σ_up and σ_down (k-diffusion get_ancestral_step)', () => {
    const [sigma, sigmaNext] = [14.6146, 7.5];
    const sigmaUp = Math.sqrt((sigmaNext ** 2 * (sigma ** 2 - sigmaNext ** 2)) / sigma ** 2);
    const sigmaDown = Math.sqrt(sigmaNext ** 2 - sigmaUp ** 2);
    const noise = Float32Array.from([1, -1, 0.5]);
    const denoised = Float32Array.from([0.1, 0.2, 0.3]);
    const state = x.slice();
    ancestralStep(state, Float32Array.from(x, (v, i) => (v - denoised[i]) / sigma), sigma, sigmaNext, 1, noise);
    for (let i = 0; i < 3; i++) {
      const d = (x[i] - denoised[i]) / sigma;
      expect(state[i]).toBeCloseTo(x[i] + d * (sigmaDown - sigma) + sigmaUp * noise[i], 5);
    }
  });

  it('v-prediction recovers ε from v = √ᾱ·ε − √(1−ᾱ)·x₀', () => {
    const alphaBar = referenceAlphaBar(700);
    const sigma = sigmaOf(alphaBar);
    const x0 = Float32Array.from([0.4, -1.1, 2]);
    const output = x0.map((v0, i) => Math.sqrt(alphaBar) * eps[i] - Math.sqrt(1 - alphaBar) * v0);
    const state = x0.map((v0, i) => v0 + sigma * eps[i]);
    epsilonFromOutput(state, output, sigma, 'v_prediction');
    for (let i = 0; i < 3; i++) expect(output[i]).toBeCloseTo(eps[i], 4);
    const unchanged = eps.slice();
    epsilonFromOutput(state, unchanged, sigma, 'epsilon');
    expect(unchanged).toEqual(eps);
  });

  it('LCM boundary scalings and re-noising follow the published formulas', () => {
    const t = 499;
    const { cSkip, cOut } = lcmScalings(t);
    expect(cSkip).toBeCloseTo(0.25 / ((t / 0.1) ** 2 + 0.25), 12);
    expect(cOut).toBeCloseTo(t / 0.1 / Math.sqrt((t / 0.1) ** 2 + 0.25), 12);
    const [sigma, sigmaNext] = [sigmaOf(referenceAlphaBar(t)), sigmaOf(referenceAlphaBar(259))];
    const denoised = Float32Array.from([0.2, 0.4, -0.6]);
    const noise = Float32Array.from([1, 0, -1]);
    const state = x.slice();
    lcmStep(state, Float32Array.from(x, (v, i) => (v - denoised[i]) / sigma), sigma, sigmaNext, t, noise);
    for (let i = 0; i < 3; i++) {
      const estimate = cOut * denoised[i] + cSkip * x[i] / Math.sqrt(sigma ** 2 + 1);
      expect(state[i]).toBeCloseTo(estimate + sigmaNext * noise[i], 5);
    }
  });
});
