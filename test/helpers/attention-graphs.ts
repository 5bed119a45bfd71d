// Tiny UNet-shaped ONNX graphs with real attention blocks in each of the three exported shapes:
// torch-SDPA 4-D scores, legacy 3-D scores and fused com.microsoft.MultiHeadAttention. Each has
// self-attention and cross-attention at two resolutions (full, then after a stride-2 conv, then
// again after a 2× resize), so the surgery's matching and per-resolution inputs can be checked.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, OperatorSetIdProtoSchema, TensorProto_DataType } from 'onnx-buf';
import type { AttentionShape } from '../../server/onnx/cross-attention-find.ts';
import { GraphBuilder } from '../../server/onnx/graph-builder.ts';

export const DIMS = { batch: 2, channels: 8, latent: 8, tokens: 5, encoder: 6, heads: 2 } as const;

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
}

export interface TestGraphOptions {
  /** Also output each cross-attention's probabilities (4-D/3-D) or its output and value rows (fused). */
  expose?: boolean;
  /** Also output each cross-attention's scores, the Softmax input (4-D/3-D). */
  exposeScores?: boolean;
  floatType?: 'float32' | 'float16';
  /**
   * As torch traces it with dynamic axes: batch and sizes symbolic, head-splitting Reshape sizes built
   * by a Concat of Unsqueeze(Gather(Shape(x))) pieces, and the scale computed from a shape at run time
   * (4-D: Sqrt of 1/√(q's last dim) multiplied into q and kᵀ, its head size left to Reshape's -1, so it is
   * only known when the graph runs; 3-D: Shape → Gather → Div → Cast → Pow(−0.5) on the scores).
   */
  traced?: boolean;
}

