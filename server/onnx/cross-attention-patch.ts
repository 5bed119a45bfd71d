// The surgery. The bias B[q,k] = Σᵢ Lᵢ[q]·Gᵢ[k] has rank r (one term per chained injection), so where
// scores come from a Q·Kᵀ MatMul it is folded into that MatMul: L becomes r extra columns of Q and G r
// extra rows of Kᵀ, and no extra pass over the [HW, tokens] scores is made. Fused attention (and scores
// the fold cannot reach, e.g. through a Cast) get the whole bias added instead. New graph inputs are
// shared by the layers of one query resolution.
import { create } from '@bufbuild/protobuf';
import type { ModelProto, NodeProto, TensorProto } from 'onnx-buf';
import {
  AttributeProto_AttributeType,
  NodeProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import { fromHalfBits, toHalfArray } from '../runtime/float16.ts';
import { CrossAttentionSearch, ENCODER_INPUT, type CrossAttentionLayer } from './cross-attention-find.ts';
import { GraphIndex } from './graph-index.ts';
import { tensorNumbers } from './static-shapes.ts';
import { LimelightError } from '../errors.ts';

/** Bump when the surgery changes: patched files are cached under it. */
export const SURGERY_VERSION = 4;
export const BIAS_METADATA_KEY = 'limelight.cross_attention_bias';

/**
 * What a bias input carries, per batch row: `bias` the whole [HW, tokens] bias; `query-factors` L, [HW, r]
 * (each injection's log factor per query); `token-factors` G, [r, tokens] (each injection's token gate).
 */
export type BiasInputKind = 'bias' | 'query-factors' | 'token-factors';

/**
 * A new graph input the sampler must feed, [B, 1, rows, columns]: one block per batch row, shared by
 * the heads (legacy 3-D scores, [B·heads, …], get it repeated per head inside the graph).
 */
export interface BiasInput {
  name: string;
  kind: BiasInputKind;
  divisor: number;
  elemType: TensorProto_DataType;
  layers: number;
  /**
   * Joint attention (SD3): rows and columns are [image tokens, text tokens]; the sampler feeds query
   * factors that are 0 on the text rows and token factors that are 0 on the image columns.
   */
  joint?: boolean;
}

export interface PatchResult {
  layers: CrossAttentionLayer[];
  biasInputs: BiasInput[];
}

export class NoCrossAttentionError extends LimelightError {}

type BiasSpec = Omit<BiasInput, 'layers'>;

function dimension(value: string | number) {
  return create(TensorShapeProto_DimensionSchema, {
    value: typeof value === 'number' ? { case: 'dimValue', value: BigInt(value) } : { case: 'dimParam', value },
  });
}

function biasInputFor(layer: CrossAttentionLayer, kind: BiasInputKind): BiasSpec {
  const fp16 = layer.scoresType === TensorProto_DataType.FLOAT16 ? '_fp16' : '';
  const joint = layer.joint ? '_joint' : '';
  const name = `limelight_attention_${kind.replace('-', '_')}${joint}_d${layer.divisor}${fp16}`;
  return { name, kind, divisor: layer.divisor, elemType: layer.scoresType, ...(layer.joint && { joint: true }) };
}

function graphInput(bias: BiasSpec) {
  const lead = [dimension('bias_batch'), dimension(1)];
  const [queries, rank, tokens] = bias.joint
    ? [dimension(`bias_joint_d${bias.divisor}`), dimension('bias_rank'), dimension(`bias_joint_d${bias.divisor}`)]
    : [dimension(`bias_hw_d${bias.divisor}`), dimension('bias_rank'), dimension('bias_tokens')];
  const trailing = { bias: [queries, tokens], 'query-factors': [queries, rank], 'token-factors': [rank, tokens] }[bias.kind];
  return create(ValueInfoProtoSchema, {
    name: bias.name,
    type: create(TypeProtoSchema, {
      value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: bias.elemType, shape: create(TensorShapeProtoSchema, { dim: [...lead, ...trailing] }) }) },
    }),
  });
}

