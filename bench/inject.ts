// Attention injection cost on the demo model at 512² (the sample clip's first frames): the Sampler node's
// wall time with InjectCrossAttention (a half mask, weight 0.8; also one mask per frame) ÷ the same
// Sampler without it, interleaved in one process (fastest of each), and the time to build one frame's
// bias (FrameBias plus the bias tensors of every query resolution).
import { performance } from 'node:perf_hooks';
import type { NodeDefinition } from '../server/engine/node-contract.ts';
import InjectCrossAttention from '../nodes/InjectCrossAttention.ts';
import LoadModel from '../nodes/LoadModel.ts';
import Sampler from '../nodes/Sampler.ts';
import TextEncode from '../nodes/TextEncode.ts';
import VAEEncode from '../nodes/VAEEncode.ts';
import { biasTensor, FrameBias, tokenGate } from '../server/onnx/attention-bias.ts';
import { DEMO_MODEL_NAME, ensureDemoModel } from '../server/demo/demo-model.ts';
import { ensurePatchedModel } from '../server/onnx/patched-model.ts';
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch, VaeModel } from '../server/runtime/model-values.ts';
import { makeContext, makeFolders } from '../test/helpers/context.ts';
import { sampleClipFrames } from '../test/helpers/runtime-fixtures.ts';
import { isMain, printTable, type BenchRow } from './report.ts';
import type { MaskBatch } from '../server/masks/mask-batch.ts';
import { runNode } from '../test/helpers/run-node.ts';

const FRAMES = 8;
const ROUNDS = 7;
const WEIGHT = 0.8;
const BIAS_FRAMES = 64;
const settings = { seed: 1, steps: 20, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.5, batch_size: 4, noise_per_frame: false } as const;

export async function run(): Promise<BenchRow[]> {
  const folders = makeFolders();
  ensureDemoModel(folders.models);
  const ctx = () => makeContext({ folders });
  const node = (definition: NodeDefinition, inputs: Record<string, unknown>) => runNode(definition, inputs, ctx());

  const [model, clip, vae] = (await node(LoadModel, { model: DEMO_MODEL_NAME, device: 'cpu' })) as [DiffusionModel, ClipModel, VaeModel];
  const [positive] = (await node(TextEncode, { clip, text: 'a red door in golden light' })) as [Conditioning];
  const images = await sampleClipFrames(FRAMES);
  const [latent] = (await node(VAEEncode, { vae, image: images })) as [LatentBatch];
  const { width, height } = images;
  const mask: MaskBatch = { width, height, masks: [Float32Array.from({ length: width * height }, (_, i) => (i % width < width / 2 ? 1 : 0))] };
  const perFrame: MaskBatch = { width, height, masks: Array.from({ length: FRAMES }, () => Float32Array.from(mask.masks[0])) };
  // A fresh InjectCrossAttention output each time, so every Sampler run builds its biases as a first run does.
  const inject = async (masks: MaskBatch) => (await node(InjectCrossAttention, { model, mask: masks, weight: WEIGHT, words: '' }))[0] as DiffusionModel;
  const samplerMs = async (m: DiffusionModel) => {
    const begin = performance.now();
    await node(Sampler, { ...settings, model: m, positive, latent });
    return performance.now() - begin;
  };
  // Warm-up: sessions are created and their buffers allocated.
  for (const m of [model, await inject(mask), await inject(perFrame)]) await samplerMs(m);
  const plain: number[] = [];
  const oneMask: number[] = [];
  const maskPerFrame: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    plain.push(await samplerMs(model));
    oneMask.push(await samplerMs(await inject(mask)));
    maskPerFrame.push(await samplerMs(await inject(perFrame)));
  }

  const { biasInputs } = await ensurePatchedModel(model.unetFile, folders.temp);
  const injection = { mask: mask.masks[0], maskWidth: width, maskHeight: height, weight: WEIGHT, gate: tokenGate(positive.sequenceLength) };
  const biasMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const begin = performance.now();
    for (let f = 0; f < BIAS_FRAMES; f++) {
      const frame = new FrameBias(latent.width, latent.height, [injection], biasInputs.map((b) => b.divisor));
      for (const input of biasInputs) biasTensor(input, [frame], positive.sequenceLength);
    }
    biasMs.push((performance.now() - begin) / BIAS_FRAMES);
  }

  const plainMs = Math.min(...plain);
  const setup = `demo model, ${FRAMES} frames ${width}×${height}, ${settings.steps} steps × denoise ${settings.denoise}, batch ${settings.batch_size}`;
  return [
    { bench: 'inject', metric: `Sampler without injection, ${setup} (fastest of ${ROUNDS})`, value: plainMs, unit: 'ms', target: '' },
    { bench: 'inject', metric: `Sampler with InjectCrossAttention (one mask, w ${WEIGHT}) ÷ without`, value: Math.min(...oneMask) / plainMs, unit: '×', target: '≤ 1.03' },
    { bench: 'inject', metric: 'the same with one mask per frame ÷ without', value: Math.min(...maskPerFrame) / plainMs, unit: '×', target: '' },
    { bench: 'inject', metric: `bias build per frame (${new Set(biasInputs.map((b) => b.divisor)).size} query resolutions, fastest of ${ROUNDS})`, value: Math.min(...biasMs), unit: 'ms', target: '' },
  ];
}

if (isMain(import.meta)) printTable(await run());
