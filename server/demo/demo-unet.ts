// The demo UNet: a designed (not trained) network with the I/O of a diffusers ONNX export and genuine
// torch-SDPA attention blocks, so every runtime and graph-surgery path is the real one.
//
// What it computes, in k-diffusion terms (x = sample·√(σ²+1) is the noisy image estimate at noise σ):
//   ε̂ = σ/(σ²+κ²) · (x − blur(x))  −  u / (σ + 1)
// The first term is a Wiener-style denoiser (it removes high frequencies in proportion to the noise);
// the second pulls the image towards the colours the prompt names: u is the cross-attention output,
// whose values are colour shifts carried by colour-word embeddings. BOS is an attention sink (it takes
// most of each row's mass and carries no value), so the colour a pixel receives is proportional to the
// attention it pays to the prompt's words — exactly what an additive attention bias scales.
import { alphasCumprod, SD_SCHEDULER_DEFAULTS, trainingSigmas } from '../runtime/schedule.ts';
import { GraphBuilder, type Dim, type FloatType } from '../onnx/graph-builder.ts';
import { CONTEXT_DIM, EMBEDDING, LATENT_GAIN } from './demo-design.ts';

export type TimestepType = 'int64' | 'float32' | 'float16';
export type TimestepShape = 'scalar' | 'one' | 'batch';

/** Hidden channels of the attention blocks: 0–3 the accumulated colour, 4 a constant 1, 5 luminance. */
const HIDDEN = 8;
const CONSTANT_CHANNEL = 4;
const LUMA_CHANNEL = 5;
/** Assumed amplitude of real image detail at latent resolution (latent units): the Wiener constant κ. */
const DETAIL_AMPLITUDE = 1.5;
const CROSS_HEADS = 2;
const CROSS_HEAD_DIM = 8;
const SELF_HEADS = 1;
const SELF_HEAD_DIM = 4;
/** Attention logits (before softmax) of each kind of token for a pixel of mid luminance. */
const LOGITS = { sink: 3, word: 0, end: -4.6 } as const;
/** Extra word logit per unit of luminance (−1…1): bright pixels attend to the prompt more. */
const LUMA_ATTENTION = [0.6, 0] as const;
/** Share of the 32² block's self-attention context (mean luminance of bright areas) in its queries. */
const SELF_CONTEXT = 0.25;
/** Attention blocks (down 64², down 32², up 64²): each has `transformerDepth` transformer blocks. */
const ATTENTION_BLOCKS = 3;

export function matrix(rows: number, cols: number, entry: (r: number, c: number) => number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = entry(r, c);
  return out;
}

interface AttentionDesign {
  heads: number;
  headDim: number;
  contextDim: number;
  /** to_q [HIDDEN, inner], to_k / to_v [contextDim, inner], to_out [inner, HIDDEN]. */
  toQ: (hidden: number, inner: number) => number;
  toK: (context: number, inner: number) => number;
  toV: (context: number, inner: number) => number;
  toOut: (inner: number, hidden: number) => number;
}

/**
 * diffusers `Attention` with `AttnProcessor2_0`, exported the way torch ≥ 2 exports
 * `scaled_dot_product_attention`: Mul(Q, √s), Mul(Kᵀ, √s) → MatMul → Softmax(−1) → MatMul(V).
 */
function attention(g: GraphBuilder, hidden: string, context: string, d: AttentionDesign): string {
  const inner = d.heads * d.headDim;
  const project = (input: string, name: string, rows: number, entry: (r: number, c: number) => number) =>
    g.op('MatMul', [input, g.weight(`${name}.weight`, matrix(rows, inner, entry), [rows, inner])]);
  const splitHeads = (x: string) => g.op('Transpose', [g.op('Reshape', [x, g.int64('heads_shape', [0, -1, d.heads, d.headDim])])], { perm: [0, 2, 1, 3] });
  const q = splitHeads(project(hidden, 'to_q', HIDDEN, d.toQ));
  const k = splitHeads(project(context, 'to_k', d.contextDim, d.toK));
  const v = splitHeads(project(context, 'to_v', d.contextDim, d.toV));
  const sqrtScale = g.scalar(Math.sqrt(1 / Math.sqrt(d.headDim)));
  const scores = g.op('MatMul', [g.op('Mul', [q, sqrtScale]), g.op('Mul', [g.op('Transpose', [k], { perm: [0, 1, 3, 2] }), sqrtScale])]);
  const probabilities = g.op('Softmax', [scores], { axis: -1 });
  const heads = g.op('MatMul', [probabilities, v]);
  const merged = g.op('Reshape', [g.op('Transpose', [heads], { perm: [0, 2, 1, 3] }), g.int64('merged_shape', [0, -1, inner])]);
  return g.scope('to_out.0', () =>
    g.op('Add', [
      g.op('MatMul', [merged, g.weight('weight', matrix(inner, HIDDEN, d.toOut), [inner, HIDDEN])]),
      g.weight('bias', new Float32Array(HIDDEN), [HIDDEN]),
    ]),
  );
}

