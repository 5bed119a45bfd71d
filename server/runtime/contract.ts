// What each part of a Stable Diffusion ONNX export must look like (REFERENCE §2), checked against the
// session's input/output metadata. Failures name the file, what was expected and what was found.
import type { InferenceSession } from 'onnxruntime-node';
import { LimelightError } from '../errors.ts';

export type FloatType = 'float32' | 'float16';
type Metadata = readonly InferenceSession.ValueMetadata[];
type TensorMetadata = InferenceSession.TensorValueMetadata;

export class ModelContractError extends LimelightError {}

export const FLOAT_TYPES = ['float32', 'float16'] as const;

function describe(value: TensorMetadata): string {
  return `${value.type} [${value.shape.join(', ')}]`;
}

function names(values: Metadata): string {
  return values.map((v) => v.name).join(', ') || '(none)';
}

export class PartChecker {
  constructor(
    private readonly file: string,
    private readonly inputs: Metadata,
    private readonly outputs: Metadata,
  ) {}

  fail(message: string): never {
    throw new ModelContractError(`${this.file}: ${message}`);
  }

  /** The tensor named `name` (or one of `alternatives`), checked for type and rank. */
  tensor(kind: 'input' | 'output', candidates: readonly string[], types: readonly string[], ranks: readonly number[], shapeHint: string): TensorMetadata {
    const list = kind === 'input' ? this.inputs : this.outputs;
    const found = list.find((v) => candidates.includes(v.name));
    if (!found) this.fail(`expected an ${kind} named ${candidates.map((c) => `"${c}"`).join(' or ')}, found ${kind}s: ${names(list)}`);
    if (!found.isTensor) this.fail(`${kind} "${found.name}" should be a tensor`);
    if (!types.includes(found.type) || !ranks.includes(found.shape.length)) {
      this.fail(`${kind} "${found.name}" expected ${types.join(' or ')} with shape ${shapeHint}, found ${describe(found)} (rank ${found.shape.length})`);
    }
    return found;
  }

  /** A dimension that must have one of `allowed` values when the export fixes it. */
  staticDim(value: TensorMetadata, axis: number, allowed: readonly number[], meaning: string): void {
    const dim = value.shape[axis];
    if (typeof dim === 'number' && !allowed.includes(dim)) {
      this.fail(`"${value.name}" dimension ${axis} (${meaning}) expected ${allowed.join(' or ')}, found ${dim}`);
    }
  }

  onlyInputs(allowed: readonly string[]): void {
    const unexpected = this.inputs.filter((v) => !allowed.includes(v.name));
    if (unexpected.length > 0) {
      this.fail(`unexpected inputs ${names(unexpected)}; a Stable Diffusion 1.x/2.x part takes ${allowed.join(', ')}`);
    }
  }

  sameFloatType(values: TensorMetadata[]): FloatType {
    const type = values[0].type as FloatType;
    const other = values.find((v) => v.type !== type);
    if (other) this.fail(`"${other.name}" is ${other.type} but "${values[0].name}" is ${type}; float inputs and outputs must share one type`);
    return type;
  }
}

export interface UNetSignature {
  floatType: FloatType;
  timestepType: 'int64' | 'int32' | 'float32' | 'float16';
  /** `scalar` = shape [], `one` = [1], `batch` = [B]. */
  timestepShape: 'scalar' | 'one' | 'batch';
  /** encoder_hidden_states' last dim when the export fixes it. */
  contextDim?: number;
  /** Width of `timestep_cond` (LCM's guidance embedding) when the UNet has it. */
  timestepCondDim?: number;
}