function scalarValue(tensor: TensorProto | undefined): number | undefined {
  if (!tensor || tensor.dims.reduce((a, b) => a * b, 1n) !== 1n) return undefined;
  if (tensor.dataType !== TensorProto_DataType.FLOAT16) return tensorNumbers(tensor)[0];
  const raw = tensor.rawData;
  // raw_data may be a view into the whole file's buffer: read it in place.
  const bits = raw.byteLength === 2 ? new DataView(raw.buffer, raw.byteOffset, 2).getUint16(0, true) : tensor.int32Data[0];
  return bits === undefined ? undefined : fromHalfBits(bits);
}

/**
 * A product of scalars: a number, and run-time scalars the export computes from tensor shapes (e.g.
 * head_dim ** -0.5 when shapes are dynamic), each multiplying (or, `divides`, dividing) the scores.
 */
interface Scale {
  factor: number;
  terms: { tensor: string; divides: boolean }[];
}

const UNSCALED: Scale = { factor: 1, terms: [] };

function times(a: Scale, b: Scale): Scale {
  return { factor: a.factor * b.factor, terms: [...a.terms, ...b.terms] };
}

/** A tensor that reaches the Q·Kᵀ MatMul multiplied by `scale` (through `consumer`, the first op on the way). */
interface ScaledOperand {
  tensor: string;
  consumer: NodeProto;
  scale: Scale;
}

interface FoldTarget {
  query: ScaledOperand;
  key: ScaledOperand;
  /** Everything the factors' product is multiplied by on its way to the Softmax. */
  scale: Scale;
}

/**
 * Where the factors join the scores. They are concatenated above the scalar Muls around the MatMul (as
 * torch's SDPA export scales Q and Kᵀ), so onnxruntime still fuses those scales into the MatMul, and
 * G is divided by every scale met, so the Softmax sees scores + B as before.
 */
class FoldSearch {
  private readonly uses = new Map<string, number>();

  constructor(private readonly index: GraphIndex) {
    const count = (name: string) => this.uses.set(name, (this.uses.get(name) ?? 0) + 1);
    for (const node of index.graph.node) node.input.forEach(count);
    for (const output of index.graph.output) count(output.name);
  }

  /**
   * The MatMul behind a Softmax's scores. Null when the path to the Softmax holds anything the fold
   * cannot undo exactly (a Cast would need factors of another type; a non-scalar scale) or a tensor
   * something else also reads.
   */
  find(scores: string): FoldTarget | null {
    let scale = UNSCALED;
    let tensor = scores;
    const path = new Set<string>();
    for (;;) {
      const node = this.index.producer(tensor);
      if (!node || this.uses.get(tensor) !== 1) return null;
      path.add(tensor);
      if (node.opType === 'MatMul') {
        const query = this.scaledOperand(node.input[0], node);
        const key = this.scaledOperand(node.input[1], node);
        scale = times(scale, times(query.scale, key.scale));
        // The factors are scaled before the MatMul: a run-time scale read from the scores' own shape would be a cycle.
        if (scale.terms.some((term) => this.readsShapeOf(term.tensor, path))) return null;
        return { query, key, scale };
      }
      const step = this.scalarStep(node);
      const variable = node.input.filter((input) => input !== '' && !this.index.isConstant(input));
      if (step) {
        scale = times(scale, step.scale);
        tensor = step.data;
      } else if ((node.opType === 'Add' || node.opType === 'Identity') && variable.length === 1) {
        tensor = variable[0];
      } else {
        return null;
      }
    }
  }

  /** Walks up from a MatMul operand through scalar Muls and Divs read by nothing else. */
  private scaledOperand(tensor: string, consumer: NodeProto): ScaledOperand {
    const operand: ScaledOperand = { tensor, consumer, scale: UNSCALED };
    for (;;) {
      const node = this.index.producer(operand.tensor);
      const step = node && this.uses.get(operand.tensor) === 1 ? this.scalarStep(node) : null;
      if (!node || !step) return operand;
      Object.assign(operand, { tensor: step.data, consumer: node, scale: times(operand.scale, step.scale) });
    }
  }

