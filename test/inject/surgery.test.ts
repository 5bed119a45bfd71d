import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ModelProtoSchema, TensorProto_DataType, type ModelProto, type NodeProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { biasTensor, featherOnce, FrameBias, tokenGate, type Injection } from '../../server/onnx/attention-bias.ts';
import { areaResample } from '../../server/masks/mask-ops.ts';
import type { AttentionShape } from '../../server/onnx/cross-attention-find.ts';
import { findCrossAttention, NoCrossAttentionError, patchCrossAttention, type BiasInput } from '../../server/onnx/cross-attention-patch.ts';
import { ensurePatchedModel } from '../../server/onnx/patched-model.ts';
import { fromHalfArray, toHalfArray } from '../../server/runtime/float16.ts';
import { attentionTestModel, DIMS, type TestGraphOptions } from '../helpers/attention-graphs.ts';

const { batch: B, latent: L, tokens: T, encoder: E } = DIMS;

function deterministic(length: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  });
}

function patch(bytes: Uint8Array) {
  const model = fromBinary(ModelProtoSchema, bytes);
  const result = patchCrossAttention(model);
  return { ...result, bytes: toBinary(ModelProtoSchema, model), model };
}

/** The model's inputs and the bias inputs for these batch rows (null = unbiased). */
function feedsFor(biasInputs: BiasInput[], rows: (FrameBias | null)[], fp16 = false): Record<string, ort.Tensor> {
  const type = fp16 ? 'float16' : 'float32';
  const wrap = (data: Float32Array, dims: number[]) => new ort.Tensor(type, fp16 ? toHalfArray(data) : data, dims);
  const result: Record<string, ort.Tensor> = {
    sample: wrap(deterministic(B * 4 * L * L, 1), [B, 4, L, L]),
    // Small text states: no token dominates before the bias, so the bias alone decides where mass goes.
    encoder_hidden_states: wrap(deterministic(B * T * E, 2).map((v) => v * 0.05), [B, T, E]),
  };
  for (const input of biasInputs) {
    const tensor = biasTensor(input, rows, T);
    result[input.name] = new ort.Tensor(tensor.type, tensor.data, tensor.dims);
  }
  return result;
}

/** Feeds with one mask over the whole prompt on every batch row. */
function feeds(biasInputs: BiasInput[], mask: Float32Array, weight: number, fp16 = false): Record<string, ort.Tensor> {
  const frame = new FrameBias(L, L, [{ mask, maskWidth: L * 8, maskHeight: L * 8, weight, gate: tokenGate(T) }], biasInputs.map((b) => b.divisor));
  return feedsFor(biasInputs, Array.from({ length: B }, () => frame), fp16);
}

const SCORE_ARITHMETIC = new Set(['Mul', 'Div', 'Add', 'MatMul', 'Concat', 'Expand', 'Reshape']);

/** The bias inputs an attention node's scores are computed from (through score arithmetic only, not through the layer's inputs). */
function biasInputsOf(model: ModelProto, node: NodeProto): string[] {
  const producers = new Map(model.graph!.node.flatMap((n) => n.output.map((output) => [output, n] as const)));
  const found = new Set<string>();
  const stack = node.opType === 'Softmax' ? [node.input[0]] : [node.input[5] ?? ''];
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    if (tensor.startsWith('limelight_attention_')) found.add(tensor);
    const producer = producers.get(tensor);
    if (producer && SCORE_ARITHMETIC.has(producer.opType)) stack.push(...producer.input);
  }
  return [...found].sort();
}

async function run(bytes: Uint8Array, inputs: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(bytes);
  const used = Object.fromEntries(session.inputNames.map((n) => [n, inputs[n]]));
  const outputs = await session.run(used);
  await session.release();
  return outputs;
}

const black = new Float32Array(L * 8 * L * 8);
/** The three exported shapes with constant sizes, and the 4-D and 3-D ones as torch traces them with dynamic axes. */
const cases: { name: string; shape: AttentionShape; traced: boolean }[] = [
  { name: 'sdpa-4d', shape: 'sdpa-4d', traced: false },
  { name: 'legacy-3d', shape: 'legacy-3d', traced: false },
  { name: 'fused-mha', shape: 'fused-mha', traced: false },
  { name: 'traced sdpa-4d', shape: 'sdpa-4d', traced: true },
  { name: 'traced legacy-3d', shape: 'legacy-3d', traced: true },
];
const scoreCases = cases.filter((c) => c.shape !== 'fused-mha');