/**
 * Where the design embedding (demo-design.ts EMBEDDING) lies in `encoder_hidden_states`: SD's is the
 * context itself; SDXL's is two encoders' outputs side by side, keys read from one and values from the other.
 */
export interface ContextLayout {
  width: number;
  /** Feature offset of the embedding the keys read (token kind). */
  keyOffset: number;
  /** Feature offset of the embedding the values read (colour). */
  valueOffset: number;
}

const SD_CONTEXT: ContextLayout = { width: CONTEXT_DIM, keyOffset: 0, valueOffset: 0 };

/** Cross-attention onto the prompt: the query asks "how much prompt here", the values are colours. */
function crossAttention(g: GraphBuilder, hidden: string, context: string, layout: ContextLayout): string {
  const scale = Math.sqrt(CROSS_HEAD_DIM);
  return g.scope('attn2', () =>
    attention(g, hidden, context, {
      heads: CROSS_HEADS,
      headDim: CROSS_HEAD_DIM,
      contextDim: layout.width,
      toQ: (h, i) => {
        const [head, dim] = [Math.floor(i / CROSS_HEAD_DIM), i % CROSS_HEAD_DIM];
        if (dim === 0 && h === CONSTANT_CHANNEL) return scale;
        if (dim === 1 && h === LUMA_CHANNEL) return scale * LUMA_ATTENTION[head];
        return 0;
      },
      toK: (feature, i) => {
        const [c, dim] = [feature - layout.keyOffset, i % CROSS_HEAD_DIM];
        if (dim === 0) return c === EMBEDDING.sink ? LOGITS.sink : c === EMBEDDING.word ? LOGITS.word : c === EMBEDDING.end ? LOGITS.end : 0;
        return dim === 1 && c === EMBEDDING.word ? 1 : 0;
      },
      toV: (feature, i) => {
        const c = feature - layout.valueOffset;
        return i % CROSS_HEAD_DIM === c && c >= 0 && c < 4 ? 1 : 0;
      },
      toOut: (i, h) => (i % CROSS_HEAD_DIM === h && h < 4 ? 1 / CROSS_HEADS : 0),
    }),
  );
}

/** Self-attention that weights pixels by brightness and feeds the bright areas' luminance to the queries. */
function selfAttention(g: GraphBuilder, hidden: string): string {
  return g.scope('attn1', () =>
    attention(g, hidden, hidden, {
      heads: SELF_HEADS,
      headDim: SELF_HEAD_DIM,
      contextDim: HIDDEN,
      toQ: (h, i) => (i === 0 && h === CONSTANT_CHANNEL ? Math.sqrt(SELF_HEAD_DIM) : 0),
      toK: (h, i) => (i === 0 && h === LUMA_CHANNEL ? 2 : 0),
      toV: (h, i) => (i === 0 && h === LUMA_CHANNEL ? 1 : 0),
      toOut: (i, h) => (i === 0 && h === LUMA_CHANNEL ? SELF_CONTEXT : 0),
    }),
  );
}

/**
 * diffusers `Transformer2DModel`: flatten to tokens, residual attention in `depth` transformer blocks, back
 * to a feature map, and a proj_out that keeps only the colour channels the blocks added.
 */
function transformerBlock(g: GraphBuilder, features: string, context: string, withSelfAttention: boolean, layout: ContextLayout, depth: number): string {
  const tokens = g.scope('proj_in', () =>
    g.op('Transpose', [g.op('Reshape', [features, g.int64('tokens_shape', [0, HIDDEN, -1])])], { perm: [0, 2, 1] }),
  );
  let hidden = tokens;
  for (let block = 0; block < depth; block++) {
    g.scope(`transformer_blocks.${block}`, () => {
      if (withSelfAttention) hidden = g.op('Add', [hidden, selfAttention(g, hidden)]);
      hidden = g.op('Add', [hidden, crossAttention(g, hidden, context, layout)]);
    });
  }
  return g.scope('proj_out', () => {
    const added = g.op('Sub', [hidden, tokens]);
    // Each cross-attention layer adds its share: the colour a pixel receives is the mean over the layers.
    const keep = g.weight('weight', matrix(HIDDEN, HIDDEN, (r, c) => (r === c && r < 4 ? 1 / (ATTENTION_BLOCKS * depth) : 0)), [HIDDEN, HIDDEN]);
    const map = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [added, keep])], { perm: [0, 2, 1] }), g.op('Shape', [features])]);
    return g.op('Add', [features, map]);
  });
}

