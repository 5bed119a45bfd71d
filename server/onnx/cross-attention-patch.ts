// The surgery: one additive bias before each cross-attention softmax (or into a fused attention's
// attention_bias input), fed by one new graph input per query resolution.
import { create } from '@bufbuild/protobuf';
import type { ModelProto, NodeProto } from 'onnx-buf';
import {
  NodeProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataType,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import { CrossAttentionSearch, ENCODER_INPUT, type CrossAttentionLayer } from './cross-attention-find.ts';

/** Bump when the surgery changes: patched files are cached under it. */
export const SURGERY_VERSION = 1;
export const BIAS_METADATA_KEY = 'limelight.cross_attention_bias';

/** A new graph input the sampler must feed. */
export interface BiasInput {
  name: string;
  divisor: number;
  /** `batch`: [B, 1, HW, T] (4-D scores and fused attention). `batch-heads`: [B·heads, HW, T] (legacy 3-D scores). */
  layout: 'batch' | 'batch-heads';
  heads: number | null;
  elemType: TensorProto_DataType;
  layers: number;
}

export interface PatchResult {
  layers: CrossAttentionLayer[];
  biasInputs: BiasInput[];
}

export class NoCrossAttentionError extends Error {}

function dimension(value: string | number) {
  return create(TensorShapeProto_DimensionSchema, {
    value: typeof value === 'number' ? { case: 'dimValue', value: BigInt(value) } : { case: 'dimParam', value },
  });
}

function biasInputFor(layer: CrossAttentionLayer): Omit<BiasInput, 'layers'> {
  const layout = layer.shape === 'legacy-3d' ? 'batch-heads' : 'batch';
  const parts = [`limelight_attention_bias_d${layer.divisor}`];
  if (layout === 'batch-heads') parts.push(`h${layer.heads ?? 0}`);
  if (layer.scoresType === TensorProto_DataType.FLOAT16) parts.push('fp16');
  return { name: parts.join('_'), divisor: layer.divisor, layout, heads: layer.heads, elemType: layer.scoresType };
}

function graphInput(bias: Omit<BiasInput, 'layers'>) {
  const dims =
    bias.layout === 'batch'
      ? [dimension('bias_batch'), dimension(1), dimension(`bias_hw_d${bias.divisor}`), dimension('bias_tokens')]
      : [dimension(`bias_batch_heads_h${bias.heads ?? 0}`), dimension(`bias_hw_d${bias.divisor}`), dimension('bias_tokens')];
  return create(ValueInfoProtoSchema, {
    name: bias.name,
    type: create(TypeProtoSchema, {
      value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: bias.elemType, shape: create(TensorShapeProtoSchema, { dim: dims }) }) },
    }),
  });
}

function addNode(name: string, inputs: string[], output: string): NodeProto {
  return create(NodeProtoSchema, { name, opType: 'Add', input: inputs, output: [output] });
}

/** Edits the model in place; throws NoCrossAttentionError (saying what was searched) when none is found. */
export function patchCrossAttention(model: ModelProto): PatchResult {
  const search = new CrossAttentionSearch(model);
  const layers = search.find();
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
  const inputs = new Map<string, BiasInput>();
  const softmaxByScores = new Map(graph.node.filter((n) => n.opType === 'Softmax').map((n) => [n.input[0], n]));
  const fusedByOutput = new Map(graph.node.filter((n) => n.opType === 'MultiHeadAttention').map((n) => [n.output[0], n]));
  const newNodes = new Map<NodeProto, NodeProto>(); // inserted before the node they feed

  layers.forEach((layer, i) => {
    const spec = biasInputFor(layer);
    const bias = inputs.get(spec.name) ?? { ...spec, layers: 0 };
    bias.layers++;
    inputs.set(spec.name, bias);
    const biased = `${layer.scores}/limelight_bias_${i}`;
    if (layer.shape === 'fused-mha') {
      const node = fusedByOutput.get(layer.scores)!;
      while (node.input.length < 6) node.input.push('');
      if (node.input[5]) {
        newNodes.set(node, addNode(`limelight_bias_add_${i}`, [node.input[5], bias.name], biased));
        node.input[5] = biased;
      } else {
        node.input[5] = bias.name;
      }
    } else {
      const softmax = softmaxByScores.get(layer.scores)!;
      newNodes.set(softmax, addNode(`limelight_bias_add_${i}`, [layer.scores, bias.name], biased));
      softmax.input[0] = biased;
    }
  });

  graph.node = graph.node.flatMap((node) => (newNodes.has(node) ? [newNodes.get(node)!, node] : [node]));
  const biasInputs = [...inputs.values()];
  graph.input.push(...biasInputs.map(graphInput));
  model.metadataProps = model.metadataProps.filter((p) => p.key !== BIAS_METADATA_KEY);
  model.metadataProps.push(create(StringStringEntryProtoSchema, { key: BIAS_METADATA_KEY, value: JSON.stringify({ version: SURGERY_VERSION, layers, biasInputs }) }));
  return { layers, biasInputs };
}
