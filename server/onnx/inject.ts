// Attaches attention masks to a MODEL: points it at the patched UNet and adds the provider that
// feeds the bias inputs for each UNet call. The surgery is done once per UNet file (cached on disk);
// masks and weights only change what the provider computes, so the session is reused.
import * as ort from 'onnxruntime-node';
import type { Conditioning, DiffusionModel, UNetBatch, UNetInputProvider } from '../runtime/model-values.ts';
import { biasTensor, FrameBias, tokenGate, type Injection } from './attention-bias.ts';
import type { BiasInput } from './cross-attention-patch.ts';
import { ensurePatchedModel } from './patched-model.ts';
import type { MaskBatch } from '../masks/mask-batch.ts';
import { LimelightError } from '../errors.ts';
import { frameSlot } from '../frame-axis.ts';

export interface AttentionInjection {
  masks: MaskBatch;
  weight: number;
  /** Lower-case words of the prompt to target; empty = the whole prompt. */
  words: readonly string[];
}

interface AttentionState {
  sourceFile: string;
  injections: readonly AttentionInjection[];
}

/** Which provider of a MODEL is ours, with what it was built from (so chained nodes compose). */
const attentionProviders = new WeakMap<UNetInputProvider, AttentionState>();

export class InjectionError extends LimelightError {}

export function parseWords(words: string): string[] {
  return words
    .toLowerCase()
    .split(/[\s,]+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((w) => w.length > 0);
}

function gateFor(injection: AttentionInjection, positive: Conditioning): Float32Array {
  if (injection.words.length === 0) return tokenGate(positive.sequenceLength);
  const positions: number[] = [];
  for (const word of injection.words) {
    const found = positive.words.filter((w) => w.word.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '') === word);
    if (found.length === 0) {
      throw new InjectionError(`InjectCrossAttention: "${word}" is not a word of the prompt "${positive.text}"; change 'words' or the prompt`);
    }
    for (const w of found) positions.push(...w.positions);
  }
  return tokenGate(positive.sequenceLength, positions);
}

function maskFor(injection: AttentionInjection, frame: number, frameCount: number): Float32Array {
  const { masks, axis } = injection.masks;
  const slot = frameSlot(masks.length, axis, frame, frameCount);
  if (slot !== undefined) return masks[slot]!;
  const held = axis ? `frames ${axis.start + 1}–${axis.start + masks.length} of ${axis.frames}` : `${masks.length} frames`;
  throw new InjectionError(
    `InjectCrossAttention: the mask has ${held} but the clip has ${frameCount} (frame ${frame + 1} is sampled); give one mask, or one per frame (KeyframeInterpolate makes them)`,
  );
}

/**
 * Feeds the bias inputs of each UNet call. A frame's bias depends only on its masks (and the latent size
 * and prompt), so frames that share a mask share one FrameBias, and a batch whose rows have the same
 * biases as the previous call (the next step, or the next batch under one mask) reuses its tensors.
 */
function makeProvider(biasInputs: readonly BiasInput[], injections: readonly AttentionInjection[]): UNetInputProvider {
  const divisors = biasInputs.map((b) => b.divisor);
  const maskIds = new WeakMap<Float32Array, number>();
  let nextMaskId = 0;
  const idOf = (mask: Float32Array): number => {
    let id = maskIds.get(mask);
    if (id === undefined) maskIds.set(mask, (id = nextMaskId++));
    return id;
  };
  const frameBiases = new Map<string, FrameBias>();
  let last: { key: string; feeds: Record<string, ort.Tensor> } | undefined;
  return (batch: UNetBatch) => {
    const { latentWidth, latentHeight, padding, positive } = batch;
    const grid = `${latentWidth}x${latentHeight}${padding ? ` from ${padding.imageWidth}x${padding.imageHeight}` : ''}`;
    const rowMasks = batch.conditional.map((conditional, r) =>
      conditional ? injections.map((inj) => maskFor(inj, batch.frames[r % batch.frames.length], batch.frameCount)) : null,
    );
    const biasIds = rowMasks.map((masks) => (masks ? `${grid}|${masks.map(idOf).join(',')}|${positive.text}` : null));
    const key = biasIds.map((id) => id ?? '-').join('\n');
    if (last?.key === key) return last.feeds;
    const biasOf = (id: string, masks: readonly Float32Array[]): FrameBias => {
      let bias = frameBiases.get(id);
      if (!bias) {
        const parts: Injection[] = injections.map((inj, i) => ({
          mask: masks[i],
          maskWidth: inj.masks.width,
          maskHeight: inj.masks.height,
          weight: inj.weight,
          gate: gateFor(inj, positive),
        }));
        bias = new FrameBias(latentWidth, latentHeight, parts, divisors, padding);
        if (frameBiases.size >= 256) frameBiases.clear();
        frameBiases.set(id, bias);
      }
      return bias;
    };
    const rows = biasIds.map((id, r) => (id === null ? null : biasOf(id, rowMasks[r]!)));
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of biasInputs) {
      const { data, dims, type } = biasTensor(input, rows, positive.sequenceLength);
      feeds[input.name] = new ort.Tensor(type, data, dims);
    }
    last = { key, feeds };
    return feeds;
  };
}

/**
 * The model with one more attention mask. Masks chain: each node's bias adds to the previous ones
 * (sum of logs = product of factors). With every weight at 0 the unpatched UNet runs, bit-identical.
 */
export async function injectAttention(model: DiffusionModel, injection: AttentionInjection, cacheDir: string): Promise<DiffusionModel> {
  const previous = model.extraInputs.find((p) => attentionProviders.has(p));
  const state = previous ? attentionProviders.get(previous)! : { sourceFile: model.unetFile, injections: [] };
  const injections = [...state.injections, injection].filter((i) => i.weight > 0);
  const others = model.extraInputs.filter((p) => p !== previous);
  if (injections.length === 0) return { ...model, unetFile: state.sourceFile, extraInputs: others };
  const patched = await ensurePatchedModel(state.sourceFile, cacheDir);
  const provider = makeProvider(patched.biasInputs, injections);
  attentionProviders.set(provider, { sourceFile: state.sourceFile, injections });
  return { ...model, unetFile: patched.path, extraInputs: [...others, provider] };
}