  /**
   * Mul by, or Div by, a scalar that depends only on constants and shapes: the data input and the scale
   * it applies. Its value is used where it is known (constants, or shapes fixed by the weights), else
   * the tensor itself, which the graph computes at run time.
   */
  private scalarStep(node: NodeProto): { data: string; scale: Scale } | null {
    if (node.opType !== 'Mul' && node.opType !== 'Div') return null;
    const [a, b] = node.input;
    const constant = this.index.isConstant(b) ? b : node.opType === 'Mul' && this.index.isConstant(a) ? a : undefined;
    const data = constant === b ? a : b;
    if (constant === undefined || this.index.isConstant(data)) return null;
    const divides = node.opType === 'Div';
    const elements = this.index.elements(constant);
    const value = scalarValue(this.index.constantTensor(constant)) ?? (elements?.length === 1 ? elements[0] : null);
    if (typeof value === 'number') {
      if (value === 0 || !Number.isFinite(value)) return null;
      return { data, scale: { factor: divides ? 1 / value : value, terms: [] } };
    }
    const dims = this.index.dims(constant);
    const scalar = dims !== undefined && dims.every((d) => d === 1);
    return scalar ? { data, scale: { factor: 1, terms: [{ tensor: constant, divides }] } } : null;
  }

  /** Whether a shape-derived tensor is computed from the shape of one of `tensors`. */
  private readsShapeOf(tensor: string, tensors: ReadonlySet<string>): boolean {
    const stack = [tensor];
    const seen = new Set<NodeProto>();
    while (stack.length > 0) {
      const node = this.index.producer(stack.pop()!);
      if (!node || seen.has(node)) continue;
      seen.add(node);
      if (node.opType === 'Shape' || node.opType === 'Size') {
        if (tensors.has(node.input[0])) return true;
      } else {
        stack.push(...node.input.filter((i) => i !== ''));
      }
    }
    return false;
  }
}

/** Collects the inserted nodes (each before the node it feeds) and their constants, named apart from the export's. */
class Insertions {
  readonly before = new Map<NodeProto, NodeProto[]>();
  readonly initializers: TensorProto[] = [];
  private readonly constants = new Map<string, string>();
  private nodes: NodeProto[] = [];
  private count = 0;

  /** Nodes added from now on go before `node`. */
  at(node: NodeProto): this {
    this.nodes = this.before.get(node) ?? [];
    this.before.set(node, this.nodes);
    return this;
  }

  add(node: NodeProto): void {
    this.nodes.push(node);
  }

  op(opType: string, input: string[], axis?: number): string {
    const name = `limelight_fold_${this.count++}`;
    const attribute = axis === undefined ? [] : [{ name: 'axis', type: AttributeProto_AttributeType.INT, i: BigInt(axis) }];
    this.add(create(NodeProtoSchema, { name, opType, input, output: [`${name}_output`], attribute }));
    return `${name}_output`;
  }

