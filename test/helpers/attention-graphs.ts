// Tiny UNet-shaped ONNX graphs with real attention blocks in each of the three exported shapes:
// torch-SDPA 4-D scores, legacy 3-D scores and fused com.microsoft.MultiHeadAttention. Each has
// self-attention and cross-attention at two resolutions (full, then after a stride-2 conv, then
// again after a 2× resize), so the surgery's matching and per-resolution inputs can be checked.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, OperatorSetIdProtoSchema } from 'onnx-buf';
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
}

export function attentionTestModel(shape: AttentionShape, options: TestGraphOptions = {}): Uint8Array {
  const { batch: B, channels: C, latent: L, tokens: T, encoder: E, heads: H } = DIMS;
  const dh = C / H;
  const rand = random(7);
  const g = new GraphBuilder('unet', options.floatType ?? 'float32');
  const weight = (name: string, dims: number[]) => g.weight(name, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand()), dims);
  const sample = g.input('sample', options.floatType ?? 'float32', [B, 4, L, L]);
  const encoder = g.input('encoder_hidden_states', options.floatType ?? 'float32', [B, T, E]);
  const exposed: { name: string; dims: number[] }[] = [];
  let constants = 0;
  const shapeOf = (dims: number[]) => g.int64(`shape_${constants++}`, dims);

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
        const heads4 = (t: string, perm: number[], len: number) => g.op('Transpose', [g.op('Reshape', [t, shapeOf([B, len, H, dh])])], { perm });
        const scale = g.scalar(Math.sqrt(1 / Math.sqrt(dh)));
        if (shape === 'sdpa-4d') {
          const q4 = g.op('Mul', [heads4(q, [0, 2, 1, 3], S), scale]);
          const k4 = g.op('Mul', [heads4(k, [0, 2, 3, 1], Tk), scale]);
          const scores = g.op('MatMul', [q4, k4]);
          const probabilities = g.op('Softmax', [scores], { axis: -1 });
          if (isCross && options.exposeScores) exposed.push({ name: scores, dims: [B, H, S, Tk] });
          if (isCross && options.expose) exposed.push({ name: probabilities, dims: [B, H, S, Tk] });
          const attended = g.op('MatMul', [probabilities, heads4(v, [0, 2, 1, 3], Tk)]);
          out = g.op('Reshape', [g.op('Transpose', [attended], { perm: [0, 2, 1, 3] }), shapeOf([B, S, C])]);
        } else {
          const heads3 = (t: string, len: number) => g.op('Reshape', [heads4(t, [0, 2, 1, 3], len), shapeOf([B * H, len, dh])]);
          const kT = g.op('Transpose', [heads3(k, Tk)], { perm: [0, 2, 1] });
          const scores = g.op('Mul', [g.op('MatMul', [heads3(q, S), kT]), g.scalar(1 / Math.sqrt(dh))]);
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
