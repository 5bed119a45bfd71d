// The SDXL family on the generated SDXL demo model: folder detection and the errors for missing or
// wrong parts, prompt encoding (2048-wide context from both encoders' penultimate layers, the 1280-wide
// pooled projection, zeros for an empty prompt), the UNet's text_embeds and time_ids feeds, the VAE's
// scaling from its config, and a fixed seed giving identical output.
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import LoadModel from '../../nodes/LoadModel.ts';
import Sampler from '../../nodes/Sampler.ts';
import TextEncode from '../../nodes/TextEncode.ts';
import VAEDecode from '../../nodes/VAEDecode.ts';
import VAEEncode from '../../nodes/VAEEncode.ts';
import { DEMO_SDXL_MODEL_NAME, ensureDemoSdxlModel, SDXL_VAE_SCALING_FACTOR, writeDemoSdxlModel } from '../../server/demo/demo-sdxl.ts';
import { EMBEDDING } from '../../server/demo/demo-design.ts';
import { inspectModel } from '../../server/onnx/inspect.ts';
import { detectFamily, loadModel } from '../../server/runtime/model-folder.ts';
import { readFloats } from '../../server/runtime/tensors.ts';
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch, VaeModel } from '../../server/runtime/model-values.ts';
import { makeContext, makeFolders } from '../helpers/context.ts';
import { demoModel, syntheticClip } from '../helpers/runtime-fixtures.ts';
import { runNode } from '../helpers/run-node.ts';
import { watchUNetRuns } from '../helpers/unet-runs.ts';

const folders = { ...makeFolders(), models: mkdtempSync(path.join(tmpdir(), 'limelight-models-')) };
const modelDir = ensureDemoSdxlModel(folders.models);
const run = (node: Parameters<typeof runNode>[0], inputs: Record<string, unknown>) => runNode(node, inputs, makeContext({ folders }));
const [model, clip, vae] = (await run(LoadModel, { model: DEMO_SDXL_MODEL_NAME, device: 'cpu' })) as [DiffusionModel, ClipModel, VaeModel];
const encode = async (text: string) => (await run(TextEncode, { clip, text }))[0] as Conditioning;

/** A copy of the SDXL demo model to break. */
function sdxlCopy(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'limelight-sdxl-')), 'broken-sdxl');
  cpSync(modelDir, dir, { recursive: true });
  return dir;
}

