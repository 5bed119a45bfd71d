// The SDXL demo model, `limelight-demo-sdxl`: limelight-demo's design (demo-unet.ts) in the layout and
// with the input/output names of an optimum SDXL export (REFERENCE §8). Two text encoders with
// hidden_states.* outputs (the penultimate one is the design embedding; the last one is negated, so
// conditioning on the wrong layer loses the BOS sink), text_encoder_2's pooled projection text_embeds,
// a UNet taking encoder_hidden_states [B, 77, 2048] (keys read from the first encoder's features, values
// from the second's), text_embeds and time_ids, with two transformer blocks per attention block, and a
// VAE with SDXL's scaling_factor.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GraphBuilder, type FloatType } from '../onnx/graph-builder.ts';
import { CONTEXT_DIM, EMBEDDING, VAE_DOWN_FACTOR } from './demo-design.ts';
import { ensureGeneratedModel, writeDemoScheduler, writeDemoTokenizer, writeJson, writePart } from './demo-model.ts';
import { buildDemoVaeDecoder, buildDemoVaeEncoder, demoEosPooling, demoTextEmbeddings } from './demo-parts.ts';
import { buildDemoUNet } from './demo-unet.ts';
import { buildDemoVocabulary, EOS_TOKEN, type DemoVocabulary } from './demo-vocab.ts';

export const DEMO_SDXL_MODEL_NAME = 'limelight-demo-sdxl';
/** Bump when the graphs or files change: `ensureDemoSdxlModel` rebuilds older folders. */
export const DEMO_SDXL_MODEL_VERSION = 1;

/** CLIP-L's and OpenCLIP bigG's widths: 768 + 1280 = SDXL's 2048-wide context. */
export const SDXL_ENCODER_WIDTHS = [768, 1280] as const;
export const SDXL_POOLED_WIDTH = 1280;
export const SDXL_VAE_SCALING_FACTOR = 0.13025;
/** hidden_states.0 (embeddings) … hidden_states.2 (last layer): the prompt is read from hidden_states.1. */
const ENCODER_LAYERS = 2;
/** tokenizer_2 pads with "!" (id 0), as SDXL's does. */
const SECOND_PAD_TOKEN = '!';

function identityColumns(rows: number, cols: number, sign = 1): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < Math.min(rows, cols); r++) out[r * cols + r] = sign;
  return out;
}

/** A CLIP text encoder of `width` features; with projection (text_encoder_2) it outputs text_embeds. */
function buildSdxlTextEncoder(vocabulary: DemoVocabulary, width: number, withProjection: boolean, floatType: FloatType): GraphBuilder {
  const g = new GraphBuilder(`limelight_demo_sdxl_text_encoder${withProjection ? '_2' : ''}`, floatType);
  const ids = g.input('input_ids', 'int32', ['batch', 'sequence']);
  const embeddings = demoTextEmbeddings(g, vocabulary, ids);
  let hidden = g.scope('text_model.embeddings.widen', () => g.op('MatMul', [embeddings, g.weight('weight', identityColumns(CONTEXT_DIM, width), [CONTEXT_DIM, width])], {}, 'hidden_states.0'));
  for (let layer = 0; layer < ENCODER_LAYERS; layer++) {
    const last = layer === ENCODER_LAYERS - 1;
    hidden = g.scope(`text_model.encoder.layers.${layer}`, () => g.op(last ? 'Neg' : 'Identity', [hidden], {}, `hidden_states.${layer + 1}`));
  }
  const final = g.scope('text_model.final_layer_norm', () => g.op('Identity', [hidden], {}, 'last_hidden_state'));
  const sequenceDims = ['batch', 'sequence', width];
  g.output('last_hidden_state', floatType, sequenceDims);
  if (withProjection) {
    const pooled = demoEosPooling(g, final, ids);
    const design = g.op('Slice', [pooled, g.int64('design_start', [0]), g.int64('design_end', [CONTEXT_DIM]), g.int64('feature_axis', [1])]);
    // The negation undone: text_embeds carries the EOS token's design embedding (its end-of-text mark 1).
    const projection = g.weight('text_projection.weight', identityColumns(CONTEXT_DIM, SDXL_POOLED_WIDTH, -1), [CONTEXT_DIM, SDXL_POOLED_WIDTH]);
    g.op('MatMul', [design, projection], {}, 'text_embeds');
    g.output('text_embeds', floatType, ['batch', SDXL_POOLED_WIDTH]);
  } else {
    demoEosPooling(g, final, ids, 'pooler_output');
    g.output('pooler_output', floatType, ['batch', width]);
  }
  for (let layer = 0; layer <= ENCODER_LAYERS; layer++) g.output(`hidden_states.${layer}`, floatType, sequenceDims);
  return g;
}

/**
 * The UNet's use of SDXL's extra conditioning, as a factor on the colour pull: the pooled prompt's
 * end-of-text mark (1 for an encoded prompt, 0 for the zeros of an empty one) times time_ids' target
 * height over the sample's height in pixels (1 when the micro-conditioning describes the frames).
 */