export function attentionTestModel(shape: AttentionShape, options: TestGraphOptions = {}): Uint8Array {
  const { batch: B, channels: C, latent: L, tokens: T, encoder: E, heads: H } = DIMS;
  const dh = C / H;
  const rand = random(7);
  const g = new GraphBuilder('unet', options.floatType ?? 'float32');
  const weight = (name: string, dims: number[]) => g.weight(name, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand()), dims);
  const floatType = options.floatType ?? 'float32';
  const sample = g.input('sample', floatType, options.traced ? ['batch', 4, 'height', 'width'] : [B, 4, L, L]);
  const encoder = g.input('encoder_hidden_states', floatType, options.traced ? ['batch', 'sequence', E] : [B, T, E]);
  const exposed: { name: string; dims: number[] }[] = [];
  let constants = 0;
  const shapeOf = (dims: number[]) => g.int64(`shape_${constants++}`, dims);

  /** Element `i` of x's shape as a 1-element tensor, as torch traces `x.shape[i]` into a Concat. */
  const dim = (x: string, i: number) => g.op('Unsqueeze', [g.op('Gather', [g.op('Shape', [x]), g.int64(`index_${constants++}`, [i], [])]), g.int64(`axes_${constants++}`, [0])]);
  const toTokens = (map: string, size: number) => g.op('Transpose', [g.op('Reshape', [map, shapeOf([B, C, size * size])])], { perm: [0, 2, 1] });
  const toMap = (tokens: string, size: number) => g.op('Reshape', [g.op('Transpose', [tokens], { perm: [0, 2, 1] }), shapeOf([B, C, size, size])]);

  const attention = (name: string, x: string, context: string, contextDim: number, size: number, isCross: boolean): string =>
    g.scope(name, () => {
      const S = size * size;
      const Tk = isCross ? T : S;
      const q = g.op('MatMul', [x, weight('to_q.weight', [C, C])]);
      const k = g.op('MatMul', [context, weight('to_k.weight', [contextDim, C])]);
      const v = g.op('MatMul', [context, weight('to_v.weight', [contextDim, C])]);
      let out: string;
      if (shape === 'fused-mha') {
        out = g.op('MultiHeadAttention', [q, k, v], { num_heads: H });
        if (isCross && options.expose) exposed.push({ name: out, dims: [B, S, C] }, { name: v, dims: [B, Tk, C] });
      } else {
        const headSizes = (t: string, len: number) =>
          options.traced ? g.op('Concat', [dim(t, 0), dim(t, 1), shapeOf([H]), shape === 'sdpa-4d' ? shapeOf([-1]) : g.op('Unsqueeze', [headSize(t), shapeOf([0])])], { axis: 0 }) : shapeOf([B, len, H, dh]);
        const headSize = (t: string) => g.op('Div', [g.op('Gather', [g.op('Shape', [t]), g.int64(`index_${constants++}`, [2], [])]), g.int64(`heads_${constants++}`, [H], [])]);
        const heads4 = (t: string, perm: number[], len: number) => g.op('Transpose', [g.op('Reshape', [t, headSizes(t, len)])], { perm });
        const sdpaScale = (q4: string) => {
          if (!options.traced) return g.scalar(Math.sqrt(1 / Math.sqrt(dh)));
          const last = g.op('Cast', [g.op('Slice', [g.op('Shape', [q4]), shapeOf([-1]), shapeOf([2 ** 62])])], { to: TensorProto_DataType.FLOAT });
          const scale = g.op('Div', [g.float32(`one_${constants++}`, [1], [1]), g.op('Sqrt', [last])]);
          return g.op('Sqrt', [floatType === 'float16' ? g.op('Cast', [scale], { to: TensorProto_DataType.FLOAT16 }) : scale]);
        };
        if (shape === 'sdpa-4d') {
          const [q4, k4] = [heads4(q, [0, 2, 1, 3], S), heads4(k, [0, 2, 1, 3], Tk)];
          const kT = g.op('Transpose', [k4], { perm: [0, 1, 3, 2] });
          const scale = sdpaScale(q4);
          const scores = g.op('MatMul', [g.op('Mul', [q4, scale]), g.op('Mul', [kT, scale])]);
          const probabilities = g.op('Softmax', [scores], { axis: -1 });
          if (isCross && options.exposeScores) exposed.push({ name: scores, dims: [B, H, S, Tk] });
          if (isCross && options.expose) exposed.push({ name: probabilities, dims: [B, H, S, Tk] });
          const attended = g.op('MatMul', [probabilities, heads4(v, [0, 2, 1, 3], Tk)]);
          out = g.op('Reshape', [g.op('Transpose', [attended], { perm: [0, 2, 1, 3] }), shapeOf([B, S, C])]);
        } else {
          const rows = (t: string) => g.op('Unsqueeze', [g.op('Mul', [g.op('Gather', [g.op('Shape', [t]), g.int64(`index_${constants++}`, [0], [])]), g.int64(`heads_${constants++}`, [H], [])]), shapeOf([0])]);
          const sizes3 = (t: string, len: number) =>
            options.traced ? g.op('Concat', [rows(t), dim(t, 1), g.op('Unsqueeze', [headSize(t), shapeOf([0])])], { axis: 0 }) : shapeOf([B * H, len, dh]);
          const heads3 = (t: string, len: number) => g.op('Reshape', [heads4(t, [0, 2, 1, 3], len), sizes3(t, len)]);
          const kT = g.op('Transpose', [heads3(k, Tk)], { perm: [0, 2, 1] });
          const scale = options.traced
            ? g.op('Pow', [g.op('Cast', [headSize(k)], { to: floatType === 'float16' ? TensorProto_DataType.FLOAT16 : TensorProto_DataType.FLOAT }), g.scalar(-0.5)])
            : g.scalar(1 / Math.sqrt(dh));
          const scores = g.op('Mul', [g.op('MatMul', [heads3(q, S), kT]), scale]);
          const probabilities = g.op('Softmax', [scores], { axis: -1 });
          if (isCross && options.exposeScores) exposed.push({ name: scores, dims: [B * H, S, Tk] });
          if (isCross && options.expose) exposed.push({ name: probabilities, dims: [B * H, S, Tk] });
          const attended = g.op('MatMul', [probabilities, heads3(v, Tk)]);
          const merged = g.op('Transpose', [g.op('Reshape', [attended, shapeOf([B, H, S, dh])])], { perm: [0, 2, 1, 3] });
          out = g.op('Reshape', [merged, shapeOf([B, S, C])]);
        }
      }
      return g.op('Add', [x, g.op('MatMul', [out, weight('to_out.0.weight', [C, C])])]);
    });

  const block = (name: string, map: string, size: number): string =>
    g.scope(name, () => {
      const tokens = toTokens(map, size);
      const afterSelf = attention('attn1', tokens, tokens, C, size, false);
      const afterCross = attention('attn2', afterSelf, encoder, E, size, true);
      return toMap(afterCross, size);
    });

  const x0 = g.op('Conv', [sample, weight('conv_in.weight', [C, 4, 1, 1])]);
  const x1 = block('down_blocks.0/attentions.0/transformer_blocks.0', x0, L);
  const down = g.op('Conv', [x1, weight('down_blocks.0.downsamplers.0.conv.weight', [C, C, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] });
  const x2 = block('mid_block/attentions.0/transformer_blocks.0', down, L / 2);
  const up = g.op('Resize', [x2, '', '', shapeOf([B, C, L, L])], { mode: 'nearest' });
  const x3 = block('up_blocks.0/attentions.0/transformer_blocks.0', up, L);
  g.op('Conv', [x3, weight('conv_out.weight', [4, C, 1, 1])], {}, 'out_sample');
  g.output('out_sample', options.floatType ?? 'float32', [B, 4, L, L]);
  for (const { name, dims } of exposed) g.output(name, options.floatType ?? 'float32', dims);

  const bytes = g.build().model;
  if (shape !== 'fused-mha') return bytes;
  const model = fromBinary(ModelProtoSchema, bytes);
  model.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }));
  for (const node of model.graph!.node) if (node.opType === 'MultiHeadAttention') node.domain = 'com.microsoft';
  return toBinary(ModelProtoSchema, model);
}
