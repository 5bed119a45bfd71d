// Finds the UNet's cross-attention layers by structure, never by node names: a Softmax (or a fused
// MultiHeadAttention) whose key branch runs back through layout ops to a MatMul with a weight
// initializer (to_k) applied to the graph input `encoder_hidden_states`. Self-attention's key comes
// from the image features instead, so it never matches.
import type { ModelProto, NodeProto } from 'onnx-buf';
import { TensorProto_DataType } from 'onnx-buf';
import { GraphIndex } from './graph-index.ts';
import { isJointKeys, LATENT_INPUTS } from './joint-attention-find.ts';

export const ENCODER_INPUT = 'encoder_hidden_states';

export type AttentionShape = 'sdpa-4d' | 'legacy-3d' | 'fused-mha';

export interface CrossAttentionLayer {
  /** The Softmax or MultiHeadAttention node, by name (for reports; matching never uses it). */
  nodeName: string;
  shape: AttentionShape;
  /** Tensor feeding the Softmax (scores), or the MultiHeadAttention node's output. */
  scores: string;
  /** Element type of the scores (the bias must match it). */
  scoresType: TensorProto_DataType;
  heads: number | null;
  /** The layer's query grid is the latent grid divided by this (1 = full latent resolution). */
  divisor: number;
  /**
   * SD3's joint attention: queries and keys are [image tokens, text tokens]; the bias applies to the
   * image rows × text columns only.
   */
  joint?: boolean;
}

/** Ops that move or scale tensors without mixing in other data; the key branch runs through them. */
const LAYOUT_OPS = new Set(['Transpose', 'Reshape', 'Mul', 'Div', 'Cast', 'Unsqueeze', 'Squeeze', 'Identity', 'Contiguous', 'Flatten']);
/** Ops between the Q·Kᵀ MatMul and the Softmax (scale, existing mask, casts). */
const SCORE_OPS = new Set(['Mul', 'Div', 'Add', 'Cast', 'Identity']);

export class CrossAttentionSearch {
  /** The graph as found (the surgery's fold search reads the same index before it edits). */
  readonly index: GraphIndex;

  constructor(private readonly model: ModelProto) {
    if (!model.graph) throw new Error('the ONNX file has no graph');
    this.index = new GraphIndex(model.graph);
  }

  get hasEncoderInput(): boolean {
    return this.index.graphInputs.has(ENCODER_INPUT);
  }

  /**
   * `configHeads`: unet/config.json's head count (one, or one per down block), for layers whose graph
   * does not fix it.
   */
  find(configHeads?: number | readonly number[]): CrossAttentionLayer[] {
    const layers: CrossAttentionLayer[] = [];
    for (const node of this.model.graph!.node) {
      if (node.opType === 'Softmax') {
        const layer = this.fromSoftmax(node);
        if (layer) layers.push(layer);
      } else if (node.opType === 'MultiHeadAttention' && node.domain === 'com.microsoft') {
        const layer = this.fromFusedAttention(node);
        if (layer) layers.push(layer);
      }
    }
    if (configHeads !== undefined) for (const layer of layers) layer.heads ??= headsAt(configHeads, layer.divisor);
    return layers;
  }

  /** The non-constant input of an elementwise op (the data, not its scale). */
  private dataInput(node: NodeProto): string | undefined {
    if (node.opType === 'Reshape' || node.opType === 'Unsqueeze' || node.opType === 'Squeeze' || node.opType === 'Flatten') return node.input[0];
    const inputs = node.input.filter((name) => name !== '' && !this.index.isConstant(name));
    return inputs.length === 1 ? inputs[0] : undefined;
  }

  /** Walks back through layout ops from `tensor`; returns the nodes passed and where the walk stopped. */
  private walkLayout(tensor: string, ops: Set<string>): { stop: string; path: NodeProto[] } {
    const path: NodeProto[] = [];
    let current = tensor;
    for (let guard = 0; guard < 64; guard++) {
      const node = this.index.producer(current);
      if (!node || !ops.has(node.opType)) break;
      const next = this.dataInput(node);
      if (next === undefined) break;
      path.push(node);
      current = next;
    }
    return { stop: current, path };
  }

  /** Is `tensor` a weight projection (MatMul/Gemm with an initializer) of encoder_hidden_states? */
  private isEncoderProjection(tensor: string): boolean {
    const node = this.index.producer(tensor);
    if (!node || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) {
      // biased projections: Add(MatMul(x, W), b)
      if (node?.opType === 'Add') return node.input.some((i) => !this.index.isConstant(i) && this.isEncoderProjection(i));
      return false;
    }
    const [a, b] = node.input;
    const weightSide = this.index.isConstant(b) ? a : this.index.isConstant(a) ? b : undefined;
    if (weightSide === undefined) return false;
    const source = this.walkLayout(weightSide, new Set(['Cast', 'Identity'])).stop;
    return source === ENCODER_INPUT;
  }

