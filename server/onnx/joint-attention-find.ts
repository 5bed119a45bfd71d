// SD3's joint attention, recognised by structure: the keys of a Softmax's scores are a Concat along the
// sequence of [image keys, text keys], the image part computed from the latent input and the text part a
// weight projection of the text stream, whose tokens are encoder_hidden_states' tokens. After the first
// block both streams descend from both inputs through attention, so each part is traced back only along
// its own stream: through projections, norms, modulation and qk-norm, but not across an attention product
// (a MatMul of two computed tensors, or a fused attention op) or a Softmax, nor into shape reads.
import type { NodeProto } from 'onnx-buf';
import type { GraphIndex } from './graph-index.ts';

export const LATENT_INPUTS: ReadonlySet<string> = new Set(['sample', 'hidden_states']);
const ENCODER = 'encoder_hidden_states';

interface StreamOrigin {
  /** Graph inputs the stream's tokens come from (conditioning inputs such as timestep also appear). */
  inputs: Set<string>;
  /** Whether a weight projection (MatMul or Gemm with an initializer) lies on the way. */
  projected: boolean;
}

/** An attention product (a MatMul of two computed tensors), or a fused attention op (MultiHeadAttention, Attention, …). */
function isAttentionProduct(index: GraphIndex, node: NodeProto): boolean {
  if (node.opType.endsWith('Attention')) return true;
  return (node.opType === 'MatMul' || node.opType === 'Gemm') && node.input.slice(0, 2).every((i) => i !== '' && !index.isConstant(i));
}

function streamOrigin(index: GraphIndex, tensor: string): StreamOrigin {
  const origin: StreamOrigin = { inputs: new Set(), projected: false };
  const stack = [tensor];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    if (index.graphInputs.has(current)) origin.inputs.add(current);
    const node = index.producer(current);
    if (!node || node.opType === 'Softmax' || node.opType === 'Shape' || node.opType === 'Size' || isAttentionProduct(index, node)) continue;
    if (node.opType === 'MatMul' || node.opType === 'Gemm') origin.projected = true;
    for (const input of node.input) if (input !== '' && !index.isConstant(input)) stack.push(input);
  }
  return origin;
}

const fromLatent = (o: StreamOrigin) => [...LATENT_INPUTS].some((i) => o.inputs.has(i));

/**
 * Whether `keys` (where the key branch's layout walk stopped) is joint attention's Concat of
 * [image keys, text keys] along the sequence. `beforeHeadSplit`: a Reshape lay between the Concat and
 * the scores (the Concat is on [batch, tokens, channels]); else it has the scores' rank.
 */
export function isJointKeys(index: GraphIndex, keys: string, beforeHeadSplit: boolean, scoresRank: number): boolean {
  const node = index.producer(keys);
  if (!node || node.opType !== 'Concat' || node.input.length !== 2) return false;
  const axis = index.attributeInt(node, 'axis');
  const sequenceAxes = !beforeHeadSplit && scoresRank === 4 ? [2, -2] : [1, -2];
  if (axis === undefined || !sequenceAxes.includes(axis)) return false;
  const [image, text] = node.input.map((t) => streamOrigin(index, t));
  return fromLatent(image) && !image.inputs.has(ENCODER) && text.inputs.has(ENCODER) && !fromLatent(text) && text.projected;
}
