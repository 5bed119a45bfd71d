// SD3 model folders: family detection, clear errors for missing or wrong parts, the prompt encoding's
// layout (CLIP-L | CLIP-G | zeros on the features, then T5 or zeros on the sequence; pooled = both
// text_embeds), T5 tokens and word positions with an optional text_encoder_3, and the VAE's shift.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { writeDemoModel } from '../../server/demo/demo-model.ts';
import { SD3_DEMO_WIDTHS, writeSd3DemoModel } from '../../server/demo/demo-sd3.ts';
import { SD3_DEMO_VAE } from '../../server/demo/demo-sd3-parts.ts';
import { GraphBuilder } from '../../server/onnx/graph-builder.ts';
import { detectFamily, loadModel } from '../../server/runtime/model-folder.ts';
import { encodePrompt } from '../../server/runtime/text-encoding.ts';
import { decodeLatents, encodeImages } from '../../server/runtime/vae.ts';
import { syntheticClip } from '../helpers/runtime-fixtures.ts';

const root = mkdtempSync(path.join(tmpdir(), 'limelight-sd3-folder-'));
const sd3 = path.join(root, 'sd3');
writeSd3DemoModel(sd3);

/** A copy of the SD3 demo with `edit` applied. */
function variant(name: string, edit: (dir: string) => void): string {
  const dir = path.join(root, name);
  cpSync(sd3, dir, { recursive: true });
  edit(dir);
  return dir;
}

const T5_VOCAB: [string, number][] = [['<pad>', 0], ['</s>', 0], ['<unk>', 0], ['▁', -5], ['▁a', -2], ['▁red', -3], ['▁wall', -3], ['▁blue', -3], ['▁sky', -3]];

