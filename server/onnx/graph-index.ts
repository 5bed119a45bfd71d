// Lookups over an ONNX graph: who produces a tensor, which tensors are constants, and the integer
// values of small constant tensors (reshape targets, scales).
import type { GraphProto, NodeProto, TensorProto } from 'onnx-buf';
import { AttributeProto_AttributeType, TensorProto_DataType } from 'onnx-buf';

export class GraphIndex {
  readonly producers = new Map<string, NodeProto>();
  readonly initializers = new Map<string, TensorProto>();
  readonly graphInputs = new Set<string>();

  constructor(readonly graph: GraphProto) {
    for (const node of graph.node) for (const output of node.output) this.producers.set(output, node);
    for (const tensor of graph.initializer) this.initializers.set(tensor.name, tensor);
    for (const input of graph.input) if (!this.initializers.has(input.name)) this.graphInputs.add(input.name);
  }

  producer(tensor: string): NodeProto | undefined {
    return this.producers.get(tensor);
  }

  /** An initializer, a Constant node's output, or a chain of Cast/Identity over one. */
  isConstant(tensor: string): boolean {
    if (this.initializers.has(tensor)) return true;
    const node = this.producers.get(tensor);
    if (!node) return false;
    if (node.opType === 'Constant') return true;
    if (node.opType === 'Cast' || node.opType === 'Identity') return this.isConstant(node.input[0]);
    return false;
  }

  constantTensor(tensor: string): TensorProto | undefined {
    const initializer = this.initializers.get(tensor);
    if (initializer) return initializer;
    const node = this.producers.get(tensor);
    if (node?.opType === 'Constant') return node.attribute.find((a) => a.name === 'value')?.t;
    if (node?.opType === 'Identity') return this.constantTensor(node.input[0]);
    return undefined;
  }

  /**
   * The elements of a 1-D integer/float tensor when known: constant elements as numbers, elements
   * computed at run time (a Concat of Shape-derived pieces) as null. Undefined when not traceable.
   */
  elements(tensor: string): (number | null)[] | undefined {
    const constant = this.constantTensor(tensor);
    if (constant) return tensorNumbers(constant);
    const node = this.producers.get(tensor);
    if (!node) return undefined;
    if (node.opType === 'Concat') {
      const parts = node.input.map((input) => this.elements(input) ?? [null]);
      return parts.flat();
    }
    if (node.opType === 'Unsqueeze' || node.opType === 'Cast') {
      const inner = this.elements(node.input[0]);
      return inner ?? [null];
    }
    return undefined;
  }

  attributeInt(node: NodeProto, name: string): number | undefined {
    const attribute = node.attribute.find((a) => a.name === name);
    return attribute && attribute.type === AttributeProto_AttributeType.INT ? Number(attribute.i) : undefined;
  }

  attributeInts(node: NodeProto, name: string): number[] | undefined {
    const attribute = node.attribute.find((a) => a.name === name);
    return attribute ? attribute.ints.map(Number) : undefined;
  }
}

/** Numbers held by a small tensor (raw little-endian bytes or the typed repeated fields). */
export function tensorNumbers(tensor: TensorProto): number[] {
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    // An unaligned view into the file's buffer (a Node Buffer's slice() is a view too, not a copy).
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size = { [TensorProto_DataType.INT64]: 8, [TensorProto_DataType.INT32]: 4, [TensorProto_DataType.FLOAT]: 4, [TensorProto_DataType.DOUBLE]: 8 }[tensor.dataType];
    if (!size) return [];
    const values: number[] = [];
    for (let offset = 0; offset + size <= raw.length; offset += size) {
      if (tensor.dataType === TensorProto_DataType.INT64) values.push(Number(view.getBigInt64(offset, true)));
      else if (tensor.dataType === TensorProto_DataType.INT32) values.push(view.getInt32(offset, true));
      else if (tensor.dataType === TensorProto_DataType.FLOAT) values.push(view.getFloat32(offset, true));
      else values.push(view.getFloat64(offset, true));
    }
    return values;
  }
  if (tensor.int64Data.length > 0) return tensor.int64Data.map(Number);
  if (tensor.int32Data.length > 0) return [...tensor.int32Data];
  if (tensor.floatData.length > 0) return [...tensor.floatData];
  if (tensor.doubleData.length > 0) return [...tensor.doubleData];
  return [];
}
