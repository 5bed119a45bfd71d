// SDXL (SDXL-Turbo, any SDXL fine-tune) in the diffusers/optimum ONNX layout (REFERENCE §8): the second
// text encoder and tokenizer, the UNet's extra inputs (`text_embeds`, `time_ids`), prompt encoding (both
// encoders' penultimate hidden states concatenated, the second one's pooled projection) and the
// micro-conditioning.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { checkTextEncoder, ModelContractError, type TextEncoderSignature } from '../contract.ts';
import { sessions } from '../sessions.ts';
import { floatTensor, integerTensor, readFloats } from '../tensors.ts';
import { tokenizerFor } from '../tokenizer.ts';
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch } from '../model-values.ts';

type Metadata = readonly InferenceSession.ValueMetadata[];
type TensorMetadata = InferenceSession.TensorValueMetadata;

export const SDXL_LAYOUT_HINT =
  'an SDXL export has unet/ (taking text_embeds and time_ids), text_encoder/ and text_encoder_2/ (the second with projection; both with hidden_states.* outputs), tokenizer/ and tokenizer_2/, vae_decoder/ (and vae_encoder/) and scheduler/';

/** The SDXL UNet's inputs beyond SD's. */
export const SDXL_UNET_INPUTS = ['text_embeds', 'time_ids'] as const;
const TIME_IDS = 6;

export interface SdxlParts {
  textEncoder2File: string;
  tokenizer2Dir: string;
}

/** text_encoder_2/ and tokenizer_2/ of an SDXL folder; throws naming the missing part and what it must hold. */
export function readSdxlParts(dir: string, name: string): SdxlParts {
  const missing = (relative: string, holds: string) =>
    new ModelContractError(`model folder "${name}" is an SDXL model but has no ${relative} — ${holds}; ${SDXL_LAYOUT_HINT}`);
  const textEncoder2File = path.join(dir, 'text_encoder_2', 'model.onnx');
  if (!existsSync(textEncoder2File)) throw missing('text_encoder_2/model.onnx', 'the second text encoder (CLIP bigG with projection: outputs text_embeds and hidden_states.*)');
  const tokenizer2Dir = path.join(dir, 'tokenizer_2');
  if (!['tokenizer.json', 'vocab.json'].some((f) => existsSync(path.join(tokenizer2Dir, f)))) {
    throw missing('tokenizer_2/', "the second text encoder's tokenizer (tokenizer.json, or vocab.json and merges.txt, with pad_token \"!\")");
  }
  return { textEncoder2File, tokenizer2Dir };
}

/** `hidden_states.{L−1}`: the penultimate layer's output (diffusers' `hidden_states[-2]`), which SDXL conditions on. */
function penultimateHiddenState(file: string, outputs: Metadata): string {
  const layers = outputs.map((o) => /^hidden_states\.(\d+)$/.exec(o.name)?.[1]).filter((n) => n !== undefined).map(Number);
  if (layers.length < 2) {
    throw new ModelContractError(
      `${file}: an SDXL text encoder must output its hidden states (hidden_states.0 … hidden_states.L) — found outputs ${outputs.map((o) => o.name).join(', ')}; export it with optimum-cli, which adds them`,
    );
  }
  return `hidden_states.${Math.max(...layers) - 1}`;
}

/** An SDXL text encoder: SD's contract, plus the hidden-state outputs and (text_encoder_2) the pooled projection `text_embeds`. */
export function checkSdxlTextEncoder(withProjection: boolean) {
  return (file: string, inputs: Metadata, outputs: Metadata): TextEncoderSignature => {
    const signature = checkTextEncoder(file, inputs, outputs);
    const penultimateOutput = penultimateHiddenState(file, outputs);
    const width = (outputs.find((o) => o.name === penultimateOutput) as TensorMetadata).shape[2];
    const hiddenSize = typeof width === 'number' ? width : signature.hiddenSize;
    if (!withProjection) return { ...signature, hiddenSize, penultimateOutput };
    const pooled = outputs.find((o) => o.name === 'text_embeds') as TensorMetadata | undefined;
    if (!pooled) throw new ModelContractError(`${file}: SDXL's second text encoder must output text_embeds (the pooled projection, [batch, 1280]); export CLIPTextModelWithProjection`);
    const pooledWidth = pooled.shape[1];
    return { ...signature, hiddenSize, penultimateOutput, ...(typeof pooledWidth === 'number' && { pooledWidth }) };
  };
}