  int64(values: number[]): string {
    return this.constant(TensorProto_DataType.INT64, [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  scalar(type: TensorProto_DataType, value: number): string {
    return this.constant(type, [], type === TensorProto_DataType.FLOAT16 ? toHalfArray([value]) : Float32Array.of(value));
  }

  /** `tensor` broadcast to `like`'s shape except its last `keep` dimensions (Concat does not broadcast). */
  expandLike(tensor: string, like: string, keep: number): string {
    const leading = this.slice(this.op('Shape', [like]), 0, -keep);
    return this.op('Expand', [tensor, this.op('Concat', [leading, this.int64(Array(keep).fill(1))], 0)]);
  }

  /**
   * A [B, 1, X, Y] tensor repeated per head as the rows of `like` ([B·heads, …], legacy 3-D scores, batch
   * major): [B·heads, X, Y]. The head count is read from `like`'s shape at run time, never assumed.
   */
  repeatPerHead(tensor: string, like: string): string {
    const shape = this.op('Shape', [tensor]);
    const [batch, inner] = [this.slice(shape, 0, 1), this.slice(shape, 2, 4)];
    const rows = this.slice(this.op('Shape', [like]), 0, 1);
    const expanded = this.op('Expand', [tensor, this.op('Concat', [batch, this.op('Div', [rows, batch]), inner], 0)]);
    return this.op('Reshape', [expanded, this.op('Concat', [rows, inner], 0)]);
  }

  /** Elements [start, end) of a 1-D tensor. */
  private slice(tensor: string, start: number, end: number): string {
    return this.op('Slice', [tensor, this.int64([start]), this.int64([end]), this.int64([0])]);
  }

  private constant(dataType: TensorProto_DataType, dims: number[], values: BigInt64Array | Float32Array | Uint16Array): string {
    const key = `${dataType}:${dims.length}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `limelight_fold_constant_${this.constants.size}`;
      this.constants.set(key, name);
      const rawData = new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
      this.initializers.push(create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData }));
    }
    return name;
  }
}

/**
 * The nodes, each after the producers of its inputs, otherwise in the order given: an inserted node may
 * read a run-time scale the export computes further down.
 */
function topologicalOrder(nodes: readonly NodeProto[]): NodeProto[] {
  const produced = new Set(nodes.flatMap((n) => n.output));
  const ready = new Set<string>();
  const waiting = new Map<string, NodeProto[]>();
  const missing = new Map<NodeProto, number>();
  const ordered: NodeProto[] = [];
  const emit = (node: NodeProto): void => {
    ordered.push(node);
    for (const output of node.output) {
      ready.add(output);
      for (const waiter of waiting.get(output) ?? []) {
        const left = missing.get(waiter)! - 1;
        missing.set(waiter, left);
        if (left === 0) emit(waiter);
      }
      waiting.delete(output);
    }
  };
  for (const node of nodes) {
    const needs = new Set(node.input.filter((i) => produced.has(i) && !ready.has(i)));
    if (needs.size === 0) {
      emit(node);
      continue;
    }
    missing.set(node, needs.size);
    for (const tensor of needs) waiting.set(tensor, [...(waiting.get(tensor) ?? []), node]);
  }
  if (ordered.length !== nodes.length) throw new Error('the patched attention graph has a cycle');
  return ordered;
}

function replaceInput(node: NodeProto, from: string, to: string): void {
  node.input = node.input.map((input) => (input === from ? to : input));
}

/**
 * The cross-attention layers of a UNet; throws NoCrossAttentionError saying what was searched when there
 * are none. `configHeads`: unet/config.json's head count, for layers whose graph does not fix it.
 */
export function findCrossAttention(model: ModelProto, configHeads?: number | readonly number[]): CrossAttentionLayer[] {
  return searchCrossAttention(model, configHeads).layers;
}

function searchCrossAttention(model: ModelProto, configHeads?: number | readonly number[]): { layers: CrossAttentionLayer[]; index: GraphIndex } {
  const search = new CrossAttentionSearch(model);
  const layers = search.find(configHeads);
  const graph = model.graph!;
  if (layers.length === 0) {
    const softmaxes = graph.node.filter((n) => n.opType === 'Softmax').length;
    const fused = graph.node.filter((n) => n.opType === 'MultiHeadAttention').length;
    throw new NoCrossAttentionError(
      search.hasEncoderInput
        ? `no cross-attention found: searched ${softmaxes} Softmax and ${fused} fused MultiHeadAttention nodes for a key computed by a weight MatMul from '${ENCODER_INPUT}', and none matched`
        : `no cross-attention found: the graph has no '${ENCODER_INPUT}' input (inputs: ${[...graph.input].map((i) => i.name).join(', ')}); is this a UNet?`,
    );
  }
  return { layers, index: search.index };
}

/** Edits the model in place; throws NoCrossAttentionError (saying what was searched) when none is found. */
export function patchCrossAttention(model: ModelProto, configHeads?: number | readonly number[]): PatchResult {
  const { layers, index } = searchCrossAttention(model, configHeads);
  const graph = model.graph!;
  const folds = new FoldSearch(index);
  const inputs = new Map<string, BiasInput>();
  /** The input of this kind for the layer's resolution, counting the layer as one of its readers. */
  const use = (layer: CrossAttentionLayer, kind: BiasInputKind): BiasInput => {
    const spec = biasInputFor(layer, kind);
    const input = inputs.get(spec.name) ?? { ...spec, layers: 0 };
    input.layers++;
    inputs.set(spec.name, input);
    return input;
  };
  const softmaxByScores = new Map(graph.node.filter((n) => n.opType === 'Softmax').map((n) => [n.input[0], n]));
  const fusedByOutput = new Map(graph.node.filter((n) => n.opType === 'MultiHeadAttention').map((n) => [n.output[0], n]));
  const insertions = new Insertions();

  layers.forEach((layer, i) => {
    const fold = layer.shape === 'fused-mha' ? null : folds.find(layer.scores);
    if (fold) {
      const [queryFactors, tokenFactors] = [use(layer, 'query-factors'), use(layer, 'token-factors')];
      const { query, key, scale } = fold;
      // The factors are [B, 1, …] and Concat does not broadcast: expand them over the heads (4-D), or repeat them per head (3-D).
      const perHead = (at: Insertions, factors: string, like: string, keep: number) =>
        layer.shape === 'legacy-3d' ? at.repeatPerHead(factors, like) : at.expandLike(factors, like, keep);
      let at = insertions.at(query.consumer);
      replaceInput(query.consumer, query.tensor, at.op('Concat', [query.tensor, perHead(at, queryFactors.name, query.tensor, 1)], -1));
      at = insertions.at(key.consumer);
      // The scales on the way to the Softmax multiply the factors' product too: G (the smallest tensor) is divided by them.
      let g = scale.factor === 1 ? tokenFactors.name : at.op('Mul', [tokenFactors.name, at.scalar(tokenFactors.elemType, 1 / scale.factor)]);
      for (const term of scale.terms) g = at.op(term.divides ? 'Mul' : 'Div', [g, term.tensor]);
      replaceInput(key.consumer, key.tensor, at.op('Concat', [key.tensor, perHead(at, g, key.tensor, 2)], -2));
      return;
    }
    const bias = use(layer, 'bias');
    const biased = `${layer.scores}/limelight_bias_${i}`;
    const add = (node: NodeProto, input: string[]) =>
      insertions.at(node).add(create(NodeProtoSchema, { name: `limelight_bias_add_${i}`, opType: 'Add', input, output: [biased] }));
    if (layer.shape === 'fused-mha') {
      const node = fusedByOutput.get(layer.scores)!;
      while (node.input.length < 6) node.input.push('');
      if (node.input[5]) {
        add(node, [node.input[5], bias.name]);
        node.input[5] = biased;
      } else {
        node.input[5] = bias.name;
      }
    } else {
      const softmax = softmaxByScores.get(layer.scores)!;
      const perHead = layer.shape === 'legacy-3d' ? insertions.at(softmax).repeatPerHead(bias.name, layer.scores) : bias.name;
      add(softmax, [layer.scores, perHead]);
      softmax.input[0] = biased;
    }
  });

  graph.node = topologicalOrder(graph.node.flatMap((node) => [...(insertions.before.get(node) ?? []), node]));
  graph.initializer.push(...insertions.initializers);
  const biasInputs = [...inputs.values()];
  graph.input.push(...biasInputs.map(graphInput));
  model.metadataProps = model.metadataProps.filter((p) => p.key !== BIAS_METADATA_KEY);
  model.metadataProps.push(create(StringStringEntryProtoSchema, { key: BIAS_METADATA_KEY, value: JSON.stringify({ version: SURGERY_VERSION, layers, biasInputs }) }));
  return { layers, biasInputs };
}
