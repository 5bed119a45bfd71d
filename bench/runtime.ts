// Sampler overhead on the demo model: the Sampler node's wall time for a clip ÷ the summed time of the
// same UNet calls with nothing else timed (same shapes and prompt rows; inputs are the clip's latents
// noised to each step's σ, real data rather than a constant, which some kernels run faster), measured side
// by side in one process; and, within one sampling run, its wall time ÷ the time inside its own
// session.run calls. On the sample clip (512², the first `frames` frames). Alone: npx tsx bench/runtime.ts [frames=16]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Sampler from '../nodes/Sampler.ts';
import { ensureDemoModel } from '../server/demo/demo-model.ts';
import { loadModel } from '../server/runtime/model-folder.ts';
import { gaussianNoise } from '../server/runtime/noise.ts';
import { inputScale, planSampling } from '../server/runtime/samplers.ts';
import { sampleLatents } from '../server/runtime/sampling.ts';
import { sessions } from '../server/runtime/sessions.ts';
import { encodePrompt } from '../server/runtime/text-encoding.ts';
import type { Conditioning, DiffusionModel, LatentBatch } from '../server/runtime/model-values.ts';
import { isGuided, promptFeeds, stepFeeds, unconditionalOf } from '../server/runtime/unet-feeds.ts';
import { decodeLatents, encodeImages } from '../server/runtime/vae.ts';
import { sampleClipFrames } from '../test/helpers/runtime-fixtures.ts';
import { isMain, printTable, type BenchRow } from './report.ts';
import { runNode } from '../test/helpers/run-node.ts';

const SETTINGS = { seed: 1, steps: 20, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.5, batch_size: 4, noise_per_frame: false } as const;
const ROUNDS = 7;

interface Setup {
  model: DiffusionModel;
  positive: Conditioning;
  latent: LatentBatch;
}

async function samplerWall({ model, positive, latent }: Setup): Promise<number> {
  const begin = performance.now();
  await runNode(Sampler, { model, positive, latent, ...SETTINGS });
  return performance.now() - begin;
}

/** One sampling run timed from outside and inside its session.run calls: wall ÷ in-run. */
async function ownRunRatio({ model, positive, latent }: Setup): Promise<number> {
  let inRun = 0;
  const options = { ...SETTINGS, batchSize: SETTINGS.batch_size, noisePerFrame: SETTINGS.noise_per_frame };
  const begin = performance.now();
  await sampleLatents(model, positive, undefined, latent, options, { onRun: (ms) => (inRun += ms) });
  return (performance.now() - begin) / inRun;
}

/**
 * The Sampler's UNet calls alone, fed by the Sampler's own feed builders: per batch and step, the CFG rows
 * (empty prompt, then the prompt) and the batch's latents noised to that step's σ and scaled as the UNet
 * sees them. Only session.run is timed.
 */
async function rawRuns({ model, positive, latent }: Setup): Promise<number> {
  const plan = planSampling(model.scheduler, SETTINGS);
  const size = latent.channels * latent.height * latent.width;
  const noise = gaussianNoise(SETTINGS.seed, 0, size);
  const lease = await sessions.acquire(model.unetFile, model.device);
  let total = 0;
  try {
    for (let start = 0; start < latent.frames.length; start += SETTINGS.batch_size) {
      const frames = latent.frames.slice(start, start + SETTINGS.batch_size);
      const rows = (isGuided(model, SETTINGS.cfg) ? 2 : 1) * frames.length;
      const feeds = promptFeeds(model, positive, unconditionalOf(positive, undefined), frames.length, SETTINGS.cfg, latent);
      const sample = new Float32Array(rows * size);
      for (const [step, timestep] of plan.timesteps.entries()) {
        const sigma = plan.sigmas[step];
        const scale = inputScale(sigma);
        for (let r = 0; r < rows; r++) {
          const source = frames[r % frames.length];
          for (let j = 0; j < size; j++) sample[r * size + j] = (source[j] + sigma * noise[j]) * scale;
        }
        Object.assign(feeds, stepFeeds(model, sample, [rows, latent.channels, latent.height, latent.width], timestep));
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

export async function run(frames = 16): Promise<BenchRow[]> {
  const dir = ensureDemoModel(mkdtempSync(path.join(tmpdir(), 'limelight-bench-')));
  const { model, clip, vae } = await loadModel(dir, 'cpu');
  const positive = await encodePrompt(clip, 'a red door in golden light');
  const images = await sampleClipFrames(frames);
  const latent = await encodeImages(vae, images, 4);
  await decodeLatents(vae, latent, 4); // both VAE sessions are created before they are timed
  const encodeStart = performance.now();
  await encodeImages(vae, images, 4);
  const encodeMs = performance.now() - encodeStart;
  const decodeStart = performance.now();
  await decodeLatents(vae, latent, 4);
  const decodeMs = performance.now() - decodeStart;

  const setup = { model, positive, latent };
  await samplerWall(setup); // warm-up: the first runs allocate the session's buffers
  // Interleaved rounds; the fastest of each is the least disturbed by whatever else the machine runs.
  const walls: number[] = [];
  const raws: number[] = [];
  const own: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    walls.push(await samplerWall(setup));
    raws.push(await rawRuns(setup));
    own.push(await ownRunRatio(setup));
  }
  const wall = Math.min(...walls);
  const label = `${frames} frames ${images.width}×${images.height}, ${SETTINGS.steps} steps × denoise ${SETTINGS.denoise}, cfg ${SETTINGS.cfg}, batch ${SETTINGS.batch_size}`;
  return [
    { bench: 'runtime', metric: `Sampler wall ÷ raw session.run sum, ${label} (fastest of ${ROUNDS})`, value: wall / Math.min(...raws), unit: '', target: '≤ 1.10' },
    { bench: 'runtime', metric: `within one Sampler run: wall ÷ its own session.run time (best of ${ROUNDS})`, value: Math.min(...own), unit: '', target: '' },
    { bench: 'runtime', metric: `Sampler throughput, ${frames} frames`, value: (frames * 1000) / wall, unit: 'frames/s', target: '' },
    { bench: 'runtime', metric: `VAE encode, ${frames} frames`, value: encodeMs, unit: 'ms', target: '' },
    { bench: 'runtime', metric: `VAE decode, ${frames} frames`, value: decodeMs, unit: 'ms', target: '' },
  ];
}

if (isMain(import.meta)) printTable(await run(Number(process.argv[2] ?? 16)));
