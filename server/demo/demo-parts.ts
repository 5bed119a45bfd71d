// The demo model's text encoder and VAE: designed graphs with the I/O of diffusers/optimum ONNX exports.
import { COLOUR_WORDS, type DemoVocabulary } from './demo-vocab.ts';
import {
  COLOUR_BASIS,
  COLOUR_VALUE_GAIN,
  CONTEXT_DIM,
  EMBEDDING,
  LATENT_GAIN,
  MAX_TOKENS,
  VAE_DOWN_FACTOR,
  VAE_SCALING_FACTOR,
  latentOfRgb,
} from './demo-design.ts';
import { GraphBuilder, type FloatType } from '../onnx/graph-builder.ts';

/** A fixed pseudo-random value in −1…1 for (a, b): token signatures and position codes. */
function hashUnit(a: number, b: number): number {
  let h = Math.imul(a + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 13;
  return ((h >>> 0) / 4294967295) * 2 - 1;
}

export function tokenEmbeddings(vocabulary: DemoVocabulary): Float32Array {
  const ids = Object.values(vocabulary.vocab);
  const table = new Float32Array(ids.length * CONTEXT_DIM);
  for (const [token, id] of Object.entries(vocabulary.vocab)) {
    const row = table.subarray(id * CONTEXT_DIM, (id + 1) * CONTEXT_DIM);
    const kind = id === vocabulary.bosId ? EMBEDDING.sink : id === vocabulary.eosId ? EMBEDDING.end : EMBEDDING.word;
    row[kind] = 1;
    const colour = COLOUR_WORDS[token.replace(/<\/w>$/, '')];
    if (colour && token.endsWith('</w>')) {
      latentOfRgb(colour).forEach((value, c) => (row[EMBEDDING.colour + c] = COLOUR_VALUE_GAIN * value));
    }
    for (let d = EMBEDDING.signature; d < CONTEXT_DIM; d++) row[d] = 0.1 * hashUnit(id, d);
  }
  return table;
}

export function positionEmbeddings(): Float32Array {
  const table = new Float32Array(MAX_TOKENS * CONTEXT_DIM);
  for (let p = 0; p < MAX_TOKENS; p++) {
    for (let d = EMBEDDING.signature; d < CONTEXT_DIM; d++) table[p * CONTEXT_DIM + d] = 0.05 * hashUnit(1000 + p, d);
  }
  return table;
}

/**
 * CLIP's embedding layer: token + position embeddings ([batch, sequence, CONTEXT_DIM]). Like CLIP's causal
 * encoder, position 0 (BOS) is the same for every prompt.
 */
export function demoTextEmbeddings(g: GraphBuilder, vocabulary: DemoVocabulary, ids: string, output?: string): string {
  const vocabSize = Object.keys(vocabulary.vocab).length;
  return g.scope('text_model', () =>
    g.scope('embeddings', () => {
      const tokens = g.op('Gather', [g.weight('token_embedding.weight', tokenEmbeddings(vocabulary), [vocabSize, CONTEXT_DIM]), ids]);
      const length = g.op('Gather', [g.op('Shape', [ids]), g.int64('sequence_axis', [1])]);
      const positions = g.op('Slice', [
        g.weight('position_embedding.weight', positionEmbeddings(), [MAX_TOKENS, CONTEXT_DIM]),
        g.int64('start', [0]),
        length,
        g.int64('axis', [0]),
      ]);
      return g.op('Add', [tokens, positions], {}, output);
    }),
  );
}

/** The hidden state at the EOS token (the highest id, found by ArgMax), as CLIP pools. */
export function demoEosPooling(g: GraphBuilder, hidden: string, ids: string, output?: string): string {
  const eos = g.op('ArgMax', [ids], { axis: -1, keepdims: 1 });
  return g.op('GatherND', [hidden, eos], { batch_dims: 1 }, output);
}

/** CLIP text model: the embeddings are the last hidden state; `pooler_output` is the EOS token's. */
export function buildDemoTextEncoder(vocabulary: DemoVocabulary, floatType: FloatType, idType: 'int32' | 'int64'): GraphBuilder {
  const g = new GraphBuilder('limelight_demo_text_encoder', floatType);
  const ids = g.input('input_ids', idType, ['batch', 'sequence']);
  const hidden = demoTextEmbeddings(g, vocabulary, ids, 'last_hidden_state');
  demoEosPooling(g, hidden, ids, 'pooler_output');
  g.output('last_hidden_state', floatType, ['batch', 'sequence', CONTEXT_DIM]);
  g.output('pooler_output', floatType, ['batch', CONTEXT_DIM]);
  return g;
}

/** Block averaging into the colour basis, scaled so that raw latent × scaling_factor = the sampler's latent. */
export function buildDemoVaeEncoder(floatType: FloatType, output: 'latent_sample' | 'latent_parameters', scalingFactor = VAE_SCALING_FACTOR): GraphBuilder {
  const g = new GraphBuilder('limelight_demo_vae_encoder', floatType);
  const image = g.input('sample', floatType, ['batch', 3, 'height', 'width']);
  const channels = output === 'latent_parameters' ? 8 : 4;
  const k = VAE_DOWN_FACTOR;
  const weight = new Float32Array(channels * 3 * k * k);
  const bias = new Float32Array(channels);
  for (let c = 0; c < 3; c++) {
    for (let rgb = 0; rgb < 3; rgb++) {
      weight.fill((LATENT_GAIN * COLOUR_BASIS[c][rgb]) / scalingFactor / (k * k), (c * 3 + rgb) * k * k, (c * 3 + rgb + 1) * k * k);
    }
  }
  // latent_parameters = mean ‖ logvar: a near-deterministic posterior (variance e^−20).
  for (let c = 4; c < channels; c++) bias[c] = -20;
  g.scope('encoder', () =>
    g.scope('conv_in', () =>
      g.op('Conv', [image, g.weight('weight', weight, [channels, 3, k, k]), g.weight('bias', bias, [channels])], { strides: [k, k] }, output),
    ),
  );
  g.output(output, floatType, ['batch', channels, 'latent_height', 'latent_width']);
  return g;
}

/** Back from the colour basis (its transpose) and a bilinear upsampling. */
export function buildDemoVaeDecoder(floatType: FloatType, scalingFactor = VAE_SCALING_FACTOR): GraphBuilder {
  const g = new GraphBuilder('limelight_demo_vae_decoder', floatType);
  const latent = g.input('latent_sample', floatType, ['batch', 4, 'latent_height', 'latent_width']);
  const k = VAE_DOWN_FACTOR;
  g.scope('decoder', () => {
    const colour = g.scope('conv_in', () => {
      const weight = Array.from({ length: 3 * 4 }, (_, i) => {
        const [rgb, c] = [Math.floor(i / 4), i % 4];
        return c < 3 ? (COLOUR_BASIS[c][rgb] * scalingFactor) / LATENT_GAIN : 0;
      });
      return g.op('Conv', [latent, g.weight('weight', weight, [3, 4, 1, 1]), g.weight('bias', [0, 0, 0], [3])]);
    });
    g.scope('up_blocks.0', () =>
      g.op('Resize', [colour, '', g.float32('scales', [1, 1, k, k], [4])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }, 'sample'),
    );
  });
  g.output('sample', floatType, ['batch', 3, 'height', 'width']);
  return g;
}
