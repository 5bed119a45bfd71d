// What the parts of an SD3/3.5 ONNX export must look like (REFERENCE §8), checked against the session's
// input/output metadata. Failures name the file, what was expected and what was found.
import type { InferenceSession } from 'onnxruntime-node';
import { FLOAT_TYPES, PartChecker, type FloatType, type UNetSignature } from '../contract.ts';

type Metadata = readonly InferenceSession.ValueMetadata[];

export interface TransformerSignature extends UNetSignature {
  /** pooled_projections' width when the export fixes it (2048). */
  pooledDim?: number;
}

const fixed = (dim: number | string | undefined) => (typeof dim === 'number' ? dim : undefined);

export function checkTransformer(file: string, inputs: Metadata, outputs: Metadata, latentChannels: number): TransformerSignature {
  const c = new PartChecker(file, inputs, outputs);
  const hidden = c.tensor('input', ['hidden_states'], FLOAT_TYPES, [4], '[batch, 16, height/8, width/8]');
  c.staticDim(hidden, 1, [latentChannels], 'latent channels (the VAE\'s latent_channels)');
  const context = c.tensor('input', ['encoder_hidden_states'], FLOAT_TYPES, [3], '[batch, 333, 4096]');
  const pooled = c.tensor('input', ['pooled_projections'], FLOAT_TYPES, [2], '[batch, 2048]');
  const timestep = c.tensor('input', ['timestep'], ['float32', 'float16', 'int64'], [0, 1], '[batch] (σ·1000)');
  const out = c.tensor('output', ['out_hidden_states'], FLOAT_TYPES, [4], '[batch, 16, height/8, width/8]');
  return {
    floatType: c.sameFloatType([hidden, context, pooled, out]),
    timestepType: timestep.type as UNetSignature['timestepType'],
    timestepShape: timestep.shape.length === 0 ? 'scalar' : timestep.shape[0] === 1 ? 'one' : 'batch',
    contextDim: fixed(context.shape[2]),
    pooledDim: fixed(pooled.shape[1]),
  };
}

export interface Sd3TextSignature {
  idsType: 'int32' | 'int64';
  floatType: FloatType;
  hiddenOutput: string;
  /** The prompt embedding's width when fixed. */
  hiddenSize?: number;
  /** text_embeds' width (CLIPs only). */
  pooledSize?: number;
}

/** A CLIP text model with projection exported with its hidden states: `text_embeds` and `hidden_states.0…L`; the prompt is `hidden_states.{L−1}`. */
export function checkClipWithProjection(file: string, inputs: Metadata, outputs: Metadata): Sd3TextSignature {
  const c = new PartChecker(file, inputs, outputs);
  const ids = c.tensor('input', ['input_ids'], ['int32', 'int64'], [2], '[batch, 77]');
  const pooled = c.tensor('output', ['text_embeds'], FLOAT_TYPES, [2], '[batch, projection]');
  const layers = outputs.map((o) => /^hidden_states\.(\d+)$/.exec(o.name)).filter((m) => m !== null).map((m) => Number(m[1]));
  if (layers.length < 2) {
    c.fail(`expected outputs hidden_states.0 … hidden_states.L (SD3 uses the penultimate one; export with optimum-cli, which adds them), found outputs: ${outputs.map((o) => o.name).join(', ')}`);
  }
  const hiddenOutput = `hidden_states.${Math.max(...layers) - 1}`;
  const hidden = c.tensor('output', [hiddenOutput], FLOAT_TYPES, [3], '[batch, 77, hidden]');
  return { idsType: ids.type as 'int32' | 'int64', floatType: c.sameFloatType([pooled, hidden]), hiddenOutput, hiddenSize: fixed(hidden.shape[2]), pooledSize: fixed(pooled.shape[1]) };
}

/** T5's encoder: input_ids → last_hidden_state. */
export function checkT5(file: string, inputs: Metadata, outputs: Metadata): Sd3TextSignature {
  const c = new PartChecker(file, inputs, outputs);
  const ids = c.tensor('input', ['input_ids'], ['int32', 'int64'], [2], '[batch, 256]');
  const hidden = c.tensor('output', ['last_hidden_state'], FLOAT_TYPES, [3], '[batch, 256, 4096]');
  return { idsType: ids.type as 'int32' | 'int64', floatType: hidden.type as FloatType, hiddenOutput: 'last_hidden_state', hiddenSize: fixed(hidden.shape[2]) };
}