/** tokenizer_3 (a SentencePiece Unigram tokenizer.json) and text_encoder_3 (row id of its table: id + 1, then zeros). */
function addT5(dir: string): void {
  mkdirSync(path.join(dir, 'tokenizer_3'));
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  writeFileSync(
    path.join(dir, 'tokenizer_3', 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [special('<pad>', 0), special('</s>', 1), special('<unk>', 2)],
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      post_processor: null,
      decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      model: { type: 'Unigram', unk_id: 2, vocab: T5_VOCAB, byte_fallback: false },
    }),
  );
  writeFileSync(path.join(dir, 'tokenizer_3', 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>' }));
  const width = SD3_DEMO_WIDTHS.context;
  const g = new GraphBuilder('t5_fixture', 'float32');
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const table = new Float32Array(T5_VOCAB.length * width);
  T5_VOCAB.forEach((_, id) => (table[id * width] = id + 1));
  g.op('Gather', [g.weight('shared.weight', table, [T5_VOCAB.length, width]), ids], {}, 'last_hidden_state');
  g.output('last_hidden_state', 'float32', ['batch', 'sequence', width]);
  mkdirSync(path.join(dir, 'text_encoder_3'));
  writeFileSync(path.join(dir, 'text_encoder_3', 'model.onnx'), g.build().model);
}

describe('SD3 model folders', () => {
  it('detects the family from model_index.json, else from the parts', () => {
    const sd = path.join(root, 'sd');
    writeDemoModel(sd);
    expect([detectFamily(sd), detectFamily(sd3)]).toEqual(['sd', 'sd3']);
    const unnamed = variant('unnamed', (dir) => rmSync(path.join(dir, 'model_index.json')));
    expect(detectFamily(unnamed)).toBe('sd3');
    const xl = path.join(root, 'xl');
    mkdirSync(path.join(xl, 'unet'), { recursive: true });
    mkdirSync(path.join(xl, 'text_encoder_2'));
    expect(detectFamily(xl)).toBe('sdxl');
  });

  it('loads MODEL, CLIP and VAE with family sd3, the flow-matching config and the VAE shift', async () => {
    const { model, clip, vae } = await loadModel(sd3, 'cpu');
    expect([model.family, clip.family, vae.family]).toEqual(['sd3', 'sd3', 'sd3']);
    expect(model.flow).toEqual({ numTrainTimesteps: 1000, shift: 3 });
    expect([model.pooledDim, model.unet.contextDim, model.latentChannels, model.latentMultiple]).toEqual([2048, 4096, 16, 2]);
    expect([vae.scalingFactor, vae.shiftFactor, vae.downFactor]).toEqual([1.5305, 0.0609, 8]);
    expect(clip.sd3?.t5).toBeUndefined();
  });

  it.each([
    ['no text_encoder_2', (dir: string) => rmSync(path.join(dir, 'text_encoder_2'), { recursive: true }), /missing text_encoder_2\/model\.onnx — an SD3 export/],
    ['no transformer', (dir: string) => rmSync(path.join(dir, 'transformer', 'model.onnx')), /missing transformer\/model\.onnx/],
    ['no tokenizer_2', (dir: string) => rmSync(path.join(dir, 'tokenizer_2'), { recursive: true }), /missing tokenizer_2\/vocab\.json/],
    ['T5 without its tokenizer', (dir: string) => (addT5(dir), rmSync(path.join(dir, 'tokenizer_3'), { recursive: true })), /missing tokenizer_3\/tokenizer\.json/],
    [
      'a DDPM scheduler',
      (dir: string) => writeFileSync(path.join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify({ _class_name: 'EulerDiscreteScheduler' })),
      /names EulerDiscreteScheduler; SD3 samples with FlowMatchEulerDiscreteScheduler/,
    ],
  ])('refuses a folder with %s, naming what is missing', async (name, edit, message) => {
    await expect(loadModel(variant(name.replace(/\W+/g, '-'), edit), 'cpu')).rejects.toThrow(message);
  });

  it('encodes a prompt as [333, 4096]: CLIP-L | CLIP-G | zeros, then 256 zero T5 tokens; pooled = both text_embeds', async () => {
    const { clip } = await loadModel(sd3, 'cpu');
    const c = await encodePrompt(clip, 'a red wall');
    expect([c.sequenceLength, c.hiddenSize, c.embeddings.length, c.pooled?.length]).toEqual([333, 4096, 333 * 4096, 2048]);
    const { clipL, clipG } = SD3_DEMO_WIDTHS;
    const run = async (part: string, outputs: string[]) => {
      const session = await ort.InferenceSession.create(path.join(sd3, part, 'model.onnx'));
      const result = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(Array.from(c.ids, BigInt)), [1, 77]) });
      await session.release();
      return outputs.map((o) => result[o].data as Float32Array);
    };
    const [hiddenL, pooledL] = await run('text_encoder', ['hidden_states.0', 'text_embeds']);
    const [hiddenG, pooledG] = await run('text_encoder_2', ['hidden_states.0', 'text_embeds']);
    for (const t of [0, 2, 76]) {
      const row = c.embeddings.subarray(t * 4096, (t + 1) * 4096);
      expect(Array.from(row.subarray(0, clipL))).toEqual(Array.from(hiddenL.subarray(t * clipL, (t + 1) * clipL)));
      expect(Array.from(row.subarray(clipL, clipL + clipG))).toEqual(Array.from(hiddenG.subarray(t * clipG, (t + 1) * clipG)));
      expect(row.subarray(clipL + clipG).every((v) => v === 0)).toBe(true);
    }
    expect(c.embeddings.subarray(77 * 4096).every((v) => v === 0)).toBe(true);
    expect(Array.from(c.pooled!)).toEqual([...pooledL, ...pooledG]);
    // The negative default is "" encoded normally, not zeros.
    const empty = await encodePrompt(clip, '');
    expect(Array.from(c.emptyPrompt)).toEqual(Array.from(empty.embeddings));
    expect(Array.from(c.emptyPooled!)).toEqual(Array.from(empty.pooled!));
    expect(c.emptyPrompt.some((v) => v !== 0)).toBe(true);
  });

  it('with text_encoder_3, appends T5 (256 tokens, EOS, padding) and a word covers its CLIP and T5 columns', async () => {
    const { clip } = await loadModel(variant('with-t5', addT5), 'cpu');
    expect(clip.sd3?.t5?.hiddenOutput).toBe('last_hidden_state');
    const c = await encodePrompt(clip, 'a red wall');
    const t5Column = (k: number) => c.embeddings[(77 + k) * 4096];
    const id = (token: string) => T5_VOCAB.findIndex(([t]) => t === token);
    expect([0, 1, 2, 3, 255].map(t5Column)).toEqual([id('▁a') + 1, id('▁red') + 1, id('▁wall') + 1, 2, 1]);
    expect(c.words).toEqual([
      { word: 'a', positions: [1, 77] },
      { word: 'red', positions: [2, 78] },
      { word: 'wall', positions: [3, 79] },
    ]);
    expect(c.emptyPrompt[77 * 4096]).toBe(2); // "" is EOS, then padding
  });

  it("encodes and decodes with the VAE's shift: latent = (raw − shift)·scale, raw = latent/scale + shift", async () => {
    const { vae } = await loadModel(sd3, 'cpu');
    const image = syntheticClip(64, 64, 1);
    const latent = await encodeImages(vae, image, 1);
    const session = await ort.InferenceSession.create(vae.encoderFile!);
    const pixels = Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => image.frames[0][3 * (i % 4096) + Math.floor(i / 4096)] / 127.5 - 1);
    const raw = (await session.run({ sample: new ort.Tensor('float32', pixels, [1, 3, 64, 64]) })).latent_sample.data as Float32Array;
    await session.release();
    raw.forEach((r, i) => expect(latent.frames[0][i]).toBeCloseTo((r - SD3_DEMO_VAE.shiftFactor) * SD3_DEMO_VAE.scalingFactor, 5));
    const decoded = await decodeLatents(vae, latent, 1);
    const meanError = decoded.frames[0].reduce((s, v, i) => s + Math.abs(v - image.frames[0][i]), 0) / decoded.frames[0].length;
    expect(meanError).toBeLessThan(12);
  });
});
