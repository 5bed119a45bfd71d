// The SD3 demo transformer: a designed (not trained) MMDiT with the I/O of an optimum SD3 export and
// genuine joint attention written as torch exports diffusers' JointAttnProcessor2_0 (image and text
// heads concatenated on the sequence, image first; one Softmax over all keys; split back by the image
// length), with adaLN-style modulation on both streams.
//
// What it computes: with x = (1 − σ)·x₀ + σ·noise, a Wiener-style estimate x̂₀ of the clean latent (the
// 3×3 mean kept in proportion to the signal, the detail in proportion to its assumed amplitude) gives
// the velocity (x − x̂₀)/σ, minus a pull u towards the colours the prompt names, where u is the image
// tokens' attention to the text tokens' colour values. BOS is a sink and the image keys take another
// fixed share (they carry no value), so the colour a pixel receives is proportional to the attention it
// pays to the prompt's words — what the joint-attention bias scales.
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { EMBEDDING, LATENT_GAIN } from './demo-design.ts';
import { matrix } from './demo-unet.ts';

/** Image and text token features: 0–3 the colour (accumulated on image tokens), 4 a constant 1, 5 luminance / sink, 6 word, 7 end. */
const HIDDEN = 8;
const CONSTANT = 4;
const TEXT = { sink: 4, word: 5, end: 6, constant: 7 } as const;
export const SD3_DEMO_HEADS = 2;
const HEAD_DIM = 4;
const INNER = SD3_DEMO_HEADS * HEAD_DIM;
export const SD3_DEMO_BLOCKS = 2;
export const SD3_DEMO_LATENT_CHANNELS = 16;
export const SD3_DEMO_PATCH = 2;
/**
 * Attention logits of each kind of key for every image query. Tokens that are all zeros (the T5 part
 * without T5) get the baseline. The image keys together hold a share that grows with the token count.
 */
export const SD3_DEMO_LOGITS = { image: -4, sink: 3, word: 0, end: -4.6, zero: -10 } as const;
/** Assumed amplitudes (latent units) of the 3×3 means and of the detail: the Wiener constants. */
const MEAN_AMPLITUDE = LATENT_GAIN / 2;
const DETAIL_AMPLITUDE = 1.5;
/** Velocity pull per unit of attended colour. */
const COLOUR_PULL = 2;

/** A diffusers nn.Linear exported as MatMul + Add (weights stored transposed, [in, out]). */
function linear(g: GraphBuilder, name: string, input: string, rows: number, cols: number, entry: (r: number, c: number) => number, bias?: (c: number) => number): string {
  return g.scope(name, () =>
    g.op('Add', [g.op('MatMul', [input, g.weight('weight', matrix(rows, cols, entry), [rows, cols])]), g.weight('bias', Float32Array.from({ length: cols }, (_, c) => bias?.(c) ?? 0), [cols])]),
  );
}

/** AdaLayerNormZero's modulation x·(1 + scale) + shift, its shift and scale a Linear of SiLU(temb) (zero here). */
function modulate(g: GraphBuilder, name: string, x: string, temb: string): string {
  return g.scope(name, () => {
    const emb = linear(g, 'linear', g.op('Mul', [temb, g.op('Sigmoid', [temb])]), HIDDEN, 2 * HIDDEN, () => 0);
    const [shift, scale] = g.opN('Split', [emb, g.int64('split', [HIDDEN, HIDDEN])], { axis: 1 }, 2).map((part) => g.op('Unsqueeze', [part, g.int64('axes', [1])]));
    return g.op('Add', [g.op('Mul', [x, g.op('Add', [scale, g.scalar(1)])]), shift]);
  });
}

/**
 * How the scores are laid out: torch SDPA's [batch, heads, tokens, tokens], the legacy processors'
 * [batch·heads, tokens, tokens], or onnxruntime's fused com.microsoft.MultiHeadAttention over [batch, tokens, channels].
 */
export type Sd3DemoScores = '4d' | '3d' | 'fused';

/** [batch, tokens, inner] → [batch, heads, tokens, head_dim] (4-D) or [batch·heads, tokens, head_dim] (3-D, head_to_batch_dim). */
function splitHeads(g: GraphBuilder, x: string, scores: Sd3DemoScores): string {
  if (scores === 'fused') return x;
  const heads = g.op('Transpose', [g.op('Reshape', [x, g.int64('heads_shape', [0, -1, SD3_DEMO_HEADS, HEAD_DIM])])], { perm: [0, 2, 1, 3] });
  if (scores === '4d') return heads;
  const tokensAndDim = g.op('Slice', [g.op('Shape', [heads]), g.int64('start', [2]), g.int64('end', [4])]);
  return g.op('Reshape', [heads, g.op('Concat', [g.int64('rows', [-1]), tokensAndDim], { axis: 0 })]);
}

