// `limelight inspect-model <dir>`: the parts of a model folder, their inputs and outputs, what the
// runtime detected (provider, float type, timestep form, VAE and tokenizer settings, scheduler) and the
// cross-attention layers InjectCrossAttention would bias.
import { fromBinary } from '@bufbuild/protobuf';
import { statSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelProtoSchema } from 'onnx-buf';
import type { InferenceSession } from 'onnxruntime-node';
import { gridSize } from './attention-bias.ts';
import type { AttentionShape, CrossAttentionLayer } from './cross-attention-find.ts';
import { findCrossAttention, NoCrossAttentionError } from './cross-attention-patch.ts';
import { FAMILY_NAMES, loadModel, readUNetConfig, type UNetConfig } from '../runtime/model-folder.ts';
import { sessions, type Device } from '../runtime/sessions.ts';
import type { ClipModel } from '../runtime/model-values.ts';
import { tokenizerFor } from '../runtime/tokenizer.ts';

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function formatValues(values: readonly InferenceSession.ValueMetadata[]): string {
  return values.map((v) => (v.isTensor ? `${v.name} ${v.type} [${v.shape.join(', ')}]` : `${v.name} (not a tensor)`)).join('; ');
}

async function describePart(dir: string, file: string, device: Device): Promise<string[]> {
  const partDir = path.dirname(file);
  const files = readdirSync(partDir)
    .filter((name) => !name.startsWith('.') && statSync(path.join(partDir, name)).isFile())
    .map((name) => `${name} ${formatBytes(statSync(path.join(partDir, name)).size)}`);
  const lease = await sessions.acquire(file, device);
  try {
    return [
      `  ${path.relative(dir, file)}  (${files.join(', ')})`,
      `    inputs:  ${formatValues(lease.session.inputMetadata)}`,
      `    outputs: ${formatValues(lease.session.outputMetadata)}`,
    ];
  } finally {
    lease.release();
  }
}

/** The image size query lengths are quoted at (Stable Diffusion 1.x's native resolution). */
const REFERENCE_SIZE = 512;
const SHAPE_NAMES: Record<AttentionShape, string> = {
  'sdpa-4d': '4-D scores (torch SDPA)',
  'legacy-3d': '3-D scores [batch·heads, queries, tokens] (legacy export)',
  'fused-mha': 'fused com.microsoft.MultiHeadAttention',
};

/**
 * The layers the surgery would bias, grouped by query resolution, shape and heads; a model without
 * cross-attention gets the surgery's own account of what was searched (and `found` false).
 */
async function describeCrossAttention(unetFile: string, vaeDownFactor: number, configHeads: UNetConfig['heads']): Promise<{ lines: string[]; found: boolean }> {
  let layers: CrossAttentionLayer[];
  try {
    layers = findCrossAttention(fromBinary(ModelProtoSchema, await readFile(unetFile)), configHeads);
  } catch (error) {
    if (error instanceof NoCrossAttentionError) return { lines: [`  cross-attention: ${error.message}; InjectCrossAttention cannot use this model`], found: false };
    throw error;
  }
  const groups = new Map<string, CrossAttentionLayer[]>();
  for (const layer of layers) {
    const key = `${layer.divisor}|${layer.shape}|${layer.heads}`;
    groups.set(key, [...(groups.get(key) ?? []), layer]);
  }
  const latentSide = REFERENCE_SIZE / vaeDownFactor;
  const joint = layers.filter((l) => l.joint).length;
  const kinds = joint === 0 ? 'cross-attention' : joint === layers.length ? 'joint attention (image queries × text keys biased)' : `cross- and joint attention (${joint} joint)`;
  const lines = [`  ${kinds}: ${layers.length} layers (query lengths at ${REFERENCE_SIZE}×${REFERENCE_SIZE}, latent ${latentSide}×${latentSide})`];
  for (const group of groups.values()) {
    const { divisor, shape, heads } = group[0];
    const side = gridSize(latentSide, divisor);
    const grid = divisor === 1 ? 'the latent grid' : `the latent grid ÷ ${divisor}`;
    lines.push(
      `    ${group.length} × ${SHAPE_NAMES[shape]}, ${heads ?? 'unknown'} heads, ${side * side} queries (${side}×${side}, ${grid}):`,
      ...group.map((l) => `      ${l.nodeName || '(unnamed node)'}`),
    );
  }
  return { lines, found: true };
}

