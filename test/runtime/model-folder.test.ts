// Model folders: the diffusers/optimum layout, the contract checks and their messages, and the variants
// real exports come in (external weights, timestep dtypes and shapes, fp16, 8-channel VAE encoders).
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../server/onnx/graph-builder.ts';
import { inspectModel } from '../../server/onnx/inspect.ts';
import type { DemoModelVariant } from '../../server/demo/demo-model.ts';
import { listModelFolders, loadModel } from '../../server/runtime/model-folder.ts';
import { sampleLatents } from '../../server/runtime/sampling.ts';
import { createSession, cudaProviderInstalled } from '../../server/runtime/sessions.ts';
import { encodePrompt } from '../../server/runtime/text-encoding.ts';
import { encodeImages } from '../../server/runtime/vae.ts';
import { demoModel, syntheticClip } from '../helpers/runtime-fixtures.ts';

/** A stand-in UNet with the given inputs (out_sample = sample), to provoke contract errors. */
function writeUNet(dir: string, inputs: { sample?: string; contextDims?: (number | string)[] }): void {
  const g = new GraphBuilder('fake_unet', 'float32');
  const sample = g.input(inputs.sample ?? 'sample', 'float32', ['batch', 4, 'height', 'width']);
  g.input('timestep', 'int64', [1]);
  g.input('encoder_hidden_states', 'float32', inputs.contextDims ?? ['batch', 77, 64]);
  g.op('Identity', [sample], {}, 'out_sample');
  g.output('out_sample', 'float32', ['batch', 4, 'height', 'width']);
  writeFileSync(path.join(dir, 'unet', 'model.onnx'), g.build().model);
}

const clip = syntheticClip(64, 64, 2);
const options = { seed: 7, steps: 4, cfg: 5, sampler: 'euler' as const, temperature: 0, denoise: 0.75, batchSize: 2, noisePerFrame: false };

/** Encode, sample two steps' worth and return the latents, for comparing variants. */
async function sampleWith(dir: string): Promise<Float32Array[]> {
  const { model, clip: text, vae } = await loadModel(dir, 'cpu');
  const positive = await encodePrompt(text, 'a red door');
  const latent = await encodeImages(vae, clip, 2);
  return (await sampleLatents(model, positive, undefined, latent, options)).frames as Float32Array[];
}

function maxDifference(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let max = 0;
  a.forEach((frame, f) => frame.forEach((v, i) => (max = Math.max(max, Math.abs(v - b[f][i])))));
  return max;
}

