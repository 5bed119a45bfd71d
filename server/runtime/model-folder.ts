// Model folders in the diffusers/optimum ONNX layout: discovery under the models folder, the files and
// configs each part needs, and loading (sessions created and checked against the contract).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { checkTextEncoder, checkUNet, checkVaeDecoder, checkVaeEncoder, ModelContractError } from './contract.ts';
import { parseSchedulerConfig, type SchedulerConfig } from './schedule.ts';
import { sessions, type Device, type Provider } from './sessions.ts';
import { checkSdxlTextEncoder, checkSdxlUNetInputs, readSdxlParts, SDXL_UNET_INPUTS, type SdxlParts } from './families/sdxl.ts';
import { loadSd3Model } from './families/sd3.ts';
import type { ClipModel, DiffusionModel, ModelFamily, VaeModel } from './model-values.ts';

type Metadata = readonly InferenceSession.ValueMetadata[];

export interface VaeConfig {
  scalingFactor: number;
  shiftFactor: number;
  downFactor: number;
  latentChannels: number;
}

/** What the runtime and the surgery read from unet/config.json. */
export interface UNetConfig {
  /**
   * Latent sides must be multiples of this: a diffusers UNet halves its grid in every down block but the
   * last and doubles it back by fixed ×2 steps (SD 1/2: 4 blocks, 8); a transformer patchifies by its patch size.
   */
  latentMultiple: number;
  /** Where latentMultiple came from, for inspect-model. */
  latentMultipleSource: string;
  /** Attention heads, one count or one per down block: num_attention_heads, else attention_head_dim (diffusers stores head counts there). */
  heads?: number | number[];
}

/** Stable Diffusion's: every diffusers UNet with up to 4 down blocks fits it. */
const ASSUMED_LATENT_MULTIPLE = 8;

function headCount(value: unknown): number | number[] | undefined {
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (isCount(value)) return value;
  return Array.isArray(value) && value.length > 0 && value.every(isCount) ? value : undefined;
}

/** unet/config.json (or a transformer's), read from the part's folder; a missing file reads as an empty config. */
export function readUNetConfig(partDir: string): UNetConfig {
  const file = path.join(partDir, 'config.json');
  const config = existsSync(file) ? readJsonObject(file) : {};
  const { patch_size: patch, down_block_types: blocks } = config;
  const [latentMultiple, latentMultipleSource] =
    typeof patch === 'number' && Number.isInteger(patch) && patch > 0
      ? [patch, `config.json patch_size ${patch}`]
      : Array.isArray(blocks) && blocks.length > 0
        ? [2 ** (blocks.length - 1), `config.json: ${blocks.length} down blocks`]
        : [ASSUMED_LATENT_MULTIPLE, 'assumed: config.json names no down_block_types'];
  return { latentMultiple, latentMultipleSource, heads: headCount(config.num_attention_heads) ?? headCount(config.attention_head_dim) };
}

export interface ModelFolder {
  dir: string;
  name: string;
  family: ModelFamily;
  /** SDXL's second text encoder and tokenizer. */
  sdxl?: SdxlParts;
  unetFile: string;
  textEncoderFile: string;
  /** Absent in text-to-image-only exports. */
  vaeEncoderFile?: string;
  vaeDecoderFile: string;
  tokenizerDir: string;
  scheduler: SchedulerConfig;
  vae: VaeConfig;
  unet: UNetConfig;
}

const LAYOUT_HINT =
  'a diffusers/optimum Stable Diffusion ONNX export has unet/, text_encoder/, vae_decoder/ (and vae_encoder/ for image-to-image), tokenizer/ and scheduler/';