/** Back to [batch, tokens, inner] (batch_to_head_dim for 3-D). */
function mergeHeads(g: GraphBuilder, x: string, scores: '4d' | '3d'): string {
  const heads =
    scores === '4d'
      ? x
      : g.op('Reshape', [x, g.op('Concat', [g.int64('batch_heads', [-1, SD3_DEMO_HEADS]), g.op('Slice', [g.op('Shape', [x]), g.int64('start', [1]), g.int64('end', [3])])], { axis: 0 })]);
  return g.op('Reshape', [g.op('Transpose', [heads], { perm: [0, 2, 1, 3] }), g.int64('merged_shape', [0, -1, INNER])]);
}

const perHead = (entry: (input: number, dim: number) => number) => (r: number, c: number) => entry(r, c % HEAD_DIM);

/** SD3.5's qk-norm (RMSNorm over the head dimension) as torch exports it: x / √(mean(x²) + ε) · weight. */
function rmsNorm(g: GraphBuilder, name: string, x: string): string {
  return g.scope(name, () => {
    const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, g.scalar(2)])], { axes: [-1], keepdims: 1 });
    return g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [meanSquare, g.scalar(1e-6)])])]), g.weight('weight', new Float32Array(HEAD_DIM).fill(1), [HEAD_DIM])]);
  });
}

export interface Sd3DemoTransformerOptions {
  scores?: Sd3DemoScores;
  /** SD3.5's RMS qk-norm on the keys of both streams (changes the logits: for structure tests only). */
  qkNorm?: boolean;
  /** The SDPA scale computed at run time from the query's shape, as a trace with dynamic axes has it: √(1/√(head_dim)). */
  tracedScale?: boolean;
}

/** JointAttnProcessor2_0: returns the image stream's and (unless the block is context_pre_only) the text stream's attention outputs. */
function jointAttention(g: GraphBuilder, image: string, text: string, contextPreOnly: boolean, { scores: layout = '4d', qkNorm = false, tracedScale = false }: Sd3DemoTransformerOptions): { image: string; text?: string } {
  return g.scope('attn', () => {
    const scale = Math.sqrt(HEAD_DIM);
    const q = splitHeads(g, linear(g, 'to_q', image, HIDDEN, INNER, perHead((h, d) => (d === 0 && h === CONSTANT ? scale : 0))), layout);
    const k = splitHeads(g, linear(g, 'to_k', image, HIDDEN, INNER, perHead((h, d) => (d === 0 && h === CONSTANT ? SD3_DEMO_LOGITS.image : 0))), layout);
    const v = splitHeads(g, linear(g, 'to_v', image, HIDDEN, INNER, () => 0), layout);
    const L = SD3_DEMO_LOGITS;
    const textLogit: Record<number, number> = { [TEXT.constant]: L.zero, [TEXT.sink]: L.sink - L.zero, [TEXT.word]: L.word - L.zero, [TEXT.end]: L.end - L.zero };
    const cq = splitHeads(g, linear(g, 'add_q_proj', text, HIDDEN, INNER, () => 0), layout);
    const ck = splitHeads(g, linear(g, 'add_k_proj', text, HIDDEN, INNER, perHead((t, d) => (d === 0 ? (textLogit[t] ?? 0) : 0))), layout);
    const cv = splitHeads(g, linear(g, 'add_v_proj', text, HIDDEN, INNER, perHead((t, d) => (t === d ? 1 : 0))), layout);
    const sequence = layout === '4d' ? 2 : 1;
    const attention = (query: string, key: string, value: string) => {
      if (layout === 'fused') return g.contribOp('MultiHeadAttention', [query, key, value], { num_heads: SD3_DEMO_HEADS });
      const headDim = () => g.op('Cast', [g.op('Slice', [g.op('Shape', [query]), g.int64('last', [-1]), g.int64('end', [2 ** 62])])], { to: 1 });
      const sqrtScale = tracedScale ? g.op('Sqrt', [g.op('Div', [g.float32('one', [1], [1]), g.op('Sqrt', [headDim()])])]) : g.scalar(Math.sqrt(1 / Math.sqrt(HEAD_DIM)));
      const keyT = g.op('Transpose', [key], { perm: layout === '4d' ? [0, 1, 3, 2] : [0, 2, 1] });
      const scores = g.op('MatMul', [g.op('Mul', [query, sqrtScale]), g.op('Mul', [keyT, sqrtScale])]);
      return mergeHeads(g, g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), value]), layout);
    };
    const query = g.op('Concat', [q, cq], { axis: sequence });
    const key = g.op('Concat', qkNorm ? [rmsNorm(g, 'norm_k', k), rmsNorm(g, 'norm_added_k', ck)] : [k, ck], { axis: sequence });
    const value = g.op('Concat', [v, cv], { axis: sequence });
    const merged = attention(query, key, value);
    const imageLength = g.op('Slice', [g.op('Shape', [image]), g.int64('start', [1]), g.int64('end', [2])]);
    const imageOut = g.op('Slice', [merged, g.int64('zero', [0]), imageLength, g.int64('axis', [1])]);
    const out = (r: number, c: number) => (r % HEAD_DIM === c && c < 4 ? 1 / (SD3_DEMO_HEADS * SD3_DEMO_BLOCKS) : 0);
    const result: { image: string; text?: string } = { image: linear(g, 'to_out.0', imageOut, INNER, HIDDEN, out) };
    if (!contextPreOnly) {
      const textOut = g.op('Slice', [merged, imageLength, g.int64('end', [2 ** 62]), g.int64('axis', [1])]);
      result.text = linear(g, 'to_add_out', textOut, INNER, HIDDEN, () => 0);
    }
    return result;
  });
}