describe('model folders', () => {
  const base = demoModel();

  it('finds model folders and reads their parts, configs and signatures', async () => {
    expect(listModelFolders(path.dirname(base))).toEqual(['demo']);
    const loaded = await loadModel(base, 'cpu');
    expect(loaded.provider).toBe('cpu');
    expect(loaded.model.unet).toEqual({ floatType: 'float32', timestepType: 'int64', timestepShape: 'one', contextDim: 64, timestepCondDim: undefined });
    expect(loaded.vae).toMatchObject({ scalingFactor: 8, downFactor: 4, latentChannels: 4, encoder: { output: 'latent_sample' } });
    expect(loaded.clip.signature).toEqual({ idsType: 'int32', floatType: 'float32', hiddenSize: 64 });
  });

  it('names the missing file', async () => {
    const dir = demoModel();
    rmSync(path.join(dir, 'vae_decoder', 'model.onnx'));
    await expect(loadModel(dir, 'cpu')).rejects.toThrow(/model folder "demo": missing vae_decoder\/model\.onnx — a diffusers\/optimum/);
  });

  it('names the file, the expected input and the inputs found', async () => {
    const dir = demoModel();
    writeUNet(dir, { sample: 'latents' });
    await expect(loadModel(dir, 'cpu')).rejects.toThrow(
      'demo/unet/model.onnx: expected an input named "sample", found inputs: latents, timestep, encoder_hidden_states',
    );
  });

  it('names the expected and the found rank', async () => {
    const dir = demoModel();
    writeUNet(dir, { contextDims: ['batch', 77] });
    await expect(loadModel(dir, 'cpu')).rejects.toThrow(
      'demo/unet/model.onnx: input "encoder_hidden_states" expected float32 or float16 with shape [batch, 77, hidden (768 or 1024)], found float32 [batch, 77] (rank 2)',
    );
  });

  it('refuses a text encoder whose width does not match the UNet', async () => {
    const dir = demoModel();
    writeUNet(dir, { contextDims: ['batch', 77, 768] });
    await expect(loadModel(dir, 'cpu')).rejects.toThrow(/outputs 64-wide hidden states but unet\/model\.onnx expects encoder_hidden_states of width 768/);
  });

  it.each(['weights.pb', 'model.onnx_data'] as const)('loads a UNet whose weights are in %s, from its path', async (location) => {
    const dir = demoModel({ unetExternalData: location });
    const graph = path.join(dir, 'unet', 'model.onnx');
    const moved = statSync(path.join(base, 'unet', 'model.onnx')).size - statSync(graph).size;
    expect(moved).toBeGreaterThan(0.9 * statSync(path.join(dir, 'unet', location)).size);
    // The graph alone, away from its weights file, cannot load: the weights really are external.
    const alone = path.join(mkdtempSync(path.join(tmpdir(), 'limelight-alone-')), 'model.onnx');
    copyFileSync(graph, alone);
    await expect(createSession(alone, 'cpu')).rejects.toThrow(new RegExp(location.replace('.', '\\.')));
    expect(maxDifference(await sampleWith(dir), await sampleWith(base))).toBe(0);
  });

  const timestepVariants: DemoModelVariant[] = [
    { timestepType: 'float32', timestepShape: 'one' },
    { timestepType: 'float32', timestepShape: 'batch' },
    { timestepType: 'int64', timestepShape: 'batch' },
    { timestepType: 'int64', timestepShape: 'scalar' },
  ];
  it.each(timestepVariants)('runs a UNet taking timestep as $timestepType ($timestepShape)', async (variant) => {
    const dir = demoModel(variant);
    const { model } = await loadModel(dir, 'cpu');
    expect(model.unet).toMatchObject(variant);
    expect(maxDifference(await sampleWith(dir), await sampleWith(base))).toBe(0);
  });

  it('runs an fp16 export with float16 tensors in and out', async () => {
    const dir = demoModel({ floatType: 'float16', timestepType: 'float16' });
    const { model, clip: text, vae } = await loadModel(dir, 'cpu');
    expect([model.unet.floatType, text.signature.floatType, vae.decoder.floatType, vae.encoder?.floatType]).toEqual(['float16', 'float16', 'float16', 'float16']);
    const half = await sampleWith(dir);
    const full = await sampleWith(base);
    const scale = Math.max(...full.flatMap((f) => Array.from(f, Math.abs)));
    expect(maxDifference(half, full)).toBeLessThan(0.02 * scale);
  });

  it('takes the mean of an 8-channel (mean ‖ logvar) VAE encoder output and int64 input_ids', async () => {
    const dir = demoModel({ vaeEncoderOutput: 'latent_parameters', inputIdsType: 'int64' });
    const { vae, clip: text } = await loadModel(dir, 'cpu');
    expect(vae.encoder?.output).toBe('latent_parameters');
    expect(text.signature.idsType).toBe('int64');
    const reference = await loadModel(base, 'cpu');
    const [a, b] = [await encodeImages(vae, clip, 2), await encodeImages(reference.vae, clip, 2)];
    expect(a.channels).toBe(4);
    expect(maxDifference(a.frames, b.frames)).toBe(0);
    expect(maxDifference([(await encodePrompt(text, 'blue sky')).embeddings], [(await encodePrompt(reference.clip, 'blue sky')).embeddings])).toBe(0);
  });

  it.skipIf(cudaProviderInstalled())('falls back to CPU with a warning when CUDA cannot load', async () => {
    const loaded = await loadModel(base, 'cuda');
    expect(loaded.provider).toBe('cpu');
    expect(loaded.warnings[0]).toMatch(/^the cuda provider could not load \(.+\); running on CPU$/);
  });

  it('inspect-model prints the parts, their I/O and what was detected', async () => {
    const { text } = await inspectModel(demoModel({ unetExternalData: 'weights.pb', timestepType: 'float32', timestepShape: 'batch' }), 'cpu');
    expect(text).toContain('unet/model.onnx  (config.json');
    expect(text).toContain('weights.pb');
    expect(text).toContain('inputs:  sample float32 [batch, 4, height, width]; timestep float32 [batch]; encoder_hidden_states float32 [batch, sequence, 64]');
    expect(text).toContain('timestep: float32, shape [batch]');
    expect(text).toContain('vae: down-factor 4, scaling_factor 8, latent channels 4, encoder output latent_sample');
    expect(text).toContain('scheduler: scaled_linear β 0.00085–0.012 over 1000, epsilon, leading spacing, steps_offset 1');
    expect(text).toContain('latent sides: multiples of 8 (assumed: config.json names no down_block_types); images are padded to multiples of 32 px and cropped back');
  });
});
