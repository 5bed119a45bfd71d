// A model folder with Stable Diffusion's size constraints, built in TypeScript: a VAE that divides by 8
// (8×8 block averages → 4 channels, and back by ×8 nearest) and a UNet that goes down by three stride-2
// convolutions and back up by fixed ×2 Resizes, each followed by a skip Concat with the level above, as
// real exports do. A latent side that is not a multiple of 8 fails that Concat, so a padding mistake
// cannot pass unnoticed. The text encoder and tokenizer are the demo model's.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONTEXT_DIM } from '../../server/demo/demo-design.ts';
import { GraphBuilder } from '../../server/onnx/graph-builder.ts';
import { demoModel } from './runtime-fixtures.ts';

const CHANNELS = 4;
/** Latent channel c decodes to this RGB (the encoder's inverse on the first three channels). */
const RGB_OF_CHANNEL = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [0, 0, 0],
];

function vaeEncoder(): GraphBuilder {
  const g = new GraphBuilder('vae_encoder', 'float32');
  const image = g.input('sample', 'float32', ['batch', 3, 'height', 'width']);
  const blocks = g.op('AveragePool', [image], { kernel_shape: [8, 8], strides: [8, 8] });
  const weight = RGB_OF_CHANNEL.flatMap((rgb, c) => (c < 3 ? rgb : [1 / 3, 1 / 3, 1 / 3]));
  g.op('Conv', [blocks, g.weight('weight', weight, [CHANNELS, 3, 1, 1])], {}, 'latent_sample');
  g.output('latent_sample', 'float32', ['batch', CHANNELS, 'latent_height', 'latent_width']);
  return g;
}

function vaeDecoder(): GraphBuilder {
  const g = new GraphBuilder('vae_decoder', 'float32');
  const latent = g.input('latent_sample', 'float32', ['batch', CHANNELS, 'latent_height', 'latent_width']);
  const weight = [0, 1, 2].flatMap((rgb) => RGB_OF_CHANNEL.map((row) => row[rgb]));
  const rgb = g.op('Conv', [latent, g.weight('weight', weight, [3, CHANNELS, 1, 1])]);
  g.op('Resize', [rgb, '', g.float32('scales', [1, 1, 8, 8], [4])], { mode: 'nearest' }, 'sample');
  g.output('sample', 'float32', ['batch', 3, 'height', 'width']);
  return g;
}

function unet(): GraphBuilder {
  const g = new GraphBuilder('unet', 'float32');
  const sample = g.input('sample', 'float32', ['batch', CHANNELS, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', [1]);
  const context = g.input('encoder_hidden_states', 'float32', ['batch', 'sequence', CONTEXT_DIM]);
  const identityish = (name: string, inChannels: number, kernel: number) =>
    g.weight(name, Array.from({ length: CHANNELS * inChannels * kernel * kernel }, (_, i) => (i % (inChannels * kernel * kernel + 1) === 0 ? 0.5 : 0.02)), [CHANNELS, inChannels, kernel, kernel]);
  const levels = [sample];
  for (let level = 0; level < 3; level++) {
    levels.push(g.scope(`down_blocks.${level}.downsamplers.0.conv`, () => g.op('Conv', [levels[level], identityish('weight', CHANNELS, 3)], { strides: [2, 2], pads: [1, 1, 1, 1] })));
  }
  let x = levels[3];
  for (let level = 2; level >= 0; level--) {
    x = g.scope(`up_blocks.${2 - level}`, () => {
      const up = g.op('Resize', [x, '', g.float32('upsamplers.0.scales', [1, 1, 2, 2], [4])], { mode: 'nearest' });
      return g.op('Conv', [g.op('Concat', [up, levels[level]], { axis: 1 }), identityish('resnets.0.weight', 2 * CHANNELS, 1)]);
    });
  }
  // The prompt and the timestep nudge the prediction, so both inputs are read.
  const prompt = g.op('Unsqueeze', [g.op('ReduceMean', [context], { axes: [1, 2], keepdims: 1 }), g.int64('prompt_axes', [3])]);
  const time = g.op('Mul', [g.op('Cast', [timestep], { to: 1 }), g.scalar(1e-4)]);
  g.op('Add', [g.op('Add', [x, prompt]), time], {}, 'out_sample');
  g.output('out_sample', 'float32', ['batch', CHANNELS, 'height', 'width']);
  return g;
}

function writePart(dir: string, part: string, graph: GraphBuilder, config: Record<string, unknown>): void {
  writeFileSync(path.join(dir, part, 'model.onnx'), graph.build().model);
  writeFileSync(path.join(dir, part, 'config.json'), JSON.stringify(config));
}

/** Writes the folder (named `name`, in a fresh temp folder); returns its path. */
export function sdLayoutModel(name = 'sd-layout'): string {
  const dir = demoModel({}, name);
  writePart(dir, 'unet', unet(), {
    in_channels: CHANNELS,
    down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
    cross_attention_dim: CONTEXT_DIM,
  });
  const vae = { latent_channels: CHANNELS, block_out_channels: [128, 256, 512, 512], scaling_factor: 1 };
  writePart(dir, 'vae_encoder', vaeEncoder(), vae);
  writePart(dir, 'vae_decoder', vaeDecoder(), vae);
  return dir;
}