/** The SDXL UNet's `text_embeds` [B, pooled] and `time_ids` [B, 6], in the float type of its `sample`. */
export function checkSdxlUNetInputs(file: string, inputs: Metadata): void {
  const sample = inputs.find((v) => v.name === 'sample') as TensorMetadata | undefined;
  for (const name of SDXL_UNET_INPUTS) {
    const input = inputs.find((v) => v.name === name) as TensorMetadata | undefined;
    if (!input) throw new ModelContractError(`${file}: an SDXL UNet takes ${SDXL_UNET_INPUTS.join(' and ')}; found inputs ${inputs.map((v) => v.name).join(', ')}`);
    if (sample && input.type !== sample.type) throw new ModelContractError(`${file}: input "${name}" is ${input.type} but "sample" is ${sample.type}; float inputs must share one type`);
    const width = input.shape[1];
    if (input.shape.length !== 2 || (name === 'time_ids' && typeof width === 'number' && width !== TIME_IDS)) {
      throw new ModelContractError(`${file}: input "${name}" expected shape [batch, ${name === 'time_ids' ? TIME_IDS : 'pooled width'}], found [${input.shape.join(', ')}]`);
    }
  }
}

async function runEncoder(file: string, signature: TextEncoderSignature, clip: ClipModel, ids: Int32Array, fetches: string[]): Promise<Record<string, Float32Array>> {
  const lease = await sessions.acquire(file, clip.device);
  try {
    const result = await lease.session.run({ input_ids: integerTensor(signature.idsType, ids, [1, ids.length]) }, fetches);
    return Object.fromEntries(fetches.map((name) => [name, readFloats(result[name])]));
  } finally {
    lease.release();
  }
}

/**
 * Prompt → CONDITIONING on an SDXL model. An empty prompt is zeros, embeddings and pooled, as SDXL
 * pipelines make the unconditional half (`force_zeros_for_empty_prompt`).
 */
export async function encodeSdxlPrompt(clip: ClipModel, text: string): Promise<Conditioning> {
  const second = clip.second;
  if (!second) throw new Error(`${clip.name}: an SDXL CLIP needs its second text encoder`);
  const prompt = tokenizerFor(clip.tokenizerDir).encode(text);
  const prompt2 = tokenizerFor(second.tokenizerDir).encode(text);
  const length = prompt.ids.length;
  if (prompt2.ids.length !== length) throw new Error(`${clip.name}: tokenizer/ pads to ${length} tokens but tokenizer_2/ to ${prompt2.ids.length}`);
  const [layer1, layer2] = [clip.signature.penultimateOutput!, second.signature.penultimateOutput!];
  const first = await runEncoder(clip.textEncoderFile, clip.signature, clip, prompt.ids, [layer1]);
  const other = await runEncoder(second.textEncoderFile, second.signature, clip, prompt2.ids, [layer2, 'text_embeds']);
  const [width1, width2] = [first[layer1].length / length, other[layer2].length / length];
  const hiddenSize = width1 + width2;
  const embeddings = new Float32Array(length * hiddenSize);
  const empty = text.trim() === '';
  if (!empty) {
    for (let t = 0; t < length; t++) {
      embeddings.set(first[layer1].subarray(t * width1, (t + 1) * width1), t * hiddenSize);
      embeddings.set(other[layer2].subarray(t * width2, (t + 1) * width2), t * hiddenSize + width1);
    }
  }
  const zeroPooled = new Float32Array(other.text_embeds.length);
  return {
    text,
    ids: prompt.ids,
    words: prompt.words,
    truncated: prompt.truncated,
    sequenceLength: length,
    hiddenSize,
    embeddings,
    emptyPrompt: new Float32Array(length * hiddenSize),
    pooled: empty ? zeroPooled : other.text_embeds,
    emptyPooled: zeroPooled,
  };
}

/**
 * SDXL's micro-conditioning in pixels: [original h, w, crop top, left, target h, w]. The original is the
 * source frames' size, the target the (padded) frames the UNet denoises; no crop.
 */
export function timeIds(latent: Pick<LatentBatch, 'width' | 'height' | 'padding'>, downFactor: number): number[] {
  const [height, width] = [latent.height * downFactor, latent.width * downFactor];
  return [latent.padding?.imageHeight ?? height, latent.padding?.imageWidth ?? width, 0, 0, height, width];
}

/** `text_embeds` (one pooled row per UNet row) and `time_ids` for `rows` UNet rows. */
export function sdxlFeeds(model: DiffusionModel, pooledRows: readonly Float32Array[], latent: Pick<LatentBatch, 'width' | 'height' | 'padding'>): Record<string, Tensor> {
  const width = pooledRows[0].length;
  const pooled = new Float32Array(pooledRows.length * width);
  pooledRows.forEach((row, r) => pooled.set(row, r * width));
  const ids = timeIds(latent, model.vaeDownFactor);
  const time = Float32Array.from({ length: pooledRows.length * TIME_IDS }, (_, i) => ids[i % TIME_IDS]);
  return {
    text_embeds: floatTensor(model.unet.floatType, pooled, [pooledRows.length, width]),
    time_ids: floatTensor(model.unet.floatType, time, [pooledRows.length, TIME_IDS]),
  };
}
