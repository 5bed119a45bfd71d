import { latentPreviewFor, throttledPreview } from '../server/runtime/latent-preview.ts';
import { SAMPLER_NAMES } from '../server/runtime/samplers.ts';
import { sampleLatents } from '../server/runtime/sampling.ts';
import { requireCarriedFit, requireFit } from '../server/engine/frame-counts.ts';
import { defineNode } from '../server/engine/node-contract.ts';

export default defineNode({
  type: 'Sampler',
  displayName: 'Sampler',
  category: 'limelight/sampling',
  description:
    'Denoises latent frames with the model, guided by the prompt. denoise < 1 keeps part of the source (img2img: steps × denoise steps run). ' +
    'temperature re-injects fresh noise between steps (euler_ancestral and ddim: η; lcm: fresh vs. the initial noise); euler and turbo are deterministic. ' +
    'Every frame starts from the same noise unless noise_per_frame is on. ' +
    'On an SD3 model the steps are flow matching (Euler on the predicted velocity, the scheduler\'s shift): choose euler, or euler_ancestral with temperature for fresh noise. ' +
    'keep_mask (optional): where it is black the source latent is kept exactly (each step resets that area to the source, noised to the step); white samples freely.',
  version: 1,
  inputs: {
    required: {
      model: { type: 'MODEL' },
      positive: { type: 'CONDITIONING' },
      latent: { type: 'LATENT' },
      seed: { type: 'INT', default: 0, min: 0, max: Number.MAX_SAFE_INTEGER, controlAfterGenerate: true },
      steps: { type: 'INT', default: 20, min: 1, max: 200 },
      cfg: { type: 'FLOAT', default: 7, min: 1, max: 30, step: 0.1, tooltip: 'classifier-free guidance scale; 1 skips the unconditional pass' },
      sampler: { type: 'COMBO', options: SAMPLER_NAMES, default: 'euler' },
      temperature: { type: 'FLOAT', default: 0, min: 0, max: 1, step: 0.01 },
      denoise: { type: 'FLOAT', default: 0.6, min: 0.01, max: 1, step: 0.01 },
      batch_size: { type: 'INT', default: 4, min: 1, max: 64, tooltip: 'frames per UNet call' },
      noise_per_frame: { type: 'BOOLEAN', default: false, tooltip: 'off: one noise for the whole clip (steadier video)' },
    },
    optional: {
      negative: { type: 'CONDITIONING' },
      keep_mask: { type: 'MASK', tooltip: 'black = keep the source latent here, white = sample freely; one mask for every frame, or one per frame' },
    },
  },
  outputs: [{ type: 'LATENT', name: 'LATENT' }],
  persist: true,
  frames: (view) => {
    const clip = view.frames('latent');
    requireFit(view, 'keep_mask', 'the keep_mask sequence', clip);
    requireCarriedFit(view.carried('model'), clip);
    return [{ frames: clip }];
  },
  stream: { kind: 'per-frame', batch: (literals) => (typeof literals.batch_size === 'number' ? literals.batch_size : undefined) },
  execute: async (inputs, ctx) => {
    const { model, positive, negative, latent, keep_mask: keepMask } = inputs;
    // Live previews only when someone watches (the editor), fitted once per VAE. sampleLatents checks every input before it samples.
    const previewMap =
      ctx.preview && model.previewVae
        ? await latentPreviewFor(model.previewVae).catch((error: Error) => ctx.log.warn(`no live previews: ${error.message}`))
        : undefined;
    const result = await sampleLatents(
      model,
      positive,
      negative,
      latent,
      {
        seed: inputs.seed,
        steps: inputs.steps,
        cfg: inputs.cfg,
        sampler: inputs.sampler,
        temperature: inputs.temperature,
        denoise: inputs.denoise,
        batchSize: inputs.batch_size,
        noisePerFrame: inputs.noise_per_frame,
        keepMask,
      },
      {
        signal: ctx.signal,
        onProgress: (p) => ctx.progress(p.call, p.calls, { frame: p.frame, frames: p.frames, step: p.step, steps: p.steps }),
        preview: previewMap ? throttledPreview(previewMap, latent.width, latent.height, (jpeg) => ctx.preview?.('jpeg', jpeg)) : undefined,
      },
    );
    return { outputs: [result] };
  },
});
