// Writes the demo model folder in the diffusers/optimum ONNX layout. Deterministic: the same variant gives
// the same bytes every time. Variants (float16, timestep dtypes and shapes, external weights, an
// 8-channel VAE encoder, int64 input ids) reproduce the differences between real exports for tests.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SD_SCHEDULER_DEFAULTS } from '../runtime/schedule.ts';
import { CONTEXT_DIM, LATENT_GAIN, MAX_TOKENS, VAE_DOWN_FACTOR, VAE_SCALING_FACTOR } from './demo-design.ts';
import { buildDemoTextEncoder, buildDemoVaeDecoder, buildDemoVaeEncoder } from './demo-parts.ts';
import { buildDemoUNet, type TimestepShape, type TimestepType } from './demo-unet.ts';
import { BOS_TOKEN, buildDemoVocabulary, EOS_TOKEN, type DemoVocabulary } from './demo-vocab.ts';
import type { FloatType, GraphBuilder } from '../onnx/graph-builder.ts';

export const DEMO_MODEL_NAME = 'limelight-demo';
/** Bump when the demo model's graphs or files change: `ensureDemoModel` rebuilds older folders. */
export const DEMO_MODEL_VERSION = 2;

export interface DemoModelVariant {
  floatType?: FloatType;
  timestepType?: TimestepType;
  timestepShape?: TimestepShape;
  /** Store the UNet's weights in this file beside unet/model.onnx (as large fp32 exports do). */
  unetExternalData?: 'weights.pb' | 'model.onnx_data';
  vaeEncoderOutput?: 'latent_sample' | 'latent_parameters';
  inputIdsType?: 'int32' | 'int64';
}

export function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

export function writePart(dir: string, part: string, graph: GraphBuilder, config: Record<string, unknown>, externalData?: string): void {
  const partDir = path.join(dir, part);
  mkdirSync(partDir, { recursive: true });
  const built = graph.build(externalData ? { location: externalData, minBytes: 1024 } : undefined);
  writeFileSync(path.join(partDir, 'model.onnx'), built.model);
  if (externalData && built.externalData) writeFileSync(path.join(partDir, externalData), built.externalData);
  writeJson(path.join(partDir, 'config.json'), config);
}

/** The demo vocabulary as a CLIP tokenizer folder (vocab.json, merges.txt, the special tokens). */
export function writeDemoTokenizer(tokenizerDir: string, vocabulary: DemoVocabulary): void {
  mkdirSync(tokenizerDir, { recursive: true });
  writeJson(path.join(tokenizerDir, 'vocab.json'), vocabulary.vocab);
  writeFileSync(path.join(tokenizerDir, 'merges.txt'), vocabulary.merges);
  const specials = { bos_token: BOS_TOKEN, eos_token: EOS_TOKEN, pad_token: EOS_TOKEN, unk_token: EOS_TOKEN };
  writeJson(path.join(tokenizerDir, 'special_tokens_map.json'), specials);
  writeJson(path.join(tokenizerDir, 'tokenizer_config.json'), {
    ...specials,
    do_lower_case: true,
    model_max_length: MAX_TOKENS,
    tokenizer_class: 'CLIPTokenizer',
  });
}