describe('SDXL model folders', () => {
  it('detects the family from model_index.json, else from the parts present', () => {
    expect(detectFamily(modelDir)).toBe('sdxl');
    expect(detectFamily(demoModel())).toBe('sd');
    const bare = sdxlCopy();
    rmSync(path.join(bare, 'model_index.json'));
    expect(detectFamily(bare)).toBe('sdxl');
  });

  it('loads the parts: family on every value, both encoders, the UNet extras, the VAE scaling from its config', () => {
    expect([model.family, clip.family, vae.family]).toEqual(['sdxl', 'sdxl', 'sdxl']);
    expect(model.unet).toMatchObject({ contextDim: 2048, timestepType: 'float32', timestepShape: 'scalar' });
    expect(clip.signature).toMatchObject({ hiddenSize: 768, penultimateOutput: 'hidden_states.1' });
    expect(clip.second?.signature).toMatchObject({ hiddenSize: 1280, penultimateOutput: 'hidden_states.1', pooledWidth: 1280 });
    expect(path.basename(clip.second!.tokenizerDir)).toBe('tokenizer_2');
    expect(vae.scalingFactor).toBe(SDXL_VAE_SCALING_FACTOR);
  });

  it.each([
    ['text_encoder_2/model.onnx', /is an SDXL model but has no text_encoder_2\/model\.onnx — the second text encoder \(CLIP bigG with projection: outputs text_embeds and hidden_states\.\*\)/],
    ['tokenizer_2', /is an SDXL model but has no tokenizer_2\/ — the second text encoder's tokenizer/],
  ])('names the missing part %s and what it must contain', async (part, message) => {
    const dir = sdxlCopy();
    rmSync(path.join(dir, part), { recursive: true });
    await expect(loadModel(dir, 'cpu')).rejects.toThrow(message);
  });

  it('refuses a text_encoder_2 without hidden states or text_embeds, and a UNet without text_embeds/time_ids', async () => {
    const sd = demoModel();
    const noHidden = sdxlCopy();
    copyFileSync(path.join(sd, 'text_encoder', 'model.onnx'), path.join(noHidden, 'text_encoder_2', 'model.onnx'));
    await expect(loadModel(noHidden, 'cpu')).rejects.toThrow(/text_encoder_2\/model\.onnx: an SDXL text encoder must output its hidden states \(hidden_states\.0 … hidden_states\.L\)/);
    const noProjection = sdxlCopy();
    copyFileSync(path.join(noProjection, 'text_encoder', 'model.onnx'), path.join(noProjection, 'text_encoder_2', 'model.onnx'));
    await expect(loadModel(noProjection, 'cpu')).rejects.toThrow(/text_encoder_2\/model\.onnx: SDXL's second text encoder must output text_embeds/);
    const sdUNet = sdxlCopy();
    copyFileSync(path.join(sd, 'unet', 'model.onnx'), path.join(sdUNet, 'unet', 'model.onnx'));
    await expect(loadModel(sdUNet, 'cpu')).rejects.toThrow(/unet\/model\.onnx: an SDXL UNet takes text_embeds and time_ids; found inputs sample, timestep, encoder_hidden_states/);
  });

  it('inspect-model reports the family, both text encoders and the attention layers found', async () => {
    const { text, crossAttentionFound } = await inspectModel(modelDir, 'cpu');
    expect(crossAttentionFound).toBe(true);
    expect(text).toContain('family: SDXL');
    expect(text).toMatch(/ {2}text_encoder_2\/model\.onnx .*\n {4}inputs: {2}input_ids int32.*\n {4}outputs: .*text_embeds float32 \[batch, 1280\]/);
    expect(text).toMatch(/unet\/model\.onnx .*\n {4}inputs: .*text_embeds float32 \[batch, 1280\]; time_ids float32 \[batch, 6\]/);
    expect(text).toContain('SDXL conditioning: hidden_states.1 (768) ‖ text_encoder_2 hidden_states.1 (1280); text_embeds 1280 wide; tokenizer_2 pad 0');
    expect(text).toContain('scaling_factor 0.13025');
    expect(text).toContain('cross-attention: 6 layers');
    expect(text.match(/transformer_blocks\.1\/attn2/g)).toHaveLength(3);
  });

  it('an SD folder with an SDXL UNet says what the UNet takes', async () => {
    const dir = demoModel();
    copyFileSync(path.join(modelDir, 'unet', 'model.onnx'), path.join(dir, 'unet', 'model.onnx'));
    await expect(loadModel(dir, 'cpu')).rejects.toThrow(/unexpected inputs text_embeds, time_ids/);
  });
});

describe('SDXL prompt encoding', () => {
  it('concatenates both penultimate layers (77 × 2048) and keeps the second encoder’s pooled projection (1280)', async () => {
    const prompt = await encode('a red wall');
    expect([prompt.sequenceLength, prompt.hiddenSize, prompt.embeddings.length, prompt.pooled?.length]).toEqual([77, 2048, 77 * 2048, 1280]);
    // Token 0 (BOS) carries the sink mark in both encoders' halves, positive: the penultimate layer, not the negated last one.
    expect([prompt.embeddings[EMBEDDING.sink], prompt.embeddings[768 + EMBEDDING.sink]]).toEqual([1, 1]);
    // The padding: tokenizer/ pads with EOS, tokenizer_2/ with "!" (id 0, a plain word token).
    const last = 76 * 2048;
    expect([prompt.embeddings[last + EMBEDDING.end], prompt.embeddings[last + 768 + EMBEDDING.word]]).toEqual([1, 1]);
    expect(prompt.pooled![EMBEDDING.end]).toBe(1);
    expect(prompt.words.map((w) => [w.word, w.positions])).toEqual([['a', [1]], ['red', [2]], ['wall', [3]]]);
  });

  it('an empty prompt (and the unconditional half without a negative) is zeros, embeddings and pooled', async () => {
    const empty = await encode('  ');
    expect([empty.hiddenSize, empty.pooled?.length]).toEqual([2048, 1280]);
    for (const values of [empty.embeddings, empty.pooled!, empty.emptyPrompt, empty.emptyPooled!, (await encode('red')).emptyPrompt]) {
      expect(values.every((v) => v === 0)).toBe(true);
    }
  });
});

describe('SDXL sampling', () => {
  const image = syntheticClip(48, 40, 2);
  const latentOf = async () => (await run(VAEEncode, { vae, image }))[0] as LatentBatch;
  const settings = { seed: 5, steps: 2, cfg: 6, sampler: 'euler', temperature: 0, denoise: 0.6, batch_size: 2, noise_per_frame: false };

  it('feeds text_embeds per row (zeros for the unconditional rows) and time_ids [orig h, w, 0, 0, target h, w] in pixels', async () => {
    const latent = await latentOf();
    expect(latent.padding).toMatchObject({ imageWidth: 48, imageHeight: 40 });
    const positive = await encode('a red wall');
    const runs = watchUNetRuns(model.unetFile);
    try {
      await run(Sampler, { ...settings, model, positive, latent });
    } finally {
      runs.stop();
    }
    expect(runs.feeds.length).toBeGreaterThan(0);
    const feeds = runs.feeds[0] as Record<string, Tensor>;
    expect(feeds.text_embeds.dims).toEqual([4, 1280]);
    const pooled = readFloats(feeds.text_embeds);
    expect(pooled.subarray(0, 2 * 1280).every((v) => v === 0)).toBe(true);
    expect(Array.from(pooled.subarray(2 * 1280, 3 * 1280))).toEqual(Array.from(positive.pooled!));
    expect(feeds.time_ids.dims).toEqual([4, 6]);
    const [height, width] = [latent.height * vae.downFactor, latent.width * vae.downFactor];
    expect(Array.from(readFloats(feeds.time_ids).subarray(0, 6))).toEqual([40, 48, 0, 0, height, width]);
    expect(feeds.timestep.dims).toEqual([]);
  });

  it('without guidance (cfg 1, as SDXL-Turbo runs) feeds only the conditional rows', async () => {
    const positive = await encode('a red wall');
    const runs = watchUNetRuns(model.unetFile);
    try {
      await run(Sampler, { ...settings, cfg: 1, model, positive, latent: await latentOf() });
    } finally {
      runs.stop();
    }
    const feeds = runs.feeds[0] as Record<string, Tensor>;
    expect([feeds.text_embeds.dims, feeds.time_ids.dims, feeds.encoder_hidden_states.dims]).toEqual([[2, 1280], [2, 6], [2, 77, 2048]]);
    expect(Array.from(readFloats(feeds.text_embeds).subarray(1280))).toEqual(Array.from(positive.pooled!));
  });

  it('the UNet uses the pooled prompt and time_ids: a colour prompt recolours, a fixed seed repeats bit for bit', async () => {
    const latent = await latentOf();
    const sample = async (text: string) => ((await run(Sampler, { ...settings, model, positive: await encode(text), latent }))[0] as LatentBatch).frames;
    const [a, b, plain] = [await sample('a red wall'), await sample('a red wall'), await sample('a wall')];
    expect(a.map((f) => Array.from(f))).toEqual(b.map((f) => Array.from(f)));
    const change = a[0].reduce((s, v, i) => s + Math.abs(v - plain[0][i]), 0) / a[0].length;
    expect(change).toBeGreaterThan(0.05);
  });

  it('frames in batches equal frames in one pass; a 48×40 clip comes back 48×40', async () => {
    const latent = await latentOf();
    const positive = await encode('a red wall');
    const sample = async (batch: number) => ((await run(Sampler, { ...settings, batch_size: batch, model, positive, latent }))[0] as LatentBatch);
    const [one, two] = [await sample(1), await sample(2)];
    const most = one.frames.reduce((m, f, i) => Math.max(m, ...f.map((v, j) => Math.abs(v - two.frames[i][j]))), 0);
    expect(most).toBeLessThan(1e-5);
    const decoded = (await run(VAEDecode, { vae, samples: two }))[0] as { width: number; height: number; frames: Uint8Array[] };
    expect([decoded.width, decoded.height, decoded.frames.length]).toEqual([48, 40, 2]);
  });

  it('an fp16 export (as GPU exports are) takes float16 text_embeds and time_ids and samples like fp32', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'limelight-sdxl-fp16-')), 'sdxl-fp16');
    writeDemoSdxlModel(dir, 'float16');
    const half = await loadModel(dir, 'cpu');
    expect([half.model.unet.floatType, half.clip.signature.floatType, half.clip.second?.signature.floatType]).toEqual(['float16', 'float16', 'float16']);
    const latent = await latentOf();
    const sample = async (m: DiffusionModel, c: ClipModel) =>
      ((await runNode(Sampler, { ...settings, model: m, positive: (await runNode(TextEncode, { clip: c, text: 'a red wall' }))[0], latent }))[0] as LatentBatch).frames[0];
    const [full, reduced] = [await sample(model, clip), await sample(half.model, half.clip)];
    const scale = full.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const most = full.reduce((m, v, i) => Math.max(m, Math.abs(v - reduced[i])), 0);
    expect(most / scale).toBeLessThan(0.01);
  });

  it('refuses SD conditioning on an SDXL model before sampling', async () => {
    const sdFolders = { ...folders, models: path.dirname(demoModel()) };
    const [, sdClip] = (await runNode(LoadModel, { model: 'demo', device: 'cpu' }, makeContext({ folders: sdFolders }))) as [DiffusionModel, ClipModel];
    const sdPrompt = (await runNode(TextEncode, { clip: sdClip, text: 'red' }))[0] as Conditioning;
    await expect(run(Sampler, { ...settings, model, positive: sdPrompt, latent: await latentOf() })).rejects.toThrow(/positive conditioning is 64 wide but .*expects 2048/);
  });
});

it('writes the same bytes every time', () => {
  const [a, b] = [0, 1].map(() => path.join(mkdtempSync(path.join(tmpdir(), 'limelight-sdxl-bytes-')), 'm'));
  writeDemoSdxlModel(a);
  writeDemoSdxlModel(b);
  for (const part of ['unet', 'text_encoder', 'text_encoder_2', 'vae_decoder']) {
    const read = (dir: string) => readFileSync(path.join(dir, part, 'model.onnx'));
    expect(read(a).equals(read(b)), part).toBe(true);
  }
});