/** SDXL: where the prompt is read from, and tokenizer_2's padding. */
function sdxlConditioningLine(clip: ClipModel): string {
  const second = clip.second!;
  const pad = tokenizerFor(second.tokenizerDir).padId;
  return (
    `  SDXL conditioning: ${clip.signature.penultimateOutput} (${clip.signature.hiddenSize}) ‖ text_encoder_2 ${second.signature.penultimateOutput} (${second.signature.hiddenSize}); ` +
    `text_embeds ${second.signature.pooledWidth ?? 'dynamic'} wide; tokenizer_2 pad ${pad}; time_ids from the frame size`
  );
}

export interface ModelReport {
  text: string;
  /** False when the UNet has no cross-attention layer InjectCrossAttention could bias. */
  crossAttentionFound: boolean;
}

export async function inspectModel(dir: string, device: Device = 'auto'): Promise<ModelReport> {
  const { model, clip, vae, provider, warnings } = await loadModel(dir, device);
  const unetConfig = readUNetConfig(path.dirname(model.unetFile));
  const textEncoders = [clip.textEncoderFile, ...(clip.second ? [clip.second.textEncoderFile] : []), ...(clip.sd3 ? [clip.sd3.clipG.file, ...(clip.sd3.t5 ? [clip.sd3.t5.file] : [])] : [])];
  const parts = [model.unetFile, ...textEncoders, ...(vae.encoderFile ? [vae.encoderFile] : []), vae.decoderFile];
  const lines = [`${model.name}  (${dir})`, `family: ${FAMILY_NAMES[model.family]}`, 'parts:'];
  for (const file of parts) lines.push(...(await describePart(dir, file, device)));
  const tokenizer = tokenizerFor(clip.tokenizerDir);
  const s = model.scheduler;
  const u = model.unet;
  lines.push(
    'detected:',
    `  provider: ${provider}${warnings.map((w) => ` (${w})`).join('')}`,
    `  float type: ${u.floatType}`,
    `  timestep: ${u.timestepType}, shape ${u.timestepShape === 'scalar' ? '[]' : u.timestepShape === 'one' ? '[1]' : '[batch]'}`,
    `  encoder_hidden_states width: ${u.contextDim ?? 'dynamic'}${u.timestepCondDim ? `; timestep_cond (LCM guidance embedding) ${u.timestepCondDim}` : ''}`,
    `  text encoder: input_ids ${clip.signature.idsType}; tokenizer BOS ${tokenizer.bosId}, EOS ${tokenizer.eosId}, pad ${tokenizer.padId}, length ${tokenizer.maxLength}`,
    ...(clip.second ? [sdxlConditioningLine(clip)] : []),
    `  vae: down-factor ${vae.downFactor}, scaling_factor ${vae.scalingFactor}${vae.shiftFactor ? `, shift_factor ${vae.shiftFactor}` : ''}, latent channels ${vae.latentChannels}, ` +
      (vae.encoder ? `encoder output ${vae.encoder.output}` : 'no encoder (text-to-image only)'),
    model.flow
      ? `  scheduler: FlowMatchEulerDiscrete, shift ${model.flow.shift} over ${model.flow.numTrainTimesteps} (velocity prediction, timestep = σ·${model.flow.numTrainTimesteps})`
      : `  scheduler: ${s.betaSchedule} β ${s.betaStart}–${s.betaEnd} over ${s.numTrainTimesteps}, ${s.predictionType}, ${s.timestepSpacing} spacing, steps_offset ${s.stepsOffset}`,
    ...(clip.sd3
      ? [
          `  prompt: CLIP-L + CLIP-G penultimate states zero-padded to ${clip.sd3.contextDim}, then ${clip.sd3.t5 ? `T5's ${clip.sd3.t5Length} tokens` : `${clip.sd3.t5Length} zero tokens (no text_encoder_3)`}; pooled ${model.pooledDim ?? 'dynamic'}`,
        ]
      : []),
    `  latent sides: multiples of ${model.latentMultiple} (${unetConfig.latentMultipleSource}); images are padded to multiples of ${vae.downFactor * model.latentMultiple} px and cropped back`,
  );
  const crossAttention = await describeCrossAttention(model.unetFile, vae.downFactor, unetConfig.heads);
  lines.push(...crossAttention.lines);
  return { text: lines.join('\n'), crossAttentionFound: crossAttention.found };
}
