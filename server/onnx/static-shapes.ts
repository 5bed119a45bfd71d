// What is known about a graph's tensors without running it, in one pass over the (topologically sorted)
// nodes: which tensors depend only on shapes, constants and initializers (what a traced export computes
// from tensor shapes at run time, e.g. head_dim ** -0.5 or a head-splitting Reshape's sizes), each
// tensor's dimensions where they can be told (numbers, null where they vary at run time) and the values
// of small shape-derived tensors.
import type { GraphProto, NodeProto, TensorProto } from 'onnx-buf';
import { AttributeProto_AttributeType, TensorProto_DataType } from 'onnx-buf';

/** Dimensions, null where only known at run time. */
export type Dims = (number | null)[];

/** Elements of a small tensor, null where only known at run time; `integer` as ONNX integer types compute. */
interface Values {
  elements: (number | null)[];
  integer: boolean;
}

/** Values are tracked for tensors this small (shapes, scales), never for weights. */
const MAX_TRACKED_ELEMENTS = 16;

const ELEMENTWISE = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Where', 'Equal', 'Less', 'Greater', 'And', 'Or', 'Not', 'Max', 'Min', 'Mod',
  'Cast', 'Identity', 'Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Exp', 'Log', 'Erf', 'Tanh', 'Relu', 'Sigmoid', 'Softmax',
  'Floor', 'Ceil', 'Clip', 'Dropout', 'LayerNormalization', 'InstanceNormalization', 'GroupNormalization', 'Gelu', 'FastGelu',
]);
const SAME_RANK = new Set(['Conv', 'ConvTranspose', 'AveragePool', 'MaxPool', 'Resize', 'Upsample', 'Pad', 'Tile', 'Slice']);
const INTEGER_TYPES = new Set<number>([
  TensorProto_DataType.INT64, TensorProto_DataType.INT32, TensorProto_DataType.INT16, TensorProto_DataType.INT8,
  TensorProto_DataType.UINT64, TensorProto_DataType.UINT32, TensorProto_DataType.UINT16, TensorProto_DataType.UINT8,
]);

function attribute(node: NodeProto, name: string) {
  return node.attribute.find((a) => a.name === name);
}

function attributeInts(node: NodeProto, name: string): number[] | undefined {
  const found = attribute(node, name);
  return found ? found.ints.map(Number) : undefined;
}