describe.each(cases)('cross-attention surgery on $name graphs', ({ shape, traced }) => {
  const build = (options: TestGraphOptions = {}) => attentionTestModel(shape, { traced, ...options });
  it('finds exactly the cross-attention layers, at their resolutions, and biases only them', () => {
    const original = fromBinary(ModelProtoSchema, build());
    const inputsBefore = new Map(original.graph!.node.map((n) => [n.name, n.input.join()]));
    const { layers, biasInputs, model } = patch(build());
    expect(layers.map((l) => [l.shape, l.divisor, l.heads])).toEqual([
      [shape, 1, 2],
      [shape, 2, 2],
      [shape, 1, 2],
    ]);
    expect(layers.every((l) => l.nodeName.includes('attn2'))).toBe(true);
    const folded = shape !== 'fused-mha';
    const perDivisor = (d: number, count: number) => (folded ? [['query-factors', d, count], ['token-factors', d, count]] : [['bias', d, count]]);
    expect(biasInputs.map((b) => [b.kind, b.divisor, b.layers])).toEqual([...perDivisor(1, 2), ...perDivisor(2, 1)]);
    const changed = model.graph!.node.filter((n) => inputsBefore.has(n.name) && inputsBefore.get(n.name) !== n.input.join());
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((n) => n.name.includes('attn2'))).toBe(true); // self-attention (attn1) untouched
    const attentionNodes = model.graph!.node.filter((n) => n.opType === 'Softmax' || n.opType === 'MultiHeadAttention');
    // Each cross-attention layer's scores read its resolution's bias (or both factors), once; self-attention reads none.
    const nameFor = (kind: string, divisor: number) => biasInputs.find((b) => b.kind === kind && b.divisor === divisor)!.name;
    const expected = (divisor: number) => (folded ? [nameFor('query-factors', divisor), nameFor('token-factors', divisor)].sort() : [nameFor('bias', divisor)]);
    expect(attentionNodes.map((n) => biasInputsOf(model, n))).toEqual(
      attentionNodes.map((n) => (n.name.includes('attn2') ? expected(layers.find((l) => l.nodeName === n.name)!.divisor) : [])),
    );
    if (folded) expect(attentionNodes.every((n) => inputsBefore.get(n.name) === n.input.join())).toBe(true); // no pass over the scores
    const graphInputs = model.graph!.input.map((i) => i.name);
    expect(graphInputs).toEqual(['sample', 'encoder_hidden_states', ...biasInputs.map((b) => b.name)]);
  });

  it('w = 0 gives output identical to the unpatched model (bit-identical where the factors are folded into Q·Kᵀ)', async () => {
    const original = build();
    const patched = patch(original);
    const inputs = feeds(patched.biasInputs, black, 0);
    const before = (await run(original, inputs)).out_sample.data as Float32Array;
    const after = (await run(patched.bytes, inputs)).out_sample.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < before.length; i++) worst = Math.max(worst, Math.abs(before[i] - after[i]));
    if (shape === 'fused-mha') {
      // onnxruntime's fused kernel takes another code path when attention_bias is present: rounding
      // differs in the last bit. The sampler runs the unpatched session when every weight is 0.
      expect(worst).toBeLessThan(1e-6);
    } else {
      expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
    }
  });

  it('w = 1 with an all-black mask puts ≥ 99.9% of every cross-attention row on token 0', async () => {
    const patched = patch(build({ expose: true }));
    const outputs = await run(patched.bytes, feeds(patched.biasInputs, black, 1));
    const exposed = Object.keys(outputs).filter((n) => n !== 'out_sample');
    if (shape === 'fused-mha') {
      // With the mass on token 0 each output row equals value row 0 (per head).
      for (let layer = 0; layer < exposed.length; layer += 2) {
        const out = outputs[exposed[layer]];
        const value = outputs[exposed[layer + 1]].data as Float32Array;
        const [batch, queries, channels] = out.dims;
        const data = out.data as Float32Array;
        for (let b = 0; b < batch; b++) {
          for (let q = 0; q < queries; q++) {
            for (let c = 0; c < channels; c++) {
              const expected = value[b * T * channels + c];
              expect(Math.abs(data[(b * queries + q) * channels + c] - expected)).toBeLessThan(2e-3 * (1 + Math.abs(expected)));
            }
          }
        }
      }
      return;
    }
    expect(exposed).toHaveLength(3);
    for (const name of exposed) {
      const probabilities = outputs[name].data as Float32Array;
      let minimum = 1;
      for (let row = 0; row < probabilities.length / T; row++) minimum = Math.min(minimum, probabilities[row * T]);
      expect(minimum).toBeGreaterThanOrEqual(0.999);
    }
  });
});

