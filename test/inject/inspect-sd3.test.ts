// `limelight inspect-model` on an SD3 folder: the family, every part (three text encoders when T5 is
// there), the flow-matching scheduler, the VAE's shift and the joint-attention layers.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSd3DemoModel } from '../../server/demo/demo-sd3.ts';
import { inspectModel } from '../../server/onnx/inspect.ts';

describe('inspect-model: SD3', () => {
  it('reports the family, the parts and the joint-attention layers', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'limelight-sd3-')), 'sd3');
    writeSd3DemoModel(dir, { scores: '3d' });
    const { text, crossAttentionFound } = await inspectModel(dir, 'cpu');
    expect(crossAttentionFound).toBe(true);
    expect(text).toContain('family: Stable Diffusion 3');
    const parts = text.split('\n').filter((line) => /^ {2}\S+\/model\.onnx/.test(line)).map((line) => line.trim().split(' ')[0]);
    expect(parts).toEqual(['transformer/model.onnx', 'text_encoder/model.onnx', 'text_encoder_2/model.onnx', 'vae_encoder/model.onnx', 'vae_decoder/model.onnx']);
    expect(text).toContain('scheduler: FlowMatchEulerDiscrete, shift 3 over 1000');
    expect(text).toContain('scaling_factor 1.5305, shift_factor 0.0609');
    expect(text).toContain('then 256 zero tokens (no text_encoder_3); pooled 2048');
    expect(text).toContain('joint attention (image queries × text keys biased): 2 layers');
    expect(text).toContain('2 × 3-D scores [batch·heads, queries, tokens] (legacy export), 2 heads, 1024 queries (32×32, the latent grid ÷ 2):');
    expect(text).toContain('      /transformer_blocks.1/attn/Softmax');
  });
});