  private fromSoftmax(softmax: NodeProto): CrossAttentionLayer | null {
    const scores = softmax.input[0];
    const { stop: product } = this.walkLayout(scores, SCORE_OPS);
    const matmul = this.index.producer(product);
    if (!matmul || matmul.opType !== 'MatMul') return null;
    const key = this.walkLayout(matmul.input[1], LAYOUT_OPS);
    const rank = [product, ...matmul.input].map((t) => this.index.dims(t)?.length).find((r) => r !== undefined);
    if (rank !== 3 && rank !== 4) return null;
    const cross = this.isEncoderProjection(key.stop);
    const joint = !cross && isJointKeys(this.index, key.stop, key.path.some((n) => n.opType === 'Reshape'), rank);
    if (!cross && !joint) return null;
    const shape: AttentionShape = rank === 3 ? 'legacy-3d' : 'sdpa-4d';
    const query = this.walkLayout(matmul.input[0], LAYOUT_OPS).stop;
    return {
      nodeName: softmax.name,
      shape,
      scores,
      scoresType: this.floatTypeOf(scores),
      heads: this.headsFrom(key.path),
      divisor: this.divisorOf(this.projectionInput(query) ?? query),
      ...(joint && { joint }),
    };
  }

  /** Heads as the graph's head-splitting Reshape fixes them ([batch, tokens, heads, head_dim]). */
  private headsFrom(path: NodeProto[]): number | null {
    for (const node of path) {
      if (node.opType !== 'Reshape') continue;
      const elements = this.index.elements(node.input[1]);
      if (elements?.length === 4 && typeof elements[2] === 'number' && elements[2] > 0) return elements[2];
    }
    return null;
  }

  private fromFusedAttention(node: NodeProto): CrossAttentionLayer | null {
    const key = node.input[1];
    if (!key) return null;
    const walked = this.walkLayout(key, LAYOUT_OPS);
    const cross = this.isEncoderProjection(walked.stop) || walked.stop === ENCODER_INPUT;
    // The fused op takes [batch, tokens, channels]: joint keys are concatenated on axis 1.
    const joint = !cross && isJointKeys(this.index, walked.stop, true, 3);
    if (!cross && !joint) return null;
    const query = this.walkLayout(node.input[0], LAYOUT_OPS).stop;
    return {
      nodeName: node.name,
      shape: 'fused-mha',
      scores: node.output[0],
      scoresType: this.floatTypeOf(node.input[0]),
      heads: this.index.attributeInt(node, 'num_heads') ?? null,
      divisor: this.divisorOf(this.projectionInput(query) ?? query),
      ...(joint && { joint }),
    };
  }

  /** The data input of a weight projection (the hidden states the query is computed from). */
  private projectionInput(tensor: string): string | undefined {
    let node = this.index.producer(tensor);
    if (node?.opType === 'Add') node = node.input.map((i) => this.index.producer(i)).find((n) => n?.opType === 'MatMul' || n?.opType === 'Gemm');
    if (!node || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) return undefined;
    return node.input.find((i) => !this.index.isConstant(i));
  }

  private floatTypeOf(tensor: string): TensorProto_DataType {
    const producer = this.index.producer(tensor);
    if (producer?.opType === 'Cast') {
      const to = this.index.attributeInt(producer, 'to');
      if (to !== undefined) return to;
    }
    const input = this.model.graph!.input.find((i) => i.name === ENCODER_INPUT);
    const type = input?.type?.value.case === 'tensorType' ? input.type.value.value.elemType : undefined;
    return type ?? TensorProto_DataType.FLOAT;
  }

  /**
   * How much smaller than the latent grid this tensor's spatial grid is: walks back to the latent
   * input (`sample`, a transformer's `hidden_states`) counting stride-2 convolutions/pools (÷2) and resizes (×2). Every path to `sample` agrees,
   * so the first one found is enough.
   */
  divisorOf(tensor: string): number {
    const stack: { tensor: string; log2: number }[] = [{ tensor, log2: 0 }];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const { tensor: current, log2 } = stack.pop()!;
      if (LATENT_INPUTS.has(current)) return 2 ** Math.max(0, log2);
      if (seen.has(current)) continue;
      seen.add(current);
      const node = this.index.producer(current);
      if (!node || node.opType === 'Shape' || node.opType === 'Constant') continue;
      let step = 0;
      if (node.opType === 'Conv' || node.opType === 'AveragePool' || node.opType === 'MaxPool') {
        const strides = this.index.attributeInts(node, 'strides') ?? [1];
        step = Math.round(Math.log2(Math.max(...strides, 1)));
      } else if (node.opType === 'ConvTranspose') {
        const strides = this.index.attributeInts(node, 'strides') ?? [1];
        step = -Math.round(Math.log2(Math.max(...strides, 1)));
      } else if (node.opType === 'Resize' || node.opType === 'Upsample') {
        step = -1; // diffusers' UNets upsample by 2
      }
      const dataOnly = ['Reshape', 'Resize', 'Upsample', 'Expand', 'Slice', 'Tile', 'Conv', 'ConvTranspose'].includes(node.opType);
      const inputs = dataOnly ? [node.input[0]] : node.input;
      for (const input of inputs) {
        if (input && !this.index.isConstant(input)) stack.push({ tensor: input, log2: log2 + step });
      }
    }
    return 1;
  }
}

/** A per-block head list is indexed by resolution: down block i (and the up block mirroring it) runs at the latent grid ÷ 2^i. */
function headsAt(configHeads: number | readonly number[], divisor: number): number | null {
  if (typeof configHeads === 'number') return configHeads;
  const block = Math.min(Math.round(Math.log2(divisor)), configHeads.length - 1);
  return configHeads[block] ?? null;
}