describe.each(['sdpa-4d', 'legacy-3d'] as const)('bias arithmetic on %s graphs', (shape) => {
  it('a black mask at w = 0.8 scales the prompt tokens by 0.2 and renormalises; white leaves rows unchanged', async () => {
    const plain = attentionTestModel(shape, { expose: true });
    const patched = patch(plain);
    const probabilities = async (bytes: Uint8Array, mask: Float32Array) => {
      const outputs = await run(bytes, feeds(patched.biasInputs, mask, 0.8));
      return Object.keys(outputs).filter((n) => n !== 'out_sample').map((n) => outputs[n].data as Float32Array);
    };
    const before = await probabilities(plain, black);
    const darkened = await probabilities(patched.bytes, black);
    const white = await probabilities(patched.bytes, new Float32Array(black.length).fill(1));
    for (let row = 0; row < before[0].length / T; row++) {
      // The first cross-attention sees the same inputs either way (later ones see the changed residual stream).
      const p0 = before[0][row * T];
      expect(darkened[0][row * T]).toBeCloseTo(p0 / (p0 + 0.2 * (1 - p0)), 5);
    }
    white.forEach((layer, i) => expect(layer).toEqual(before[i]));
  });
});

/** Two chained injections on different words, with masks that vary across the query grid. */
const chained: Injection[] = [
  { mask: Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 64) / 63), maskWidth: 64, maskHeight: 64, weight: 0.8, gate: tokenGate(T, [1, 2]) },
  { mask: Float32Array.from({ length: 64 * 64 }, (_, i) => Math.floor(i / 64) / 63), maskWidth: 64, maskHeight: 64, weight: 0.5, gate: tokenGate(T, [3]) },
];

/**
 * softmax(scores + B) for the first cross-attention layer (full latent grid), in float64, with B from the
 * formula: B[q,k] = Σᵢ Tᵢ[k]·ln(max(1 − wᵢ·(1 − mᵢ[q]), 1e-4)), mᵢ the mask feathered at the latent grid.
 * Batch row 0 is the unconditional half of CFG: no bias.
 */
function expectedProbabilities(scores: Float32Array, withBias = true): Float64Array {
  const masks = chained.map((inj) => featherOnce(areaResample(inj.mask, inj.maskWidth, inj.maskHeight, L, L), L, L));
  const queries = L * L;
  const out = new Float64Array(scores.length);
  for (let row = 0; row < scores.length / T; row++) {
    const batch = Math.floor(row / (DIMS.heads * queries));
    const q = row % queries;
    const logits = Array.from({ length: T }, (_, k) => {
      const bias = batch === 0 || !withBias ? 0 : chained.reduce((sum, inj, i) => sum + inj.gate[k] * Math.log(Math.max(1 - inj.weight * (1 - masks[i][q]), 1e-4)), 0);
      return scores[row * T + k] + bias;
    });
    const top = Math.max(...logits);
    const total = logits.reduce((sum, v) => sum + Math.exp(v - top), 0);
    logits.forEach((v, k) => (out[row * T + k] = Math.exp(v - top) / total));
  }
  return out;
}