export function buildSd3DemoTransformer(contextDim: number, pooledDim: number, options: Sd3DemoTransformerOptions = {}): GraphBuilder {
  const g = new GraphBuilder('limelight_demo_sd3_transformer', 'float32');
  const C = SD3_DEMO_LATENT_CHANNELS;
  const p = SD3_DEMO_PATCH;
  const x = g.input('hidden_states', 'float32', ['batch', C, 'height', 'width']);
  const context = g.input('encoder_hidden_states', 'float32', ['batch', 'sequence', contextDim]);
  const pooled = g.input('pooled_projections', 'float32', ['batch', pooledDim]);
  const timestep = g.input('timestep', 'float32', ['batch']);

  const sigma = g.op('Reshape', [g.op('Div', [timestep, g.scalar(1000)]), g.int64('per_sample', [-1, 1, 1, 1])]);
  const temb = g.scope('time_text_embed', () => linear(g, 'text_embedder', pooled, pooledDim, HIDDEN, () => 0));
  let image = g.scope('pos_embed', () =>
    g.scope('proj', () => {
      const weight = matrix(HIDDEN, C * p * p, (h, i) => (h === 5 && Math.floor(i / (p * p)) === 0 ? 1 / (p * p * LATENT_GAIN * Math.sqrt(3)) : 0));
      const bias = Array.from({ length: HIDDEN }, (_, h) => (h === CONSTANT ? 1 : 0));
      const patches = g.op('Conv', [x, g.weight('weight', weight, [HIDDEN, C, p, p]), g.weight('bias', bias, [HIDDEN])], { strides: [p, p] });
      return g.op('Transpose', [g.op('Reshape', [patches, g.int64('tokens_shape', [0, HIDDEN, -1])])], { perm: [0, 2, 1] });
    }),
  );
  const embeddingFeature: Record<number, number> = { [EMBEDDING.sink]: TEXT.sink, [EMBEDDING.word]: TEXT.word, [EMBEDDING.end]: TEXT.end };
  let text = linear(g, 'context_embedder', context, contextDim, HIDDEN, (e, t) => (e < 4 ? (e === t ? 1 : 0) : embeddingFeature[e] === t ? 1 : 0), (t) => (t === TEXT.constant ? 1 : 0));

  for (let b = 0; b < SD3_DEMO_BLOCKS; b++) {
    const contextPreOnly = b === SD3_DEMO_BLOCKS - 1;
    g.scope(`transformer_blocks.${b}`, () => {
      const attended = jointAttention(g, modulate(g, 'norm1', image, temb), modulate(g, 'norm1_context', text, temb), contextPreOnly, options);
      image = g.op('Add', [image, attended.image]);
      if (attended.text) text = g.op('Add', [text, attended.text]);
    });
  }

  const tokens = linear(g, 'proj_out', modulate(g, 'norm_out', image, temb), HIDDEN, p * p * C, (h, i) => (h < 4 && i % C === h ? 1 : 0));
  const colour = g.scope('unpatchify', () => {
    const shape = g.op('Shape', [x]);
    const half = (axis: number) => g.op('Div', [g.op('Slice', [shape, g.int64('start', [axis]), g.int64('end', [axis + 1])]), g.int64('patch', [p])]);
    const grid = g.op('Concat', [g.op('Slice', [shape, g.int64('start', [0]), g.int64('end', [1])]), half(2), half(3), g.int64('patch_shape', [p, p, C])], { axis: 0 });
    const unpatched = g.op('Transpose', [g.op('Reshape', [tokens, grid])], { perm: [0, 5, 1, 3, 2, 4] });
    return g.op('Reshape', [unpatched, shape]);
  });

  const remaining = g.op('Sub', [g.scalar(1), sigma]);
  const sigmaSquared = g.op('Mul', [sigma, sigma]);
  const wiener = (amplitude: number, noiseShare: number) =>
    g.op('Div', [g.op('Mul', [remaining, g.scalar(amplitude ** 2)]), g.op('Add', [g.op('Mul', [g.op('Mul', [remaining, remaining]), g.scalar(amplitude ** 2)]), g.op('Mul', [sigmaSquared, g.scalar(noiseShare)])])]);
  const smooth = g.op('AveragePool', [x], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 0 });
  const clean = g.op('Add', [g.op('Mul', [smooth, wiener(MEAN_AMPLITUDE, 1 / 9)]), g.op('Mul', [g.op('Sub', [x, smooth]), wiener(DETAIL_AMPLITUDE, 1)])]);
  const velocity = g.op('Div', [g.op('Sub', [x, clean]), sigma]);
  g.op('Sub', [velocity, g.op('Mul', [colour, g.scalar(COLOUR_PULL)])], {}, 'out_hidden_states');
  g.output('out_hidden_states', 'float32', ['batch', C, 'height', 'width']);
  return g;
}
