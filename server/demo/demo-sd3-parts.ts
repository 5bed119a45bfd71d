// The SD3 demo model's text encoders and VAE: the demo's CLIP embeddings (demo-parts.ts) in the I/O of
// optimum's SD3 exports — CLIPs with projection and their hidden states, a 16-channel VAE with a shift.
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { COLOUR_BASIS, CONTEXT_DIM, LATENT_GAIN, MAX_TOKENS } from './demo-design.ts';
import { positionEmbeddings, tokenEmbeddings } from './demo-parts.ts';
import type { DemoVocabulary } from './demo-vocab.ts';

export const SD3_DEMO_VAE = { scalingFactor: 1.5305, shiftFactor: 0.0609, downFactor: 8, latentChannels: 16 } as const;

/**
 * CLIPTextModelWithProjection exported with output_hidden_states: the demo embeddings zero-padded to
 * `width` are hidden_states.0 (the penultimate state SD3 uses), one identity layer makes
 * hidden_states.1 = last_hidden_state, and text_embeds projects the EOS token's state to `projection`.
 */
export function buildSd3DemoClip(vocabulary: DemoVocabulary, width: number, projection: number): GraphBuilder {
  const g = new GraphBuilder('limelight_demo_sd3_clip', 'float32');
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const vocabSize = Object.keys(vocabulary.vocab).length;
  const first = g.scope('text_model', () =>
    g.scope('embeddings', () => {
      const tokens = g.op('Gather', [g.weight('token_embedding.weight', tokenEmbeddings(vocabulary), [vocabSize, CONTEXT_DIM]), ids]);
      const length = g.op('Slice', [g.op('Shape', [ids]), g.int64('start', [1]), g.int64('end', [2])]);
      const positions = g.op('Slice', [g.weight('position_embedding.weight', positionEmbeddings(), [MAX_TOKENS, CONTEXT_DIM]), g.int64('zero', [0]), length, g.int64('axis', [0])]);
      return g.op('Pad', [g.op('Add', [tokens, positions]), g.int64('pads', [0, 0, 0, 0, 0, width - CONTEXT_DIM])], {}, 'hidden_states.0');
    }),
  );
  const last = g.scope('text_model', () => g.scope('encoder', () => g.op('Identity', [first], {}, 'hidden_states.1')));
  const final = g.scope('text_model', () => g.op('Identity', [last], {}, 'last_hidden_state'));
  const eos = g.op('ArgMax', [ids], { axis: -1, keepdims: 1 });
  const pooled = g.op('GatherND', [final, eos], { batch_dims: 1 });
  const identity = new Float32Array(width * projection);
  for (let d = 0; d < Math.min(width, projection); d++) identity[d * projection + d] = 1;
  g.scope('text_projection', () => g.op('MatMul', [pooled, g.weight('weight', identity, [width, projection])], {}, 'text_embeds'));
  g.output('text_embeds', 'float32', ['batch', projection]);
  g.output('last_hidden_state', 'float32', ['batch', 'sequence', width]);
  g.output('hidden_states.0', 'float32', ['batch', 'sequence', width]);
  g.output('hidden_states.1', 'float32', ['batch', 'sequence', width]);
  return g;
}

/** Block averaging into the colour basis: (raw − shift)·scale is the sampler's latent, as in SD3's VAE. */
export function buildSd3DemoVaeEncoder(): GraphBuilder {
  const g = new GraphBuilder('limelight_demo_sd3_vae_encoder', 'float32');
  const image = g.input('sample', 'float32', ['batch', 3, 'height', 'width']);
  const { downFactor: k, latentChannels: channels, scalingFactor, shiftFactor } = SD3_DEMO_VAE;
  const weight = new Float32Array(channels * 3 * k * k);
  for (let c = 0; c < 3; c++) {
    for (let rgb = 0; rgb < 3; rgb++) weight.fill((LATENT_GAIN * COLOUR_BASIS[c][rgb]) / scalingFactor / (k * k), (c * 3 + rgb) * k * k, (c * 3 + rgb + 1) * k * k);
  }
  const bias = new Float32Array(channels).fill(shiftFactor);
  g.scope('encoder', () => g.scope('conv_in', () => g.op('Conv', [image, g.weight('weight', weight, [channels, 3, k, k]), g.weight('bias', bias, [channels])], { strides: [k, k] }, 'latent_sample')));
  g.output('latent_sample', 'float32', ['batch', channels, 'latent_height', 'latent_width']);
  return g;
}

/** Back from the colour basis (z − shift)·scale, then a bilinear upsampling. */
export function buildSd3DemoVaeDecoder(): GraphBuilder {
  const g = new GraphBuilder('limelight_demo_sd3_vae_decoder', 'float32');
  const { downFactor: k, latentChannels: channels, scalingFactor, shiftFactor } = SD3_DEMO_VAE;
  const latent = g.input('latent_sample', 'float32', ['batch', channels, 'latent_height', 'latent_width']);
  const gain = scalingFactor / LATENT_GAIN;
  const weight = Array.from({ length: 3 * channels }, (_, i) => {
    const [rgb, c] = [Math.floor(i / channels), i % channels];
    return c < 3 ? COLOUR_BASIS[c][rgb] * gain : 0;
  });
  const bias = [0, 1, 2].map((rgb) => -shiftFactor * gain * COLOUR_BASIS.reduce((sum, row) => sum + row[rgb], 0));
  g.scope('decoder', () => {
    const colour = g.scope('conv_in', () => g.op('Conv', [latent, g.weight('weight', weight, [3, channels, 1, 1]), g.weight('bias', bias, [3])]));
    g.scope('up_blocks.0', () =>
      g.op('Resize', [colour, '', g.float32('scales', [1, 1, k, k], [4])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }, 'sample'),
    );
  });
  g.output('sample', 'float32', ['batch', 3, 'height', 'width']);
  return g;
}