describe.each(scoreCases)('the bias on $name graphs equals the formula', ({ shape, traced }) => {
  const build = (options: TestGraphOptions = {}) => attentionTestModel(shape, { traced, ...options });
  /** The first cross-attention layer's probabilities from the patched graph, and the kinds of its bias inputs. */
  async function firstLayer(options: { exposeScores?: boolean }) {
    const patched = patch(build({ expose: true, ...options }));
    const softmax = patched.model.graph!.node.find((n) => n.name === patched.layers[0].nodeName)!;
    const frame = new FrameBias(L, L, chained, patched.biasInputs.map((b) => b.divisor));
    const outputs = await run(patched.bytes, feedsFor(patched.biasInputs, [null, frame]));
    return { probabilities: outputs[softmax.output[0]].data as Float32Array, kinds: new Set(patched.biasInputs.map((b) => b.kind)) };
  }

  async function unbiasedScores(): Promise<Float32Array> {
    const plain = build({ exposeScores: true });
    const softmax = findCrossAttention(fromBinary(ModelProtoSchema, plain))[0];
    return (await run(plain, feedsFor([], [null, null])))[softmax.scores].data as Float32Array;
  }

  const largestDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i])), 0);

  it('folded into Q·Kᵀ: chained injections, word gates and an unbiased CFG row', async () => {
    const scores = await unbiasedScores();
    const expected = expectedProbabilities(scores);
    const { probabilities, kinds } = await firstLayer({});
    expect(kinds).toEqual(new Set(['query-factors', 'token-factors']));
    expect(largestDifference(probabilities, expected)).toBeLessThan(1e-6);
    expect(largestDifference(expected, expectedProbabilities(scores, false))).toBeGreaterThan(0.1); // the bias matters
  });

  it('added before the Softmax when something else also reads the scores (the fold would change what it sees)', async () => {
    const expected = expectedProbabilities(await unbiasedScores());
    const { probabilities, kinds } = await firstLayer({ exposeScores: true });
    expect(kinds).toEqual(new Set(['bias']));
    expect(largestDifference(probabilities, expected)).toBeLessThan(1e-6);
  });
});

