// Stable Diffusion 3 / 3.5 model folders (the diffusers/optimum ONNX layout of StableDiffusion3Pipeline):
// transformer/ (an MMDiT), three text encoders (T5 optional), a 16-channel VAE with a shift, and a
// FlowMatchEulerDiscrete scheduler. Reading the folder and loading its parts into MODEL, CLIP and VAE.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ModelContractError } from '../contract.ts';
import { parseFlowMatchConfig, type FlowMatchConfig } from '../flow-matching.ts';
import { loadVae, partInspector, readJsonObject, readUNetConfig, readVaeConfig, type LoadedModel, type UNetConfig, type VaeConfig } from '../model-folder.ts';
import { SD_SCHEDULER_DEFAULTS } from '../schedule.ts';
import type { Device } from '../sessions.ts';
import { checkClipWithProjection, checkT5, checkTransformer } from './sd3-contract.ts';

const LAYOUT_HINT =
  'an SD3 export (optimum-cli export onnx --model stabilityai/stable-diffusion-3-medium-diffusers) has transformer/, text_encoder/, text_encoder_2/, ' +
  'tokenizer/, tokenizer_2/, vae_decoder/ (and vae_encoder/ for image-to-image), scheduler/, and optionally text_encoder_3/ + tokenizer_3/ (T5)';
/** T5 tokens in the context (diffusers' max_sequence_length default). */
const T5_LENGTH = 256;

export interface Sd3Folder {
  dir: string;
  name: string;
  transformerFile: string;
  clipL: { file: string; tokenizerDir: string };
  clipG: { file: string; tokenizerDir: string };
  t5?: { file: string; tokenizerDir: string };
  vaeEncoderFile?: string;
  vaeDecoderFile: string;
  flow: FlowMatchConfig;
  vae: VaeConfig;
  transformer: UNetConfig;
}

/** Finds the files and reads the configs of an SD3 folder; throws naming the first thing missing. */
export function readSd3Folder(dir: string): Sd3Folder {
  const name = path.basename(dir);
  const fail = (what: string): never => {
    throw new ModelContractError(`model folder "${name}" (Stable Diffusion 3): ${what} — ${LAYOUT_HINT}`);
  };
  const required = (relative: string) => {
    const file = path.join(dir, relative);
    return existsSync(file) ? file : fail(`missing ${relative}`);
  };
  const clipTokenizer = (folder: string) =>
    path.dirname(required(path.join(folder, existsSync(path.join(dir, folder, 'tokenizer.json')) ? 'tokenizer.json' : 'vocab.json')));
  const transformerFile = required(path.join('transformer', 'model.onnx'));
  const clipL = { file: required(path.join('text_encoder', 'model.onnx')), tokenizerDir: clipTokenizer('tokenizer') };
  const clipG = { file: required(path.join('text_encoder_2', 'model.onnx')), tokenizerDir: clipTokenizer('tokenizer_2') };
  const t5File = path.join(dir, 'text_encoder_3', 'model.onnx');
  const t5 = existsSync(t5File) ? { file: t5File, tokenizerDir: path.dirname(required(path.join('tokenizer_3', 'tokenizer.json'))) } : undefined;
  const vaeDecoderFile = required(path.join('vae_decoder', 'model.onnx'));
  const scheduler = readJsonObject(required(path.join('scheduler', 'scheduler_config.json')));
  const schedulerClass = scheduler._class_name;
  if (typeof schedulerClass === 'string' && schedulerClass !== 'FlowMatchEulerDiscreteScheduler') {
    fail(`scheduler/scheduler_config.json names ${schedulerClass}; SD3 samples with FlowMatchEulerDiscreteScheduler`);
  }
  let flow: FlowMatchConfig;
  try {
    flow = parseFlowMatchConfig(scheduler);
  } catch (error) {
    return fail((error as Error).message);
  }
  const vaeEncoderFile = path.join(dir, 'vae_encoder', 'model.onnx');
  return {
    dir,
    name,
    transformerFile,
    clipL,
    clipG,
    t5,
    vaeEncoderFile: existsSync(vaeEncoderFile) ? vaeEncoderFile : undefined,
    vaeDecoderFile,
    flow,
    vae: readVaeConfig(dir),
    transformer: readUNetConfig(path.dirname(transformerFile)),
  };
}

