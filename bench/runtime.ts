// Sampler overhead on the demo model: the Sampler node's wall time for a clip ÷ the summed time of the
// same UNet calls run back to back with nothing in between (measured side by side in one process), and
// within one sampling run, its wall time ÷ the time spent inside its own session.run calls.
// Runs on the sample clip (512², the first `frames` frames). Usage: npx tsx bench/runtime.ts [frames=16]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import Sampler from '../nodes/Sampler.ts';
import { ensureDemoModel } from '../server/onnx/demo-model.ts';
import { loadModel } from '../server/runtime/model-folder.ts';
import { planSampling } from '../server/runtime/samplers.ts';
import { sampleLatents } from '../server/runtime/sampling.ts';
import { sessions } from '../server/runtime/sessions.ts';
import { floatTensor, timestepTensor } from '../server/runtime/tensors.ts';
import { encodePrompt } from '../server/runtime/text-encoding.ts';
import { encodeImages, decodeLatents } from '../server/runtime/vae.ts';
import { makeContext } from '../test/helpers/context.ts';
import { sampleClipFrames } from '../test/runtime/fixtures.ts';

const frames = Number(process.argv[2] ?? 16);
const settings = { seed: 1, steps: 20, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.5, batch_size: 4, noise_per_frame: false } as const;

const dir = ensureDemoModel(mkdtempSync(path.join(tmpdir(), 'limelight-bench-')));
const { model, clip, vae, provider } = await loadModel(dir, 'cpu');
const positive = await encodePrompt(clip, 'a red door in golden light');
const images = await sampleClipFrames(frames);

const encodeStart = performance.now();
const latent = await encodeImages(vae, images, 4);
const encodeMs = performance.now() - encodeStart;

async function samplerWall(): Promise<number> {
  const begin = performance.now();
  await Sampler.execute({ model, positive, latent, ...settings } as never, makeContext());
  return performance.now() - begin;
}

/** One sampling run timed from outside and inside its session.run calls. */
async function instrumentedRun(): Promise<{ wall: number; inRun: number }> {
  let inRun = 0;
  const begin = performance.now();
  const options = { ...settings, batchSize: settings.batch_size, noisePerFrame: settings.noise_per_frame };
  await sampleLatents(model, positive, undefined, latent, options, { onRun: (ms) => (inRun += ms) });
  return { wall: performance.now() - begin, inRun };
}

/** The same UNet calls (shapes, feeds) with nothing between them. */
async function rawRuns(): Promise<number> {
  const plan = planSampling(model.scheduler, settings);
  const lease = await sessions.acquire(model.unetFile, model.device);
  const latentSize = latent.channels * latent.height * latent.width;
  let total = 0;
  try {
    for (let start = 0; start < frames; start += settings.batch_size) {
      const rows = 2 * Math.min(settings.batch_size, frames - start);
      const context = new Float32Array(rows * positive.embeddings.length);
      for (let r = 0; r < rows; r++) context.set(positive.embeddings, r * positive.embeddings.length);
      const feeds: Record<string, Tensor> = {
        sample: floatTensor(model.unet.floatType, new Float32Array(rows * latentSize).fill(0.5), [rows, latent.channels, latent.height, latent.width]),
        encoder_hidden_states: floatTensor(model.unet.floatType, context, [rows, positive.sequenceLength, positive.hiddenSize]),
      };
      for (const timestep of plan.timesteps) {
        feeds.timestep = timestepTensor(model.unet, timestep, rows);
        const begin = performance.now();
        await lease.session.run(feeds);
        total += performance.now() - begin;
      }
    }
  } finally {
    lease.release();
  }
  return total;
}

await samplerWall(); // warm-up: first runs allocate the session's buffers
// Interleaved rounds; the fastest of each is least disturbed by whatever else the machine runs.
const rounds = 5;
const walls: number[] = [];
const raws: number[] = [];
const inside: number[] = [];
for (let i = 0; i < rounds; i++) {
  walls.push(await samplerWall());
  raws.push(await rawRuns());
  const run = await instrumentedRun();
  inside.push(run.wall / run.inRun);
}
const wall = Math.min(...walls);
const raw = Math.min(...raws);
const decodeStart = performance.now();
await decodeLatents(vae, latent, 4);
const decodeMs = performance.now() - decodeStart;

console.log(`demo model, sample clip ${frames} frames ${images.width}×${images.height}, ${provider}, steps ${settings.steps} × denoise ${settings.denoise}, cfg ${settings.cfg}, batch ${settings.batch_size}`);
console.log(`Sampler wall ${wall.toFixed(0)} ms, raw session.run sum ${raw.toFixed(0)} ms (fastest of ${rounds}) → ratio ${(wall / raw).toFixed(3)} (target ≤ 1.10)`);
console.log(`within one run: wall ÷ its own session.run time ${Math.min(...inside).toFixed(3)} (best of ${rounds})`);
console.log(`Sampler ${((frames * 1000) / wall).toFixed(1)} frames/s; VAE encode ${encodeMs.toFixed(0)} ms, decode ${decodeMs.toFixed(0)} ms for ${frames} frames`);
