// The flow-matching sampler (SD3): the schedule against diffusers' FlowMatchEulerDiscreteScheduler
// computed by hand, and the Sampler's loop on a tiny transformer whose velocity is known in closed form
// (v = x/2 + σ + mean(pooled)), against the steps done by hand: img2img start, CFG, Euler and the
// temperature's re-noising, the keep-mask, and the refusal of samplers flow matching does not have.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../server/onnx/graph-builder.ts';
import { parseFlowMatchConfig, planFlowMatching } from '../../server/runtime/flow-matching.ts';
import { gaussianNoise, noiseStream } from '../../server/runtime/noise.ts';
import { sampleLatents, type SampleOptions } from '../../server/runtime/sampling.ts';
import { SD_SCHEDULER_DEFAULTS } from '../../server/runtime/schedule.ts';
import type { Conditioning, DiffusionModel, LatentBatch } from '../../server/runtime/model-values.ts';

describe('FlowMatchEulerDiscrete schedule', () => {
  it('shifts the linspace of σ_max…σ_min (itself shifted) again, as diffusers set_timesteps does', () => {
    // shift 3: σ_min = 3·0.001/(1 + 2·0.001) = 0.0029940; linspace(1, σ_min, 4) = 1, 0.6676647, 0.3353293, 0.0029940;
    // shifted: 1, 2.0029940/2.3353293 = 0.8576923, 1.0059880/1.6706587 = 0.6021505, 0.0089820/1.0059880 = 0.0089286.
    const plan = planFlowMatching({ numTrainTimesteps: 1000, shift: 3 }, { steps: 4, denoise: 1, temperature: 0 });
    const expected = [1, 0.8576923, 0.6021505, 0.0089286, 0];
    plan.sigmas.forEach((s, i) => expect(s).toBeCloseTo(expected[i], 6));
    plan.timesteps.forEach((t, i) => expect(t).toBeCloseTo(expected[i] * 1000, 3));
  });

  it('img2img runs the last ⌊steps × denoise⌋ steps; shift 1 is the plain linspace', () => {
    const half = planFlowMatching({ numTrainTimesteps: 1000, shift: 3 }, { steps: 4, denoise: 0.5, temperature: 0 });
    expect(half.sigmas.map((s) => Number(s.toFixed(6)))).toEqual([0.602151, 0.008929, 0]);
    const plain = planFlowMatching({ numTrainTimesteps: 1000, shift: 1 }, { steps: 3, denoise: 1, temperature: 0 });
    plain.sigmas.forEach((s, i) => expect(s).toBeCloseTo([1, 0.5005, 0.001, 0][i], 6));
  });

  it('reads the config: shift defaults to 3, dynamic shifting is refused with the reason', () => {
    expect(parseFlowMatchConfig({ num_train_timesteps: 1000 })).toEqual({ numTrainTimesteps: 1000, shift: 3 });
    expect(parseFlowMatchConfig({ shift: 1.5 }).shift).toBe(1.5);
    expect(() => parseFlowMatchConfig({ shift: -1 })).toThrow(/"shift" is -1/);
    expect(() => parseFlowMatchConfig({ use_dynamic_shifting: true })).toThrow(/use_dynamic_shifting/);
  });
});

/** out_hidden_states = hidden_states/2 + timestep/1000 + mean(pooled_projections); encoder_hidden_states is read (×0). */
function closedFormTransformer(): string {
  const g = new GraphBuilder('closed_form_transformer', 'float32');
  const x = g.input('hidden_states', 'float32', ['batch', 2, 'height', 'width']);
  const context = g.input('encoder_hidden_states', 'float32', ['batch', 3, 8]);
  const pooled = g.input('pooled_projections', 'float32', ['batch', 4]);
  const timestep = g.input('timestep', 'float32', ['batch']);
  const perRow = (t: string) => g.op('Reshape', [t, g.int64('per_row', [-1, 1, 1, 1])]);
  const sigma = perRow(g.op('Div', [timestep, g.scalar(1000)]));
  const condition = perRow(g.op('ReduceMean', [pooled], { axes: [1], keepdims: 0 }));
  const unused = perRow(g.op('Mul', [g.op('ReduceMean', [context], { axes: [1, 2], keepdims: 0 }), g.scalar(0)]));
  g.op('Add', [g.op('Add', [g.op('Mul', [x, g.scalar(0.5)]), sigma]), g.op('Add', [condition, unused])], {}, 'out_hidden_states');
  g.output('out_hidden_states', 'float32', ['batch', 2, 'height', 'width']);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'limelight-flow-')), 'model.onnx');
  writeFileSync(file, g.build().model);
  return file;
}

