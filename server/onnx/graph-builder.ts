// A small builder for ONNX graphs in TypeScript (onnx-buf). Nodes and values are named the way torch's
// exporter names them (`/down_blocks.0/attentions.0/.../attn2/Softmax`, `..._output_0`), initializers the
// way diffusers names parameters (`down_blocks.0.attentions.0....to_k.weight`).
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  NodeProtoSchema,
  TensorProtoSchema,
  ValueInfoProtoSchema,
  ModelProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { toHalfArray } from '../runtime/float16.ts';

export type FloatType = 'float32' | 'float16';
export type Dim = number | string;
export type ValueType = FloatType | 'int64' | 'int32';
/** Plain numbers: integers become INT, others FLOAT; `{float}` forces FLOAT for integral values. */
export type AttributeValue = number | number[] | string | { floats: number[] } | { float: number };

const DATA_TYPES: Record<ValueType, TensorProto_DataType> = {
  float32: TensorProto_DataType.FLOAT,
  float16: TensorProto_DataType.FLOAT16,
  int64: TensorProto_DataType.INT64,
  int32: TensorProto_DataType.INT32,
};

export const OPSET = 17;
const CONTRIB_DOMAIN = 'com.microsoft';

export interface ExternalDataOptions {
  /** File name beside model.onnx, e.g. `weights.pb` or `model.onnx_data`. */
  location: string;
  /** Initializers of at least this many bytes go to the external file. */
  minBytes: number;
}

export interface BuiltModel {
  model: Uint8Array;
  /** Contents of the external data file, when external data was requested. */
  externalData?: Uint8Array;
}