/** σ at the (possibly fractional) timestep, interpolated from the training table like the schedulers do. */
function sigmaFromTimestep(g: GraphBuilder, timestep: string): string {
  return g.scope('time_embedding', () => {
    const table = trainingSigmas(alphasCumprod(SD_SCHEDULER_DEFAULTS));
    const last = table.length - 1;
    const sigmas = g.weight('sigmas', table, [table.length]);
    const t = g.op('Reshape', [g.op('Cast', [timestep], { to: 1 }), g.int64('flat', [-1])]);
    const float32 = (v: number) => g.scalarFloat32(v);
    const clamped = g.op('Clip', [t, float32(0), float32(last)]);
    const low = g.op('Floor', [clamped]);
    const high = g.op('Min', [g.op('Add', [low, float32(1)]), float32(last)]);
    const fraction = g.op('Cast', [g.op('Sub', [clamped, low])], { to: g.floatType === 'float16' ? 10 : 1 });
    const at = (index: string) => g.op('Gather', [sigmas, g.op('Cast', [index], { to: 7 })]);
    const sigmaLow = at(low);
    const sigma = g.op('Add', [sigmaLow, g.op('Mul', [g.op('Sub', [at(high), sigmaLow]), fraction])]);
    return g.op('Reshape', [sigma, g.int64('per_sample', [-1, 1, 1, 1])]);
  });
}

export interface UNetOptions {
  floatType: FloatType;
  timestepType: TimestepType;
  timestepShape: TimestepShape;
  /** The family's text context (default SD's: the design embedding itself). */
  context?: ContextLayout;
  /** Transformer blocks per attention block (default 1; SDXL's are deeper). */
  transformerDepth?: number;
  /** A family's extra conditioning: declares its inputs and returns a [batch, 1, 1, 1] factor on the prompt's colour pull. */
  pullGate?: (g: GraphBuilder, sample: string) => string;
}

export function buildDemoUNet(options: UNetOptions): GraphBuilder {
  const g = new GraphBuilder('limelight_demo_unet', options.floatType);
  const f = options.floatType;
  const layout = options.context ?? SD_CONTEXT;
  const depth = options.transformerDepth ?? 1;
  const sample = g.input('sample', f, ['batch', 4, 'height', 'width']);
  const timestepDims: Dim[] = options.timestepShape === 'scalar' ? [] : options.timestepShape === 'one' ? [1] : ['batch'];
  const timestep = g.input('timestep', options.timestepType, timestepDims);
  const context = g.input('encoder_hidden_states', f, ['batch', 'sequence', layout.width]);
  const gate = options.pullGate?.(g, sample);

  const sigma = sigmaFromTimestep(g, timestep);
  const sigmaSquared = g.op('Mul', [sigma, sigma]);
  const image = g.op('Mul', [sample, g.op('Sqrt', [g.op('Add', [sigmaSquared, g.scalar(1)])])]);
  const smooth = g.op('AveragePool', [image], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 0 });

  // A 2×2 patchify stem: the attention blocks work at 1/2 and 1/4 of the latent grid.
  const features64 = g.scope('conv_in', () => {
    const weight = matrix(HIDDEN, 4, (h, c) => (h === LUMA_CHANNEL && c === 0 ? 1 / (LATENT_GAIN * Math.sqrt(3)) : 0));
    const bias = Array.from({ length: HIDDEN }, (_, h) => (h === CONSTANT_CHANNEL ? 1 : 0));
    const patches = g.op('AveragePool', [smooth], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 });
    return g.op('Conv', [patches, g.weight('weight', weight, [HIDDEN, 4, 1, 1]), g.weight('bias', bias, [HIDDEN])]);
  });
  const down64 = g.scope('down_blocks.0', () => g.scope('attentions.0', () => transformerBlock(g, features64, context, false, layout, depth)));
  const features32 = g.scope('down_blocks.0', () =>
    g.scope('downsamplers.0', () => g.op('AveragePool', [down64], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })),
  );
  const down32 = g.scope('down_blocks.1', () => g.scope('attentions.0', () => transformerBlock(g, features32, context, true, layout, depth)));
  const skip64 = g.scope('up_blocks.0', () =>
    g.scope('upsamplers.0', () => {
      const added32 = g.op('Sub', [down32, features32]);
      const upsampled = g.op('Resize', [added32, '', '', g.op('Shape', [down64])], { mode: 'nearest' });
      return g.op('Add', [down64, upsampled]);
    }),
  );
  const up64 = g.scope('up_blocks.1', () => g.scope('attentions.0', () => transformerBlock(g, skip64, context, false, layout, depth)));
  const colour = g.scope('conv_out', () => {
    const weight = matrix(4, HIDDEN, (c, h) => (c === h ? 1 : 0));
    const shift = g.op('Conv', [up64, g.weight('weight', weight, [4, HIDDEN, 1, 1]), g.weight('bias', new Float32Array(4), [4])]);
    return g.op('Resize', [shift, '', '', g.op('Shape', [sample])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  });

  const denoiseGain = g.op('Div', [sigma, g.op('Add', [sigmaSquared, g.scalar(DETAIL_AMPLITUDE ** 2)])]);
  const denoise = g.op('Mul', [g.op('Sub', [image, smooth]), denoiseGain]);
  const pull = g.op('Div', [gate ? g.op('Mul', [colour, gate]) : colour, g.op('Add', [sigma, g.scalar(1)])]);
  g.op('Sub', [denoise, pull], {}, 'out_sample');
  g.output('out_sample', f, ['batch', 4, 'height', 'width']);
  return g;
}