/** Creates (or reuses) each part's session on `device`, checks it, and checks that the widths agree. */
export async function loadSd3Model(dir: string, device: Device): Promise<LoadedModel> {
  const folder = readSd3Folder(dir);
  const warnings = new Set<string>();
  const inspect = partInspector(dir, device, warnings);
  const channels = folder.vae.latentChannels;
  const transformer = await inspect(folder.transformerFile, (f, i, o) => checkTransformer(f, i, o, channels));
  const clipL = await inspect(folder.clipL.file, checkClipWithProjection);
  const clipG = await inspect(folder.clipG.file, checkClipWithProjection);
  const t5 = folder.t5 ? await inspect(folder.t5.file, checkT5) : undefined;
  const family = 'sd3' as const;
  const vae = await loadVae(inspect, { family, name: folder.name, device, encoderFile: folder.vaeEncoderFile, decoderFile: folder.vaeDecoderFile, config: folder.vae, latentMultiple: folder.transformer.latentMultiple });

  const mismatch = (what: string): never => {
    throw new ModelContractError(`model folder "${folder.name}": ${what}`);
  };
  const contextDim = transformer.signature.contextDim ?? t5?.signature.hiddenSize ?? 4096;
  const [widthL, widthG] = [clipL.signature.hiddenSize, clipG.signature.hiddenSize];
  if (widthL !== undefined && widthG !== undefined && widthL + widthG > contextDim) {
    mismatch(`the CLIPs' hidden states are ${widthL} + ${widthG} wide, more than transformer/model.onnx's encoder_hidden_states width ${contextDim}`);
  }
  if (t5?.signature.hiddenSize !== undefined && t5.signature.hiddenSize !== contextDim) {
    mismatch(`text_encoder_3/model.onnx outputs ${t5.signature.hiddenSize}-wide states but transformer/model.onnx expects ${contextDim}`);
  }
  const [pooledL, pooledG] = [clipL.signature.pooledSize, clipG.signature.pooledSize];
  const pooledDim = transformer.signature.pooledDim;
  if (pooledL !== undefined && pooledG !== undefined && pooledDim !== undefined && pooledL + pooledG !== pooledDim) {
    mismatch(`the CLIPs' text_embeds are ${pooledL} + ${pooledG} wide but transformer/model.onnx's pooled_projections is ${pooledDim}`);
  }
  const encoderOf = (part: { file: string; tokenizerDir: string }, signature: { idsType: 'int32' | 'int64'; hiddenOutput: string }) => ({
    file: part.file,
    tokenizerDir: part.tokenizerDir,
    idsType: signature.idsType,
    hiddenOutput: signature.hiddenOutput,
  });
  return {
    model: {
      kind: 'diffusion-model',
      family,
      name: folder.name,
      folder: dir,
      unetFile: folder.transformerFile,
      device,
      provider: transformer.provider,
      unet: transformer.signature,
      scheduler: { ...SD_SCHEDULER_DEFAULTS, numTrainTimesteps: folder.flow.numTrainTimesteps },
      flow: folder.flow,
      pooledDim,
      latentChannels: channels,
      latentMultiple: folder.transformer.latentMultiple,
      vaeDownFactor: folder.vae.downFactor,
    },
    clip: {
      kind: 'clip',
      family,
      name: folder.name,
      textEncoderFile: folder.clipL.file,
      tokenizerDir: folder.clipL.tokenizerDir,
      device,
      signature: { idsType: clipL.signature.idsType, floatType: clipL.signature.floatType, hiddenSize: widthL },
      sd3: {
        clipLHiddenOutput: clipL.signature.hiddenOutput,
        clipG: encoderOf(folder.clipG, clipG.signature),
        t5: folder.t5 && t5 ? encoderOf(folder.t5, t5.signature) : undefined,
        contextDim,
        t5Length: T5_LENGTH,
      },
    },
    vae,
    provider: transformer.provider,
    warnings: [...warnings],
  };
}