/** Writes the demo model into `dir` (created if needed). */
export function writeDemoModel(dir: string, variant: DemoModelVariant = {}): void {
  const floatType = variant.floatType ?? 'float32';
  const vocabulary = buildDemoVocabulary();
  mkdirSync(dir, { recursive: true });
  writeJson(path.join(dir, 'model_index.json'), {
    _class_name: 'OnnxStableDiffusionPipeline',
    _diffusers_version: '0.30.0',
    _limelight_demo: { version: DEMO_MODEL_VERSION, variant },
    scheduler: ['diffusers', 'EulerDiscreteScheduler'],
    text_encoder: ['diffusers', 'OnnxRuntimeModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'OnnxRuntimeModel'],
    vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
    vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
    safety_checker: [null, null],
    feature_extractor: [null, null],
    requires_safety_checker: false,
  });
  const unet = buildDemoUNet({
    floatType,
    timestepType: variant.timestepType ?? 'int64',
    timestepShape: variant.timestepShape ?? 'one',
  });
  writePart(dir, 'unet', unet, { in_channels: 4, out_channels: 4, sample_size: 512 / VAE_DOWN_FACTOR, cross_attention_dim: CONTEXT_DIM }, variant.unetExternalData);
  const vocabSize = Object.keys(vocabulary.vocab).length;
  writePart(dir, 'text_encoder', buildDemoTextEncoder(vocabulary, floatType, variant.inputIdsType ?? 'int32'), {
    hidden_size: CONTEXT_DIM,
    max_position_embeddings: MAX_TOKENS,
    vocab_size: vocabSize,
    bos_token_id: vocabulary.bosId,
    eos_token_id: vocabulary.eosId,
  });
  const vaeConfig = {
    in_channels: 3,
    out_channels: 3,
    latent_channels: 4,
    block_out_channels: Array.from({ length: Math.log2(VAE_DOWN_FACTOR) + 1 }, () => 16),
    scaling_factor: VAE_SCALING_FACTOR,
    sample_size: 512,
  };
  writePart(dir, 'vae_encoder', buildDemoVaeEncoder(floatType, variant.vaeEncoderOutput ?? 'latent_sample'), vaeConfig);
  writePart(dir, 'vae_decoder', buildDemoVaeDecoder(floatType), vaeConfig);

  writeDemoTokenizer(path.join(dir, 'tokenizer'), vocabulary);

  mkdirSync(path.join(dir, 'scheduler'), { recursive: true });
  const s = SD_SCHEDULER_DEFAULTS;
  writeJson(path.join(dir, 'scheduler', 'scheduler_config.json'), {
    _class_name: 'EulerDiscreteScheduler',
    beta_start: s.betaStart,
    beta_end: s.betaEnd,
    beta_schedule: s.betaSchedule,
    num_train_timesteps: s.numTrainTimesteps,
    steps_offset: s.stepsOffset,
    prediction_type: s.predictionType,
    timestep_spacing: s.timestepSpacing,
    set_alpha_to_one: s.setAlphaToOne,
  });
  writeFileSync(
    path.join(dir, 'README.md'),
    [
      '# limelight-demo',
      '',
      'A demonstration model generated by Limelight, not a generative one. It has the folder layout and the',
      'input/output names of a diffusers/optimum Stable Diffusion ONNX export, and a UNet with genuine',
      'self- and cross-attention, but its weights are designed: it denoises by smoothing and recolours the',
      'image towards colour words in the prompt (red, blue, golden, …) where the pixels attend to them.',
      `Latents are the ${VAE_DOWN_FACTOR}×${VAE_DOWN_FACTOR}-averaged colours times ${LATENT_GAIN}. Real results need a real Stable Diffusion ONNX export.`,
      '',
    ].join('\n'),
  );
}

function installedDemoVersion(dir: string): number | undefined {
  try {
    const index = JSON.parse(readFileSync(path.join(dir, 'model_index.json'), 'utf8')) as { _limelight_demo?: { version?: number } };
    return index._limelight_demo?.version;
  } catch {
    return undefined;
  }
}

/**
 * Builds `<modelsFolder>/<name>` with `write` unless one of `version` is there; returns its path. Safe
 * when several processes start at once: each builds aside and the first to finish moves its copy in.
 */
export function ensureGeneratedModel(modelsFolder: string, name: string, version: number, write: (dir: string) => void): string {
  const dir = path.join(modelsFolder, name);
  if (installedDemoVersion(dir) === version) return dir;
  const staging = `${dir}.building-${process.pid}-${randomUUID().slice(0, 8)}`;
  write(staging);
  try {
    if (installedDemoVersion(dir) !== version) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
    }
  } catch (error) {
    if (installedDemoVersion(dir) !== version) throw error;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}

/** Builds `<modelsFolder>/limelight-demo` unless a current one is there; returns its path. */
export function ensureDemoModel(modelsFolder: string): string {
  return ensureGeneratedModel(modelsFolder, DEMO_MODEL_NAME, DEMO_MODEL_VERSION, (dir) => writeDemoModel(dir));
}
