// `limelight inspect-model` lists the cross-attention layers InjectCrossAttention would bias, and says
// what it searched when there are none (exiting non-zero).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../server/onnx/graph-builder.ts';
import { inspectModel } from '../../server/onnx/inspect.ts';
import { limelight } from '../helpers/cli.ts';
import { demoModel } from '../helpers/runtime-fixtures.ts';

/** A UNet-shaped graph with the export's inputs and a self-attention-like Softmax, but no cross-attention. */
function unetWithoutCrossAttention(): Uint8Array {
  const g = new GraphBuilder('no_cross_attention', 'float32');
  const sample = g.input('sample', 'float32', ['batch', 4, 'height', 'width']);
  g.input('timestep', 'int64', [1]);
  g.input('encoder_hidden_states', 'float32', ['batch', 'sequence', 64]);
  g.op('Softmax', [sample], { axis: -1 }, 'out_sample');
  g.output('out_sample', 'float32', ['batch', 4, 'height', 'width']);
  return g.build().model;
}

describe('inspect-model: cross-attention', () => {
  it("lists the demo model's layers by resolution, with heads, query length and shape", async () => {
    const { text, crossAttentionFound } = await inspectModel(demoModel(), 'cpu');
    expect(crossAttentionFound).toBe(true);
    expect(text).toContain('cross-attention: 3 layers (query lengths at 512×512, latent 128×128)');
    const groups = text.split('\n').filter((line) => /^ {4}\d+ × /.test(line));
    expect(groups).toEqual([
      '    2 × 4-D scores (torch SDPA), 2 heads, 4096 queries (64×64, the latent grid ÷ 2):',
      '    1 × 4-D scores (torch SDPA), 2 heads, 1024 queries (32×32, the latent grid ÷ 4):',
    ]);
    expect(text).toContain('      /down_blocks.1/attentions.0/transformer_blocks.0/attn2/Softmax');
  });

  it('says what was searched when a UNet has no cross-attention', async () => {
    const dir = demoModel();
    writeFileSync(path.join(dir, 'unet', 'model.onnx'), unetWithoutCrossAttention());
    const { text, crossAttentionFound } = await inspectModel(dir, 'cpu');
    expect(crossAttentionFound).toBe(false);
    expect(text).toContain(
      "cross-attention: no cross-attention found: searched 1 Softmax and 0 fused MultiHeadAttention nodes for a key computed by a weight MatMul from 'encoder_hidden_states', and none matched; InjectCrossAttention cannot use this model",
    );
  });

  it('exits 0 for a model with cross-attention, 3 when its UNet has none, 2 when the folder is not a model', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'limelight-inspect-'));
    const good = demoModel();
    const found = await limelight(['inspect-model', good], cwd);
    expect(found.code).toBe(0);
    expect(found.stdout).toContain('cross-attention: 3 layers');

    writeFileSync(path.join(good, 'unet', 'model.onnx'), unetWithoutCrossAttention());
    const none = await limelight(['inspect-model', good], cwd);
    expect(none.code).toBe(3);
    expect(none.stdout).toContain('no cross-attention found');

    rmSync(path.join(good, 'vae_decoder'), { recursive: true });
    const broken = await limelight(['inspect-model', good], cwd);
    expect(broken.code).toBe(2);
    expect(broken.stdout).toMatch(/missing vae_decoder\/model\.onnx/);
    expect(broken.stderr).not.toContain('    at '); // a message, not a stack trace
  }, 60_000);
});