function pullGate(g: GraphBuilder, sample: string): string {
  const textEmbeds = g.input('text_embeds', g.floatType, ['batch', SDXL_POOLED_WIDTH]);
  const timeIds = g.input('time_ids', g.floatType, ['batch', 6]);
  return g.scope('add_embedding', () => {
    const promptMark = g.op('Gather', [textEmbeds, g.int64('end_feature', [EMBEDDING.end])], { axis: 1 });
    const targetHeight = g.op('Gather', [timeIds, g.int64('target_height', [4])], { axis: 1 });
    const latentHeight = g.op('Cast', [g.op('Gather', [g.op('Shape', [sample]), g.int64('height_axis', [2])])], { to: g.floatType === 'float16' ? 10 : 1 });
    const ratio = g.op('Div', [targetHeight, g.op('Mul', [latentHeight, g.scalar(VAE_DOWN_FACTOR)])]);
    return g.op('Reshape', [g.op('Mul', [promptMark, ratio]), g.int64('per_sample', [-1, 1, 1, 1])]);
  });
}

/** Writes the SDXL demo model into `dir` (created if needed), in `floatType` (fp16 as GPU exports are). Deterministic. */
export function writeDemoSdxlModel(dir: string, floatType: FloatType = 'float32'): void {
  const vocabulary = buildDemoVocabulary();
  const [width1, width2] = SDXL_ENCODER_WIDTHS;
  mkdirSync(dir, { recursive: true });
  writeJson(path.join(dir, 'model_index.json'), {
    _class_name: 'StableDiffusionXLPipeline',
    _diffusers_version: '0.30.0',
    _limelight_demo: { version: DEMO_SDXL_MODEL_VERSION, variant: { floatType } },
    force_zeros_for_empty_prompt: true,
    scheduler: ['diffusers', 'EulerDiscreteScheduler'],
    text_encoder: ['transformers', 'CLIPTextModel'],
    text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    tokenizer_2: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  });
  const unet = buildDemoUNet({
    floatType,
    timestepType: 'float32',
    timestepShape: 'scalar',
    context: { width: width1 + width2, keyOffset: 0, valueOffset: width1 },
    transformerDepth: 2,
    pullGate,
  });
  writePart(dir, 'unet', unet, {
    in_channels: 4,
    out_channels: 4,
    cross_attention_dim: width1 + width2,
    addition_embed_type: 'text_time',
    addition_time_embed_dim: 256,
    projection_class_embeddings_input_dim: SDXL_POOLED_WIDTH + 6 * 256,
    transformer_layers_per_block: 2,
  });
  const encoderConfig = (width: number) => ({ hidden_size: width, num_hidden_layers: ENCODER_LAYERS, max_position_embeddings: 77, bos_token_id: vocabulary.bosId, eos_token_id: vocabulary.eosId });
  writePart(dir, 'text_encoder', buildSdxlTextEncoder(vocabulary, width1, false, floatType), encoderConfig(width1));
  writePart(dir, 'text_encoder_2', buildSdxlTextEncoder(vocabulary, width2, true, floatType), { ...encoderConfig(width2), projection_dim: SDXL_POOLED_WIDTH });
  const vaeConfig = {
    in_channels: 3,
    out_channels: 3,
    latent_channels: 4,
    block_out_channels: Array.from({ length: Math.log2(VAE_DOWN_FACTOR) + 1 }, () => 16),
    scaling_factor: SDXL_VAE_SCALING_FACTOR,
    sample_size: 1024,
  };
  writePart(dir, 'vae_encoder', buildDemoVaeEncoder(floatType, 'latent_sample', SDXL_VAE_SCALING_FACTOR), vaeConfig);
  writePart(dir, 'vae_decoder', buildDemoVaeDecoder(floatType, SDXL_VAE_SCALING_FACTOR), vaeConfig);
  writeDemoTokenizer(dir, 'tokenizer', vocabulary, EOS_TOKEN);
  writeDemoTokenizer(dir, 'tokenizer_2', vocabulary, SECOND_PAD_TOKEN);
  writeDemoScheduler(dir);
  writeFileSync(
    path.join(dir, 'README.md'),
    [
      `# ${DEMO_SDXL_MODEL_NAME}`,
      '',
      "A demonstration model generated by Limelight, not a generative one: limelight-demo's designed UNet",
      'in the folder layout and with the input/output names of an optimum SDXL ONNX export (two text',
      'encoders, text_embeds and time_ids). Real results need a real SDXL ONNX export.',
      '',
    ].join('\n'),
  );
}

/** Builds `<modelsFolder>/limelight-demo-sdxl` unless a current one is there; returns its path. */
export function ensureDemoSdxlModel(modelsFolder: string): string {
  return ensureGeneratedModel(modelsFolder, DEMO_SDXL_MODEL_NAME, DEMO_SDXL_MODEL_VERSION, (dir) => writeDemoSdxlModel(dir));
}