/** `extraInputs`: a family's inputs beyond SD's (SDXL's text_embeds and time_ids), checked by the family. */
export function checkUNet(file: string, inputs: Metadata, outputs: Metadata, extraInputs: readonly string[] = []): UNetSignature {
  const c = new PartChecker(file, inputs, outputs);
  const sample = c.tensor('input', ['sample'], FLOAT_TYPES, [4], '[batch, 4, height/8, width/8]');
  c.staticDim(sample, 1, [4], 'latent channels');
  const timestep = c.tensor('input', ['timestep'], ['int64', 'int32', 'float32', 'float16'], [0, 1], '[] or [1] or [batch]');
  const context = c.tensor('input', ['encoder_hidden_states'], FLOAT_TYPES, [3], '[batch, 77, hidden (768 or 1024)]');
  const condition = inputs.find((v) => v.name === 'timestep_cond') as TensorMetadata | undefined;
  const allowed = ['sample', 'timestep', 'encoder_hidden_states', ...(condition ? ['timestep_cond'] : []), ...extraInputs];
  c.onlyInputs(allowed);
  const out = c.tensor('output', ['out_sample'], FLOAT_TYPES, [4], '[batch, 4, height/8, width/8]');
  const floats = [sample, context, out];
  if (condition) floats.push(c.tensor('input', ['timestep_cond'], FLOAT_TYPES, [2], '[batch, embedding]'));
  const floatType = c.sameFloatType(floats);
  const contextDim = context.shape[2];
  const conditionDim = condition?.shape[1];
  return {
    floatType,
    timestepType: timestep.type as UNetSignature['timestepType'],
    timestepShape: timestep.shape.length === 0 ? 'scalar' : timestep.shape[0] === 1 ? 'one' : 'batch',
    contextDim: typeof contextDim === 'number' ? contextDim : undefined,
    timestepCondDim: condition ? (typeof conditionDim === 'number' ? conditionDim : 256) : undefined,
  };
}

export interface TextEncoderSignature {
  idsType: 'int32' | 'int64';
  floatType: FloatType;
  hiddenSize?: number;
  /** SDXL: the `hidden_states.N` output the prompt is read from (families/sdxl.ts). */
  penultimateOutput?: string;
  /** SDXL's text_encoder_2: the width of its pooled projection `text_embeds`. */
  pooledWidth?: number;
}

export function checkTextEncoder(file: string, inputs: Metadata, outputs: Metadata): TextEncoderSignature {
  const c = new PartChecker(file, inputs, outputs);
  const ids = c.tensor('input', ['input_ids'], ['int32', 'int64'], [2], '[batch, 77]');
  c.onlyInputs(['input_ids']);
  const hidden = c.tensor('output', ['last_hidden_state'], FLOAT_TYPES, [3], '[batch, 77, hidden]');
  const size = hidden.shape[2];
  return { idsType: ids.type as 'int32' | 'int64', floatType: hidden.type as FloatType, hiddenSize: typeof size === 'number' ? size : undefined };
}

export interface VaeEncoderSignature {
  floatType: FloatType;
  /** The output to read; when it has 2× the latent channels (mean ‖ logvar) the mean is taken. */
  output: 'latent_sample' | 'latent_parameters';
}

export function checkVaeEncoder(file: string, inputs: Metadata, outputs: Metadata, latentChannels: number): VaeEncoderSignature {
  const c = new PartChecker(file, inputs, outputs);
  const image = c.tensor('input', ['sample'], FLOAT_TYPES, [4], '[batch, 3, height, width]');
  c.staticDim(image, 1, [3], 'RGB channels');
  c.onlyInputs(['sample']);
  const latent = c.tensor('output', ['latent_sample', 'latent_parameters'], FLOAT_TYPES, [4], '[batch, 4 or 8, height/8, width/8]');
  c.staticDim(latent, 1, [latentChannels, 2 * latentChannels], 'latent channels (or mean ‖ logvar)');
  return { floatType: c.sameFloatType([image, latent]), output: latent.name as VaeEncoderSignature['output'] };
}

export interface VaeDecoderSignature {
  floatType: FloatType;
}

export function checkVaeDecoder(file: string, inputs: Metadata, outputs: Metadata, latentChannels: number): VaeDecoderSignature {
  const c = new PartChecker(file, inputs, outputs);
  const latent = c.tensor('input', ['latent_sample'], FLOAT_TYPES, [4], '[batch, 4, height/8, width/8]');
  c.staticDim(latent, 1, [latentChannels], 'latent channels');
  c.onlyInputs(['latent_sample']);
  const image = c.tensor('output', ['sample'], FLOAT_TYPES, [4], '[batch, 3, height, width]');
  return { floatType: c.sameFloatType([latent, image]) };
}