describe('surgery edge cases', () => {
  it('fp16 models get fp16 bias inputs and run', async () => {
    const patched = patch(attentionTestModel('sdpa-4d', { floatType: 'float16' }));
    expect(patched.biasInputs.every((b) => b.elemType === TensorProto_DataType.FLOAT16 && b.name.endsWith('fp16'))).toBe(true);
    const outputs = await run(patched.bytes, feeds(patched.biasInputs, black, 0.8, true));
    const values = fromHalfArray(outputs.out_sample.data as Uint16Array);
    expect(values.every(Number.isFinite)).toBe(true);
  });

  it("traced exports: a scale fixed by the weights is folded as a number, one known only at run time is divided out of G by the graph's own tensor", () => {
    const inserted = (model: ModelProto) => {
      const producers = new Map(model.graph!.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
      const folds = model.graph!.node.filter((n) => n.name.startsWith('limelight_fold'));
      return {
        byRuntimeScale: folds.filter((n) => n.opType === 'Div' && producers.get(n.input[1])?.opType === 'Sqrt').length,
        byNumber: folds.filter((n) => n.opType === 'Mul' && n.input[1].startsWith('limelight_fold_constant')).length,
      };
    };
    // 4-D: √scale on q and on kᵀ, from q's last dimension, which Reshape's -1 leaves to run time.
    expect(inserted(patch(attentionTestModel('sdpa-4d', { traced: true })).model)).toEqual({ byRuntimeScale: 6, byNumber: 0 });
    // 3-D: head_dim ** -0.5 from the key projection's width, which the weights fix.
    expect(inserted(patch(attentionTestModel('legacy-3d', { traced: true })).model)).toEqual({ byRuntimeScale: 0, byNumber: 3 });
  });

  it("reads heads from unet/config.json where the graph leaves them to Reshape's -1, and biases such layers all the same", async () => {
    const model = fromBinary(ModelProtoSchema, attentionTestModel('legacy-3d', { expose: true }));
    // The attention's 4-element Reshape sizes ([batch, tokens, heads, head size] and back) with element 2 left to -1.
    for (const tensor of model.graph!.initializer) {
      if (tensor.name.includes('.attn') && tensor.dataType === TensorProto_DataType.INT64 && tensor.dims[0] === 4n) {
        const sizes = new BigInt64Array(tensor.rawData.slice().buffer);
        sizes[2] = -1n;
        tensor.rawData = new Uint8Array(sizes.buffer);
      }
    }
    expect(findCrossAttention(model).map((l) => l.heads)).toEqual([null, null, null]);
    expect(findCrossAttention(model, 8).map((l) => l.heads)).toEqual([8, 8, 8]);
    // One count per down block, by resolution: the layers run at the latent grid ÷ 1, ÷ 2, ÷ 1.
    expect(findCrossAttention(model, [5, 10, 20, 20]).map((l) => l.heads)).toEqual([5, 10, 5]);
    // The graph repeats the factors per head from its own shapes, so the unknown count does not matter.
    const patched = patch(toBinary(ModelProtoSchema, model));
    const outputs = await run(patched.bytes, feeds(patched.biasInputs, black, 1));
    for (const name of Object.keys(outputs).filter((n) => n !== 'out_sample')) {
      const probabilities = outputs[name].data as Float32Array;
      for (let row = 0; row < probabilities.length / T; row++) expect(probabilities[row * T]).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('refuses a graph without cross-attention and says what was searched', () => {
    const model = fromBinary(ModelProtoSchema, attentionTestModel('sdpa-4d'));
    const encoder = model.graph!.input.find((i) => i.name === 'encoder_hidden_states')!;
    encoder.name = 'context';
    for (const node of model.graph!.node) node.input = node.input.map((i) => (i === 'encoder_hidden_states' ? 'context' : i));
    expect(() => patchCrossAttention(model)).toThrow(NoCrossAttentionError);
    expect(() => patchCrossAttention(model)).toThrow(/no 'encoder_hidden_states' input/);
  });
});

describe('patched model files', () => {
  it('writes the patched external-data model beside the original, loads it from its path, and copies no weights', async () => {
    // Re-serialise the test graph with its weights moved to an external file, as fp32 SD exports do.
    const model = fromBinary(ModelProtoSchema, attentionTestModel('sdpa-4d'));
    const dir = mkdtempSync(path.join(tmpdir(), 'limelight-unet-'));
    let offset = 0;
    const chunks: Uint8Array[] = [];
    for (const tensor of model.graph!.initializer) {
      if (tensor.rawData.byteLength < 64) continue;
      chunks.push(tensor.rawData.slice());
      tensor.externalData = [
        { key: 'location', value: 'weights.pb' },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(tensor.rawData.byteLength) },
      ].map((e) => ({ ...e, $typeName: 'onnx.StringStringEntryProto' as const }));
      offset += tensor.rawData.byteLength;
      tensor.rawData = new Uint8Array(0);
      tensor.dataLocation = 1;
    }
    writeFileSync(path.join(dir, 'weights.pb'), Buffer.concat(chunks));
    writeFileSync(path.join(dir, 'model.onnx'), toBinary(ModelProtoSchema, model));
    // What an earlier surgery version left beside it: replaced, not kept next to the new one.
    for (const stale of ['.model.limelight-attention-v1-0123456789abcdef.onnx', '.model.limelight-attention-v1-0123456789abcdef.onnx.json']) {
      writeFileSync(path.join(dir, stale), 'old');
    }

    const patched = await ensurePatchedModel(path.join(dir, 'model.onnx'), path.join(dir, 'cache'));
    expect(readdirSync(dir).filter((f) => f.includes('limelight-attention')).sort()).toEqual([path.basename(patched.path), `${path.basename(patched.path)}.json`]);
    expect(path.dirname(patched.path)).toBe(dir);
    expect(readdirSync(dir).filter((f) => f.endsWith('.pb'))).toEqual(['weights.pb']);
    const written = fromBinary(ModelProtoSchema, readFileSync(patched.path));
    const external = written.graph!.initializer.filter((t) => t.externalData.length > 0);
    expect(external.length).toBe(chunks.length);
    expect(external.every((t) => t.rawData.byteLength === 0 && t.externalData[0].value === 'weights.pb')).toBe(true);
    const session = await ort.InferenceSession.create(patched.path);
    expect(session.inputNames).toContain(patched.biasInputs[0].name);
    const outputs = await session.run(Object.fromEntries(session.inputNames.map((n) => [n, feeds(patched.biasInputs, black, 0.8)[n]])));
    expect(outputs.out_sample.dims).toEqual([B, 4, L, L]);
    await session.release();

    const again = await ensurePatchedModel(path.join(dir, 'model.onnx'), path.join(dir, 'cache'));
    expect(again.path).toBe(patched.path);
    expect(statSync(again.path).mtimeMs).toBe(statSync(patched.path).mtimeMs);
  });
});
