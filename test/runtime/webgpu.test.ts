// The GPU-provider code path, exercised with onnxruntime's WebGPU provider on whatever Vulkan device the
// machine has (on CPU-only machines: Mesa's lavapipe from Debian bookworm-backports).
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../server/runtime/model-folder.ts';
import { sampleLatents } from '../../server/runtime/sampling.ts';
import { encodePrompt } from '../../server/runtime/text-encoding.ts';
import { encodeImages } from '../../server/runtime/vae.ts';
import { demoModel, syntheticClip } from '../helpers/runtime-fixtures.ts';

const ICD_FOLDERS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
const vulkanDriver =
  process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? ICD_FOLDERS.find((dir) => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json')));
const skipReason = vulkanDriver ? '' : ' — skipped: no Vulkan driver (install libvulkan1 and mesa-vulkan-drivers from bookworm-backports)';

describe(`WebGPU provider${skipReason}`, () => {
  it.skipIf(!vulkanDriver)('runs the demo model on webgpu with the CPU\'s results', { timeout: 120_000 }, async () => {
    const dir = demoModel();
    const clip = syntheticClip(64, 64, 2);
    const options = { seed: 3, steps: 4, cfg: 5, sampler: 'euler' as const, temperature: 0, denoise: 0.5, batchSize: 2, noisePerFrame: false };
    const results = [];
    for (const device of ['webgpu', 'cpu'] as const) {
      const { model, clip: text, vae, provider, warnings } = await loadModel(dir, device);
      expect({ provider, warnings }).toEqual({ provider: device, warnings: [] });
      const latent = await encodeImages(vae, clip, 2);
      results.push((await sampleLatents(model, await encodePrompt(text, 'a red door'), undefined, latent, options)).frames);
    }
    const [gpu, cpu] = results;
    let worst = 0;
    gpu.forEach((frame, f) => frame.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - cpu[f][i])))));
    expect(worst).toBeLessThan(1e-3);
  });
});