function attributeInt(node: NodeProto, name: string): number | undefined {
  const found = attribute(node, name);
  return found && found.type === AttributeProto_AttributeType.INT ? Number(found.i) : undefined;
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

/** Multidirectional (numpy) broadcasting of known and unknown dimensions. */
function broadcast(all: Dims[]): Dims {
  const rank = Math.max(...all.map((d) => d.length));
  return Array.from({ length: rank }, (_, i) => {
    const column = all.map((d) => d[d.length - rank + i]).filter((d) => d !== undefined);
    const large = column.find((d) => d !== null && d !== 1);
    if (large !== undefined) return large;
    return column.every((d) => d === 1) ? 1 : null;
  });
}

function elementwise(a: Values, b: Values, op: (x: number, y: number) => number): Values | undefined {
  const length = Math.max(a.elements.length, b.elements.length);
  if ((a.elements.length !== 1 && a.elements.length !== length) || (b.elements.length !== 1 && b.elements.length !== length)) return undefined;
  const at = (v: Values, i: number) => v.elements[v.elements.length === 1 ? 0 : i];
  const integer = a.integer && b.integer;
  const elements = Array.from({ length }, (_, i) => {
    const [x, y] = [at(a, i), at(b, i)];
    if (x === null || y === null) return null;
    const result = op(x, y);
    return integer ? Math.trunc(result) : result;
  });
  return { elements, integer };
}

const ARITHMETIC: Record<string, (x: number, y: number) => number> = {
  Add: (x, y) => x + y,
  Sub: (x, y) => x - y,
  Mul: (x, y) => x * y,
  Div: (x, y) => x / y,
  Pow: (x, y) => x ** y,
};
const UNARY: Record<string, (x: number) => number> = {
  Sqrt: Math.sqrt,
  Reciprocal: (x) => 1 / x,
  Neg: (x) => -x,
  Identity: (x) => x,
  Floor: Math.floor,
  Ceil: Math.ceil,
};

/** Python-style slice bounds of one axis, as ONNX Slice clamps them. */
function sliceRange(length: number, start: number, end: number, step: number): number[] {
  const clamp = (v: number, low: number, high: number) => Math.min(Math.max(v < 0 ? v + length : v, low), high);
  const indices: number[] = [];
  if (step > 0) for (let i = clamp(start, 0, length); i < clamp(end, 0, length); i += step) indices.push(i);
  else for (let i = clamp(start, -1, length - 1); i > clamp(end, -1, length - 1); i += step) indices.push(i);
  return indices;
}

export class StaticShapes {
  private readonly constants = new Set<string>();
  private readonly dims = new Map<string, Dims>();
  private readonly values = new Map<string, Values>();

  constructor(graph: GraphProto) {
    for (const tensor of graph.initializer) this.addConstant(tensor.name, tensor);
    for (const input of graph.input) {
      if (this.constants.has(input.name) || input.type?.value.case !== 'tensorType') continue;
      const dim = input.type.value.value.shape?.dim;
      if (dim) this.dims.set(input.name, dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : null)));
    }
    for (const node of graph.node) this.visit(node);
  }

  /** Depends only on shapes, constants and initializers. */
  isConstant(tensor: string): boolean {
    return this.constants.has(tensor);
  }

  dimsOf(tensor: string): Dims | undefined {
    return this.dims.get(tensor);
  }

  /** The elements of a small tensor where known (null where computed from a dimension known only at run time). */
  elementsOf(tensor: string): (number | null)[] | undefined {
    return this.values.get(tensor)?.elements;
  }

  private addConstant(name: string, tensor: TensorProto): void {
    this.constants.add(name);
    const dims = tensor.dims.map(Number);
    this.dims.set(name, dims);
    if (dims.reduce((a, b) => a * b, 1) <= MAX_TRACKED_ELEMENTS) {
      const elements = tensorNumbers(tensor);
      if (elements.length > 0) this.values.set(name, { elements, integer: INTEGER_TYPES.has(tensor.dataType) });
    }
  }

  private visit(node: NodeProto): void {
    const output = node.output[0];
    if (!output) return;
    if (node.opType === 'Constant') {
      const value = attribute(node, 'value')?.t;
      if (value) this.addConstant(output, value);
      else this.constants.add(output);
      return;
    }
    const shapeOnly = node.opType === 'Shape' || node.opType === 'Size';
    if (shapeOnly || (!node.opType.startsWith('Random') && node.input.every((i) => i === '' || this.constants.has(i)))) {
      for (const name of node.output) this.constants.add(name);
    }
    const dims = this.outputDims(node);
    if (dims) for (const name of node.opType === 'Split' ? node.output : [output]) this.dims.set(name, dims);
    const values = this.outputValues(node) ?? (this.constants.has(output) ? this.unknownValues(dims) : undefined);
    if (values && values.elements.length <= MAX_TRACKED_ELEMENTS) this.values.set(output, values);
  }

  /** A small shape-derived tensor whose size is known but whose elements are not. */
  private unknownValues(dims: Dims | undefined): Values | undefined {
    const size = dims?.reduce<number | null>((a, b) => (a === null || b === null ? null : a * b), 1);
    return typeof size === 'number' && size <= MAX_TRACKED_ELEMENTS ? { elements: Array(size).fill(null), integer: true } : undefined;
  }

  private constantInts(tensor: string | undefined): number[] | undefined {
    if (!tensor) return undefined;
    const elements = this.values.get(tensor)?.elements;
    return elements && elements.every((e) => e !== null) ? (elements as number[]) : undefined;
  }

  /** The axes an Unsqueeze/Squeeze/Reduce node names (an attribute before opset 13, an input after). */
  private axes(node: NodeProto): number[] | undefined {
    return attributeInts(node, 'axes') ?? this.constantInts(node.input[1]);
  }

  private outputDims(node: NodeProto): Dims | undefined {
    const input = (i: number) => this.dims.get(node.input[i]);
    const x = input(0);
    const op = node.opType;
    if (op === 'Shape') {
      if (!x) return undefined;
      const [start, end] = [attributeInt(node, 'start') ?? 0, attributeInt(node, 'end') ?? x.length];
      return [sliceRange(x.length, start, end, 1).length];
    }
    if (op === 'Size') return [];
    if (op === 'Transpose') {
      const perm = attributeInts(node, 'perm') ?? (x ? x.map((_, i) => x.length - 1 - i) : undefined);
      return x && perm ? perm.map((p) => x[p]) : undefined;
    }
    if (op === 'Reshape') {
      const target = input(1);
      if (!target || typeof target[0] !== 'number') return undefined;
      const elements = this.values.get(node.input[1])?.elements;
      return Array.from({ length: target[0] }, (_, i) => {
        const e = elements?.[i];
        return e === undefined || e === null || e < 0 ? null : e === 0 ? (x?.[i] ?? null) : e;
      });
    }
    if (op === 'Unsqueeze' || op === 'Squeeze') {
      const axes = this.axes(node);
      if (!x) return undefined;
      if (op === 'Squeeze') {
        if (!axes) return x.every((d) => d !== null) ? x.filter((d) => d !== 1) : undefined;
        const drop = new Set(axes.map((a) => (a < 0 ? a + x.length : a)));
        return x.filter((_, i) => !drop.has(i));
      }
      if (!axes) return undefined;
      const rank = x.length + axes.length;
      const insert = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const rest = [...x];
      return Array.from({ length: rank }, (_, i) => (insert.has(i) ? 1 : (rest.shift() ?? null)));
    }
    if (op === 'Gather') {
      const indices = input(1);
      if (!x || !indices) return undefined;
      const axis = attributeInt(node, 'axis') ?? 0;
      const a = axis < 0 ? axis + x.length : axis;
      return [...x.slice(0, a), ...indices, ...x.slice(a + 1)];
    }
    if (op === 'Concat') {
      const all = node.input.map((i) => this.dims.get(i));
      if (all.some((d) => !d)) return undefined;
      const first = all[0]!;
      const axis = attributeInt(node, 'axis') ?? 0;
      const a = axis < 0 ? axis + first.length : axis;
      const sum = all.reduce<number | null>((total, d) => (total === null || d![a] === null ? null : total + d![a]!), 0);
      return first.map((d, i) => (i === a ? sum : d));
    }
    if (op === 'MatMul') {
      const y = input(1);
      if (!x || !y || x.length < 2 || y.length < 2) return undefined;
      return [...broadcast([x.slice(0, -2), y.slice(0, -2)]), x[x.length - 2], y[y.length - 1]];
    }
    if (op === 'Gemm') return [null, null];
    if (op === 'Expand') {
      const shape = this.values.get(node.input[1])?.elements;
      return x && shape ? broadcast([x, shape.map((e) => (e === 1 ? null : e))]) : undefined;
    }
    if (op.startsWith('Reduce')) {
      if (!x) return undefined;
      if ((attributeInt(node, 'keepdims') ?? 1) === 1) return x.map(() => null);
      const axes = this.axes(node);
      return axes ? x.filter((_, i) => !axes.some((a) => (a < 0 ? a + x.length : a) === i)) : undefined;
    }
    if (op === 'Slice' && x?.length === 1) {
      const elements = this.sliced(node, x[0]);
      return elements ? [elements.length] : [null];
    }
    if (SAME_RANK.has(op)) return x ? x.map(() => null) : undefined;
    if (op === 'Split') return x ? x.map(() => null) : undefined;
    if (ELEMENTWISE.has(op)) {
      const all = node.input.filter((i) => i !== '').map((i) => this.dims.get(i));
      if (op === 'LayerNormalization' || op === 'InstanceNormalization' || op === 'GroupNormalization' || op === 'Clip' || op === 'Dropout') return x;
      return all.every((d) => d) ? broadcast(all as Dims[]) : undefined;
    }
    return undefined;
  }

  /** The indices a 1-D Slice keeps of a tensor of `length` elements (opset ≥ 10: starts, ends, axes, steps as inputs). */
  private sliced(node: NodeProto, length: number | null): number[] | undefined {
    const [starts, ends] = [this.constantInts(node.input[1]) ?? attributeInts(node, 'starts'), this.constantInts(node.input[2]) ?? attributeInts(node, 'ends')];
    const steps = this.constantInts(node.input[4]) ?? [1];
    if (length === null || !starts || !ends || starts.length !== 1) return undefined;
    return sliceRange(length, starts[0], Math.min(ends[0], Number.MAX_SAFE_INTEGER), steps[0]);
  }

  private outputValues(node: NodeProto): Values | undefined {
    const value = (i: number) => this.values.get(node.input[i]);
    const x = value(0);
    const op = node.opType;
    if (op === 'Shape') {
      const dims = this.dims.get(node.input[0]);
      if (!dims) return undefined;
      const [start, end] = [attributeInt(node, 'start') ?? 0, attributeInt(node, 'end') ?? dims.length];
      return { elements: sliceRange(dims.length, start, end, 1).map((i) => dims[i]), integer: true };
    }
    if (op === 'Size') {
      const dims = this.dims.get(node.input[0]);
      return dims ? { elements: [dims.reduce<number | null>((a, b) => (a === null || b === null ? null : a * b), 1)], integer: true } : undefined;
    }
    if (!x) return undefined;
    if (op === 'Gather') {
      const indices = this.constantInts(node.input[1]);
      if (!indices || (attributeInt(node, 'axis') ?? 0) !== 0) return undefined;
      const n = x.elements.length;
      return { elements: indices.map((i) => x.elements[i < 0 ? i + n : i] ?? null), integer: x.integer };
    }
    if (op === 'Unsqueeze' || op === 'Squeeze' || op === 'Reshape' || (op === 'Expand' && x.elements.length === 1)) return x;
    if (op === 'Cast') {
      const integer = INTEGER_TYPES.has(attributeInt(node, 'to') ?? 0);
      return { elements: x.elements.map((e) => (e !== null && integer ? Math.trunc(e) : e)), integer };
    }
    if (op === 'Concat') {
      const all = node.input.map((i) => this.values.get(i));
      return all.every((v) => v) ? { elements: all.flatMap((v) => v!.elements), integer: x.integer } : undefined;
    }
    if (op === 'Slice') {
      const indices = this.sliced(node, x.elements.length);
      return indices ? { elements: indices.map((i) => x.elements[i]), integer: x.integer } : undefined;
    }
    if (op in UNARY) {
      const f = UNARY[op];
      return { elements: x.elements.map((e) => (e === null ? null : f(e))), integer: x.integer && op !== 'Sqrt' && op !== 'Reciprocal' };
    }
    const y = value(1);
    if (op in ARITHMETIC && y) return elementwise(x, y, ARITHMETIC[op]);
    return undefined;
  }
}