const model: DiffusionModel = {
  kind: 'diffusion-model',
  family: 'sd3',
  name: 'closed-form',
  folder: '.',
  unetFile: closedFormTransformer(),
  device: 'cpu',
  provider: 'cpu',
  unet: { floatType: 'float32', timestepType: 'float32', timestepShape: 'batch', contextDim: 8 },
  scheduler: SD_SCHEDULER_DEFAULTS,
  flow: { numTrainTimesteps: 1000, shift: 3 },
  pooledDim: 4,
  latentChannels: 2,
  latentMultiple: 1,
  vaeDownFactor: 8,
};
const conditioning = (pooledValue: number): Conditioning => ({
  text: 'x',
  ids: new Int32Array(3),
  words: [],
  truncated: false,
  sequenceLength: 3,
  hiddenSize: 8,
  embeddings: new Float32Array(24),
  emptyPrompt: new Float32Array(24),
  pooled: new Float32Array(4).fill(pooledValue),
  emptyPooled: new Float32Array(4),
});
const source = Float32Array.from([0.5, -1, 2, 0.25, 1, -0.5, 0, 3]);
const latent: LatentBatch = { channels: 2, width: 2, height: 2, fps: 0, frames: [source, source.map((v) => -v)] };
const options: SampleOptions = { seed: 11, steps: 4, cfg: 2, sampler: 'euler', temperature: 0, denoise: 0.5, batchSize: 2, noisePerFrame: false };

/** The same sampling written out step by step: σ = 0.6021505 → 0.0089286 → 0. */
function byHand(frame: Float32Array, temperature: number): number[] {
  const sigmas = [0.6021505376344084, 0.008928571428571713, 0];
  const noise = gaussianNoise(options.seed, noiseStream(0, 0, false), frame.length);
  let x = Array.from(frame, (s, j) => sigmas[0] * noise[j] + (1 - sigmas[0]) * s);
  for (let step = 0; step < 2; step++) {
    const [sigma, next] = [sigmas[step], sigmas[step + 1]];
    // v = uncond + cfg·(cond − uncond): the conditional pooled mean is 1, the unconditional 0.
    const v = x.map((xj) => xj / 2 + sigma + options.cfg * 1);
    if (temperature === 0 || next === 0) {
      x = x.map((xj, j) => xj + (next - sigma) * v[j]);
    } else {
      const fresh = gaussianNoise(options.seed, noiseStream(step + 1, 0, false), frame.length);
      x = x.map((xj, j) => {
        const [clean, predictedNoise] = [xj - sigma * v[j], xj + (1 - sigma) * v[j]];
        return (1 - next) * clean + next * (Math.sqrt(1 - temperature) * predictedNoise + Math.sqrt(temperature) * fresh[j]);
      });
    }
  }
  return x;
}

describe('the Sampler on a flow-matching model', () => {
  it('euler: img2img start, CFG on the velocity and Euler steps match the hand-computed ones', async () => {
    const out = await sampleLatents(model, conditioning(1), undefined, latent, options);
    out.frames.forEach((frame, f) => byHand(latent.frames[f], 0).forEach((v, j) => expect(frame[j]).toBeCloseTo(v, 5)));
  });

  it('euler_ancestral with temperature 0.5 re-noises with fresh noise between steps, as by hand', async () => {
    const out = await sampleLatents(model, conditioning(1), undefined, latent, { ...options, sampler: 'euler_ancestral', temperature: 0.5 });
    byHand(source, 0.5).forEach((v, j) => expect(out.frames[0][j]).toBeCloseTo(v, 5));
    const deterministic = byHand(source, 0);
    expect(Math.max(...deterministic.map((v, j) => Math.abs(v - out.frames[0][j])))).toBeGreaterThan(1e-3);
  });

  it('a black keep_mask keeps the source exactly; a fixed seed repeats', async () => {
    const keepMask = { width: 2, height: 2, masks: [new Float32Array(4)] };
    const kept = await sampleLatents(model, conditioning(1), undefined, latent, { ...options, keepMask });
    expect(Array.from(kept.frames[0])).toEqual(Array.from(source));
    const [a, b] = [await sampleLatents(model, conditioning(1), undefined, latent, options), await sampleLatents(model, conditioning(1), undefined, latent, options)];
    expect(Array.from(a.frames[1])).toEqual(Array.from(b.frames[1]));
  });

  it('refuses samplers flow matching does not have, and conditioning without a pooled embedding, on their inputs', async () => {
    await expect(sampleLatents(model, conditioning(1), undefined, latent, { ...options, sampler: 'ddim' })).rejects.toMatchObject({
      inputName: 'sampler',
      message: expect.stringMatching(/flow-matching model .* euler or euler_ancestral/),
    });
    const { pooled: _, ...unpooled } = conditioning(1);
    await expect(sampleLatents(model, unpooled, undefined, latent, options)).rejects.toMatchObject({ inputName: 'positive' });
  });
});
