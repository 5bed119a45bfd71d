// SD3 prompt → CONDITIONING (diffusers StableDiffusion3Pipeline.encode_prompt): both CLIPs' penultimate
// hidden states side by side (768 + 1280 = 2048), zero-padded to the context width (4096), then T5's
// 256 tokens appended on the sequence (77 + 256 = 333; zeros without T5); pooled = both CLIPs'
// text_embeds side by side (2048). The empty prompt is encoded the same way (the negative default).
import { sessions, type Device } from '../sessions.ts';
import { integerTensor, readFloats } from '../tensors.ts';
import { tokenizerFor } from '../tokenizer.ts';
import type { WordTokens } from '../tokenizer.ts';
import type { ClipModel, Conditioning } from '../model-values.ts';
import type { Sd3TextEncoders } from './sd3-values.ts';
import { T5Tokenizer } from './t5-tokenizer.ts';

const t5Tokenizers = new Map<string, T5Tokenizer>();

function t5TokenizerFor(dir: string): T5Tokenizer {
  let tokenizer = t5Tokenizers.get(dir);
  if (!tokenizer) {
    tokenizer = T5Tokenizer.load(dir);
    t5Tokenizers.set(dir, tokenizer);
  }
  return tokenizer;
}

interface EncoderOutput {
  /** [2, length, width]: the prompt's row, then the empty prompt's. */
  values: Float32Array;
  width: number;
}

/** Runs one text encoder on the prompt's and the empty prompt's ids together; returns the named outputs. */
async function runEncoder(file: string, device: Device, idsType: 'int32' | 'int64', prompt: Int32Array, empty: Int32Array, outputs: readonly string[]): Promise<EncoderOutput[]> {
  const length = prompt.length;
  const ids = new Int32Array(2 * length);
  ids.set(prompt, 0);
  ids.set(empty, length);
  const lease = await sessions.acquire(file, device);
  try {
    // Only the outputs used: an optimum CLIP also returns every layer's hidden states.
    const result = await lease.session.run({ input_ids: integerTensor(idsType, ids, [2, length]) }, [...outputs]);
    return outputs.map((name) => {
      const tensor = result[name];
      return { values: readFloats(tensor), width: Number(tensor.dims[tensor.dims.length - 1]) };
    });
  } finally {
    lease.release();
  }
}

/** Row r (0 = prompt, 1 = empty) of a [2, length, width] output written into `out` ([length, stride]) at column `column`. */
function placeRows(out: Float32Array, stride: number, firstRow: number, column: number, source: EncoderOutput, row: number, length: number): void {
  for (let t = 0; t < length; t++) {
    const from = (row * length + t) * source.width;
    out.set(source.values.subarray(from, from + source.width), (firstRow + t) * stride + column);
  }
}

/** CLIP word positions plus the same word's T5 columns (77 + k), so a `words` gate covers both. */
function mergeWords(clipWords: readonly WordTokens[], t5Words: readonly WordTokens[], t5Offset: number): WordTokens[] {
  let next = 0;
  return clipWords.map(({ word, positions }) => {
    const index = t5Words.findIndex((w, i) => i >= next && w.word === word);
    if (index < 0) return { word, positions };
    next = index + 1;
    return { word, positions: [...positions, ...t5Words[index].positions.map((p) => t5Offset + p)] };
  });
}

export async function encodeSd3Prompt(clip: ClipModel, encoders: Sd3TextEncoders, text: string): Promise<Conditioning> {
  const { contextDim, t5Length, clipG, t5 } = encoders;
  const tokenizerL = tokenizerFor(clip.tokenizerDir);
  const tokenizerG = tokenizerFor(clipG.tokenizerDir);
  const [promptL, emptyL] = [tokenizerL.encode(text), tokenizerL.encode('')];
  const [promptG, emptyG] = [tokenizerG.encode(text), tokenizerG.encode('')];
  const [hiddenL, pooledL] = await runEncoder(clip.textEncoderFile, clip.device, clip.signature.idsType, promptL.ids, emptyL.ids, [encoders.clipLHiddenOutput, 'text_embeds']);
  const [hiddenG, pooledG] = await runEncoder(clipG.file, clip.device, clipG.idsType, promptG.ids, emptyG.ids, [clipG.hiddenOutput, 'text_embeds']);
  const clipLength = promptL.ids.length;
  const t5Tokenizer = t5 ? t5TokenizerFor(t5.tokenizerDir) : undefined;
  const t5Prompt = t5Tokenizer?.encode(text, t5Length);
  const [hiddenT5] = t5 && t5Tokenizer && t5Prompt ? await runEncoder(t5.file, clip.device, t5.idsType, t5Prompt.ids, t5Tokenizer.encode('', t5Length).ids, [t5.hiddenOutput]) : [];

  const sequenceLength = clipLength + t5Length;
  const pooledDim = pooledL.width + pooledG.width;
  const rows = [0, 1].map((row) => {
    const embeddings = new Float32Array(sequenceLength * contextDim);
    placeRows(embeddings, contextDim, 0, 0, hiddenL, row, clipLength);
    placeRows(embeddings, contextDim, 0, hiddenL.width, hiddenG, row, clipLength);
    if (hiddenT5) placeRows(embeddings, contextDim, clipLength, 0, hiddenT5, row, t5Length);
    const pooled = new Float32Array(pooledDim);
    pooled.set(pooledL.values.subarray(row * pooledL.width, (row + 1) * pooledL.width), 0);
    pooled.set(pooledG.values.subarray(row * pooledG.width, (row + 1) * pooledG.width), pooledL.width);
    return { embeddings, pooled };
  });
  return {
    text,
    ids: promptL.ids,
    words: t5Prompt ? mergeWords(promptL.words, t5Prompt.words, clipLength) : promptL.words,
    truncated: promptL.truncated,
    sequenceLength,
    hiddenSize: contextDim,
    embeddings: rows[0].embeddings,
    emptyPrompt: rows[1].embeddings,
    pooled: rows[0].pooled,
    emptyPooled: rows[1].pooled,
  };
}