function attribute(name: string, value: AttributeValue): AttributeProto {
  const base = { name };
  if (typeof value === 'string') {
    return create(AttributeProtoSchema, { ...base, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(value) });
  }
  if (Array.isArray(value)) {
    return create(AttributeProtoSchema, { ...base, type: AttributeProto_AttributeType.INTS, ints: value.map(BigInt) });
  }
  if (typeof value === 'object' && 'floats' in value) {
    return create(AttributeProtoSchema, { ...base, type: AttributeProto_AttributeType.FLOATS, floats: value.floats });
  }
  if (typeof value === 'object') {
    return create(AttributeProtoSchema, { ...base, type: AttributeProto_AttributeType.FLOAT, f: value.float });
  }
  return Number.isInteger(value)
    ? create(AttributeProtoSchema, { ...base, type: AttributeProto_AttributeType.INT, i: BigInt(value) })
    : create(AttributeProtoSchema, { ...base, type: AttributeProto_AttributeType.FLOAT, f: value });
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly scopes: string[] = [];
  private readonly usedNames = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly floatType: FloatType,
  ) {}

  /** Runs `body` with node and parameter names prefixed by `scope` (a diffusers module path segment). */
  scope<T>(scope: string, body: () => T): T {
    this.scopes.push(scope);
    try {
      return body();
    } finally {
      this.scopes.pop();
    }
  }

  input(name: string, type: ValueType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ValueType, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A float parameter stored in the graph's float type. */
  weight(name: string, values: ArrayLike<number>, dims: readonly number[]): string {
    return this.tensor(this.parameterName(name), this.floatType, values, dims);
  }

  /** A float32 parameter whatever the graph's float type (Resize scales, index arithmetic). */
  float32(name: string, values: ArrayLike<number>, dims: readonly number[]): string {
    return this.tensor(this.parameterName(name), 'float32', values, dims);
  }

  int64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.tensor(this.parameterName(name), 'int64', values, dims);
  }

  /** A scalar float constant (broadcasts), in the graph's float type. */
  scalar(value: number): string {
    return this.tensor(`${this.nodePrefix()}Constant_output_0`, this.floatType, [value], []);
  }

  /** A scalar float32 constant whatever the graph's float type (index arithmetic). */
  scalarFloat32(value: number): string {
    return this.tensor(`${this.nodePrefix()}Constant_output_0`, 'float32', [value], []);
  }

  /** Adds a node; returns its output names (`outputs` of them, or the names given). */
  opN(type: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, outputs: number | readonly string[] = 1): string[] {
    const nodeName = this.uniqueName(`${this.nodePrefix()}${type}`);
    const outputNames = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => `${nodeName}_output_${i}`) : [...outputs];
    this.nodes.push(
      create(NodeProtoSchema, {
        name: nodeName,
        opType: type,
        input: [...inputs],
        output: outputNames,
        attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
      }),
    );
    return outputNames;
  }

  op(type: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, output?: string): string {
    return this.opN(type, inputs, attributes, output === undefined ? 1 : [output])[0];
  }

  /** An onnxruntime contrib op (domain com.microsoft, e.g. the fused MultiHeadAttention); one output. */
  contribOp(type: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string {
    const [output] = this.opN(type, inputs, attributes);
    this.nodes[this.nodes.length - 1].domain = CONTRIB_DOMAIN;
    return output;
  }

  /** Serializes the model; with `external`, large initializers move to a separate data file. */
  build(external?: ExternalDataOptions): BuiltModel {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const initializers = this.initializers.map((tensor) => {
      if (!external || tensor.rawData.byteLength < external.minBytes) return tensor;
      const length = tensor.rawData.byteLength;
      chunks.push(tensor.rawData);
      const entry = create(TensorProtoSchema, {
        name: tensor.name,
        dataType: tensor.dataType,
        dims: tensor.dims,
        dataLocation: TensorProto_DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: external.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(length) },
        ],
      });
      offset += length;
      return entry;
    });
    const model = create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: 'limelight',
      producerVersion: '1',
      opsetImport: [
        { domain: '', version: BigInt(OPSET) },
        ...(this.nodes.some((n) => n.domain === CONTRIB_DOMAIN) ? [{ domain: CONTRIB_DOMAIN, version: 1n }] : []),
      ],
      graph: { name: this.name, node: this.nodes, initializer: initializers, input: this.inputs, output: this.outputs },
    });
    const externalData = external ? concat(chunks, offset) : undefined;
    return { model: toBinary(ModelProtoSchema, model), externalData };
  }

  private tensor(name: string, type: ValueType, values: ArrayLike<number>, dims: readonly number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== values.length) throw new Error(`${name}: ${values.length} values for dims [${dims.join(', ')}]`);
    const unique = this.uniqueName(name);
    this.initializers.push(
      create(TensorProtoSchema, { name: unique, dataType: DATA_TYPES[type], dims: dims.map(BigInt), rawData: rawBytes(type, values) }),
    );
    return unique;
  }

  private nodePrefix(): string {
    return this.scopes.length > 0 ? `/${this.scopes.join('/')}/` : '/';
  }

  private parameterName(name: string): string {
    return [...this.scopes, name].join('.');
  }

  private uniqueName(base: string): string {
    const count = this.usedNames.get(base) ?? 0;
    this.usedNames.set(base, count + 1);
    return count === 0 ? base : `${base}_${count}`;
  }
}

function valueInfo(name: string, type: ValueType, dims: readonly Dim[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: DATA_TYPES[type],
          shape: {
            dim: dims.map((d) => ({ value: typeof d === 'number' ? { case: 'dimValue' as const, value: BigInt(d) } : { case: 'dimParam' as const, value: d } })),
          },
        },
      },
    },
  });
}

/** Little-endian raw_data for an initializer. */
function rawBytes(type: ValueType, values: ArrayLike<number>): Uint8Array<ArrayBuffer> {
  const typed =
    type === 'float32'
      ? Float32Array.from(values)
      : type === 'float16'
        ? toHalfArray(values)
        : type === 'int32'
          ? Int32Array.from(values)
          : BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  return new Uint8Array(typed.buffer as ArrayBuffer);
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