/** Names of the model folders under `modelsDir` (folders with model_index.json or unet/model.onnx). */
export function listModelFolders(modelsDir: string): string[] {
  if (!existsSync(modelsDir)) return [];
  return readdirSync(modelsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .filter((e) => ['model_index.json', path.join('unet', 'model.onnx')].some((f) => existsSync(path.join(modelsDir, e.name, f))))
    .map((e) => e.name)
    .sort();
}

export function readJsonObject(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ModelContractError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ModelContractError(`${file}: expected a JSON object`);
  return parsed as Record<string, unknown>;
}

export const FAMILY_NAMES: Readonly<Record<ModelFamily, string>> = { sd: 'Stable Diffusion 1.x/2.x', sdxl: 'SDXL', sd3: 'Stable Diffusion 3' };

/**
 * The family from model_index.json's `_class_name` (…XLPipeline, …3Pipeline), else from the parts
 * present: transformer/ → SD3, text_encoder_2/ → SDXL.
 */
export function detectFamily(dir: string): ModelFamily {
  const indexFile = path.join(dir, 'model_index.json');
  const className = existsSync(indexFile) ? readJsonObject(indexFile)._class_name : undefined;
  if (typeof className === 'string' && /StableDiffusion3/.test(className)) return 'sd3';
  if (typeof className === 'string' && /XL/.test(className)) return 'sdxl';
  if (typeof className === 'string' && /StableDiffusion/.test(className)) return 'sd';
  if (existsSync(path.join(dir, 'transformer'))) return 'sd3';
  return existsSync(path.join(dir, 'text_encoder_2')) ? 'sdxl' : 'sd';
}

export function readVaeConfig(dir: string): VaeConfig {
  const file = ['vae_decoder', 'vae_encoder', 'vae'].map((part) => path.join(dir, part, 'config.json')).find(existsSync);
  const config = file ? readJsonObject(file) : {};
  const blocks = Array.isArray(config.block_out_channels) ? config.block_out_channels.length : 4;
  const scaling = config.scaling_factor;
  const channels = config.latent_channels;
  return {
    scalingFactor: typeof scaling === 'number' && scaling > 0 ? scaling : 0.18215,
    shiftFactor: typeof config.shift_factor === 'number' ? config.shift_factor : 0,
    downFactor: 2 ** Math.max(blocks - 1, 0),
    latentChannels: typeof channels === 'number' && channels > 0 ? channels : 4,
  };
}

/** Finds the files and reads the configs of a model folder; throws naming the first thing missing. */
export function readModelFolder(dir: string): ModelFolder {
  const name = path.basename(dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelContractError(`model folder ${dir} does not exist`);
  const required = (relative: string) => {
    const file = path.join(dir, relative);
    if (!existsSync(file)) throw new ModelContractError(`model folder "${name}": missing ${relative} — ${LAYOUT_HINT}`);
    return file;
  };
  const unetFile = required(path.join('unet', 'model.onnx'));
  const textEncoderFile = required(path.join('text_encoder', 'model.onnx'));
  const vaeDecoderFile = required(path.join('vae_decoder', 'model.onnx'));
  const tokenizerDir = path.dirname(required(path.join('tokenizer', existsSync(path.join(dir, 'tokenizer', 'tokenizer.json')) ? 'tokenizer.json' : 'vocab.json')));
  const schedulerFile = required(path.join('scheduler', 'scheduler_config.json'));
  let scheduler: SchedulerConfig;
  try {
    scheduler = parseSchedulerConfig(readJsonObject(schedulerFile));
  } catch (error) {
    throw new ModelContractError(`model folder "${name}": ${(error as Error).message}`);
  }
  const vaeEncoderFile = path.join(dir, 'vae_encoder', 'model.onnx');
  const family = detectFamily(dir);
  return {
    dir,
    name,
    family,
    ...(family === 'sdxl' && { sdxl: readSdxlParts(dir, name) }),
    unetFile,
    textEncoderFile,
    vaeEncoderFile: existsSync(vaeEncoderFile) ? vaeEncoderFile : undefined,
    vaeDecoderFile,
    tokenizerDir,
    scheduler,
    vae: readVaeConfig(dir),
    unet: readUNetConfig(path.dirname(unetFile)),
  };
}

export interface LoadedModel {
  model: DiffusionModel;
  clip: ClipModel;
  vae: VaeModel;
  /** The provider running the UNet. */
  provider: Provider;
  /** Provider fallbacks, one line each. */
  warnings: string[];
}

type PartCheck<T> = (relative: string, inputs: Metadata, outputs: Metadata) => T;

/** Opens (or reuses) a part's session on `device` and checks its inputs and outputs; provider fallbacks go to `warnings`. */
export function partInspector(dir: string, device: Device, warnings: Set<string>) {
  return async <T>(file: string, check: PartCheck<T>): Promise<{ signature: T; provider: Provider }> => {
    const lease = await sessions.acquire(file, device);
    try {
      if (lease.warning) warnings.add(lease.warning);
      const relative = `${path.basename(dir)}/${path.relative(dir, file)}`;
      return { signature: check(relative, lease.session.inputMetadata, lease.session.outputMetadata), provider: lease.provider };
    } finally {
      lease.release();
    }
  };
}

export interface VaeParts {
  family: ModelFamily;
  name: string;
  device: Device;
  encoderFile?: string;
  decoderFile: string;
  config: VaeConfig;
  /** The folder's denoiser takes latent sides that are multiples of this. */
  latentMultiple: number;
}

/** The VAE value of a folder, its decoder (and encoder, when there is one) checked. */
export async function loadVae(inspect: ReturnType<typeof partInspector>, parts: VaeParts): Promise<VaeModel> {
  const channels = parts.config.latentChannels;
  const decoder = await inspect(parts.decoderFile, (f, i, o) => checkVaeDecoder(f, i, o, channels));
  const encoder = parts.encoderFile ? await inspect(parts.encoderFile, (f, i, o) => checkVaeEncoder(f, i, o, channels)) : undefined;
  const { family, name, device, encoderFile, decoderFile, config, latentMultiple } = parts;
  return { kind: 'vae', family, name, encoderFile, decoderFile, device, encoder: encoder?.signature, decoder: decoder.signature, ...config, latentMultiple };
}

/** Creates (or reuses) each part's session on `device` and checks its inputs and outputs. */
export async function loadModel(dir: string, device: Device): Promise<LoadedModel> {
  if (existsSync(dir) && detectFamily(dir) === 'sd3') return loadSd3Model(dir, device);
  const folder = readModelFolder(dir);
  const warnings = new Set<string>();
  const inspect = partInspector(dir, device, warnings);
  const channels = folder.vae.latentChannels;
  const { family, sdxl } = folder;
  const unet = await inspect(folder.unetFile, (f, i, o) => {
    if (sdxl) checkSdxlUNetInputs(f, i);
    return checkUNet(f, i, o, sdxl ? SDXL_UNET_INPUTS : []);
  });
  const text = await inspect(folder.textEncoderFile, sdxl ? checkSdxlTextEncoder(false) : checkTextEncoder);
  const text2 = sdxl && (await inspect(sdxl.textEncoder2File, checkSdxlTextEncoder(true)));
  const vae = await loadVae(inspect, { family, name: folder.name, device, encoderFile: folder.vaeEncoderFile, decoderFile: folder.vaeDecoderFile, config: folder.vae, latentMultiple: folder.unet.latentMultiple });
  const { contextDim } = unet.signature;
  const [width1, width2] = [text.signature.hiddenSize, text2 ? text2.signature.hiddenSize : 0];
  const hiddenSize = width1 !== undefined && width2 !== undefined ? width1 + width2 : undefined;
  if (contextDim !== undefined && hiddenSize !== undefined && contextDim !== hiddenSize) {
    const source = text2 ? `text_encoder/ and text_encoder_2/ output ${width1} + ${width2}` : `text_encoder/model.onnx outputs ${hiddenSize}`;
    throw new ModelContractError(`model folder "${folder.name}": ${source}-wide hidden states but unet/model.onnx expects encoder_hidden_states of width ${contextDim}`);
  }
  return {
    model: {
      kind: 'diffusion-model',
      family,
      name: folder.name,
      folder: dir,
      unetFile: folder.unetFile,
      device,
      provider: unet.provider,
      unet: unet.signature,
      scheduler: folder.scheduler,
      latentChannels: channels,
      latentMultiple: folder.unet.latentMultiple,
      vaeDownFactor: folder.vae.downFactor,
    },
    clip: {
      kind: 'clip',
      family,
      name: folder.name,
      textEncoderFile: folder.textEncoderFile,
      tokenizerDir: folder.tokenizerDir,
      device,
      signature: text.signature,
      ...(sdxl && text2 && { second: { textEncoderFile: sdxl.textEncoder2File, tokenizerDir: sdxl.tokenizer2Dir, signature: text2.signature } }),
    },
    vae,
    provider: unet.provider,
    warnings: [...warnings],
  };
}
