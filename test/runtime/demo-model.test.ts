// The generated demo model: deterministic files, built once, and a UNet whose attention is the real
// torch-SDPA structure with a BOS attention sink.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType, ValueInfoProtoSchema, type NodeProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEMO_MODEL_NAME, DEMO_MODEL_VERSION, ensureDemoModel } from '../../server/demo/demo-model.ts';
import { loadModel } from '../../server/runtime/model-folder.ts';
import { encodePrompt } from '../../server/runtime/text-encoding.ts';
import { demoModel } from '../helpers/runtime-fixtures.ts';

function filesOf(dir: string): Map<string, Buffer> {
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return new Map(entries.map((e) => [path.relative(dir, path.join(e.parentPath, e.name)), readFileSync(path.join(e.parentPath, e.name))]));
}

/**
 * The activation feeding the key projection: from the scores' key operand back through the layout ops
 * (Mul, Transpose, Reshape) to the first MatMul with a weight (to_k), then its other input.
 */
function keySource(nodes: readonly NodeProto[], initializers: ReadonlySet<string>, value: string): string | undefined {
  const producer = new Map(nodes.flatMap((n) => n.output.map((o) => [o, n] as const)));
  for (let node = producer.get(value); node; node = producer.get(node.input[0])) {
    if (node.opType === 'MatMul' && initializers.has(node.input[1])) return node.input[0];
    if (!['Mul', 'Transpose', 'Reshape', 'Cast'].includes(node.opType)) return undefined;
  }
  return undefined;
}

describe('demo model', () => {
  it('writes the same bytes every time', () => {
    const [a, b] = [filesOf(demoModel()), filesOf(demoModel())];
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    expect([...a.keys()]).toEqual(expect.arrayContaining(['model_index.json', 'unet/model.onnx', 'tokenizer/vocab.json', 'tokenizer/merges.txt', 'scheduler/scheduler_config.json']));
    for (const [file, bytes] of a) expect(bytes.equals(b.get(file)!), file).toBe(true);
  });

  it('ensureDemoModel builds once and rebuilds an outdated folder', () => {
    const models = mkdtempSync(path.join(tmpdir(), 'limelight-models-'));
    const dir = ensureDemoModel(models);
    expect(dir).toBe(path.join(models, DEMO_MODEL_NAME));
    const unet = path.join(dir, 'unet', 'model.onnx');
    const built = statSync(unet).mtimeMs;
    expect(ensureDemoModel(models)).toBe(dir);
    expect(statSync(unet).mtimeMs).toBe(built);
    const indexFile = path.join(dir, 'model_index.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8'));
    writeFileSync(indexFile, JSON.stringify({ ...index, _limelight_demo: { version: DEMO_MODEL_VERSION - 1 } }));
    ensureDemoModel(models);
    expect(JSON.parse(readFileSync(indexFile, 'utf8'))._limelight_demo.version).toBe(DEMO_MODEL_VERSION);
  });

  it('has torch-SDPA self- and cross-attention, found by structure, named like diffusers', () => {
    const model = fromBinary(ModelProtoSchema, readFileSync(path.join(demoModel(), 'unet', 'model.onnx')));
    const graph = model.graph!;
    const initializers = new Set(graph.initializer.map((i) => i.name));
    const producer = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const softmaxes = graph.node.filter((n) => n.opType === 'Softmax');
    const cross = softmaxes.filter((s) => {
      const scores = producer.get(s.input[0])!;
      expect(scores.opType).toBe('MatMul');
      const [query, key] = scores.input.map((i) => producer.get(i)!);
      // Mul(Q, √s) and Mul(Kᵀ, √s): the SDPA export.
      expect([query.opType, key.opType]).toEqual(['Mul', 'Mul']);
      expect(producer.get(key.input[0])!.opType).toBe('Transpose');
      return keySource(graph.node, initializers, scores.input[1]) === 'encoder_hidden_states';
    });
    const self = softmaxes.filter((s) => !cross.includes(s));
    expect(cross.map((s) => s.name)).toEqual([
      '/down_blocks.0/attentions.0/transformer_blocks.0/attn2/Softmax',
      '/down_blocks.1/attentions.0/transformer_blocks.0/attn2/Softmax',
      '/up_blocks.1/attentions.0/transformer_blocks.0/attn2/Softmax',
    ]);
    expect(self.map((s) => s.name)).toEqual(['/down_blocks.1/attentions.0/transformer_blocks.0/attn1/Softmax']);
  });

  it('puts most of every cross-attention row on BOS (an attention sink), at two query resolutions', async () => {
    const dir = demoModel();
    // A test build of the UNet that also outputs every softmax.
    const file = path.join(dir, 'unet', 'model.onnx');
    const model = fromBinary(ModelProtoSchema, readFileSync(file));
    const softmaxOutputs = model.graph!.node.filter((n) => n.opType === 'Softmax' && n.name.includes('attn2')).map((n) => n.output[0]);
    for (const name of softmaxOutputs) {
      model.graph!.output.push(create(ValueInfoProtoSchema, { name, type: { value: { case: 'tensorType', value: { elemType: TensorProto_DataType.FLOAT } } } }));
    }
    const session = await ort.InferenceSession.create(toBinary(ModelProtoSchema, model));
    const { clip } = await loadModel(dir, 'cpu');
    const prompt = await encodePrompt(clip, 'a red car in golden light');
    const latent = new Float32Array(4 * 128 * 128).map((_, i) => 6 * Math.sin(i * 0.37));
    const result = await session.run({
      sample: new ort.Tensor('float32', latent, [1, 4, 128, 128]), // a 512² image
      timestep: new ort.Tensor('int64', BigInt64Array.from([500n]), [1]),
      encoder_hidden_states: new ort.Tensor('float32', prompt.embeddings, [1, 77, 64]),
    });
    const queryLengths = new Set<number>();
    for (const name of softmaxOutputs) {
      const probabilities = result[name];
      const [, heads, queries, keys] = probabilities.dims.map(Number);
      expect(keys).toBe(77);
      queryLengths.add(queries);
      const data = probabilities.data as Float32Array;
      let minimum = 1;
      for (let row = 0; row < heads * queries; row++) minimum = Math.min(minimum, data[row * keys]);
      expect(minimum, name).toBeGreaterThan(0.6);
      const red = prompt.words.find((w) => w.word === 'red')!.positions[0];
      expect(data[red], `${name}: the colour word gets attention`).toBeGreaterThan(0.02);
    }
    expect([...queryLengths].sort((a, b) => a - b)).toEqual([1024, 4096]);
  });
});
