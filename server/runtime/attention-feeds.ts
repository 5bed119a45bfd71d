// An injected MODEL's attention masks (plain data, values.ts AttentionInjection) at run time: the check
// made before sampling (each mask's count fits the clip, its words are in the prompt; errors name the
// InjectCrossAttention node and input at fault) and the bias feeds of each UNet call.
import * as ort from 'onnxruntime-node';
import { NodeInputError } from '../errors.ts';
import { maskCountProblem, maskForFrame } from '../masks/mask-frames.ts';
import type { FrameRange } from '../frame-axis.ts';
import { biasTensor, FrameBias, tokenGate } from '../onnx/attention-bias.ts';
import type { AttentionInjection, AttentionMask, Conditioning, LatentPadding } from './model-values.ts';

/** Distinct frame biases kept per run; one per mask combination the clip uses, so rarely more than its frames. */
const MAX_FRAME_BIASES = 256;

/** The mask's token gate over the prompt; a word the prompt lacks is refused on the node's `words` input. */
function tokenGateFor(mask: AttentionMask, positive: Conditioning): Float32Array {
  if (mask.words.length === 0) return tokenGate(positive.sequenceLength);
  const positions: number[] = [];
  for (const word of mask.words) {
    const found = positive.words.filter((w) => w.word.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '') === word);
    if (found.length === 0) {
      throw new NodeInputError('words', `"${word}" is not a word of the prompt "${positive.text}"; change 'words' or the prompt`, mask.nodeId);
    }
    for (const w of found) positions.push(...w.positions);
  }
  return tokenGate(positive.sequenceLength, positions);
}

/** Refuses masks that give no mask for some frame of the span sampled and words the prompt lacks, naming the node at fault. */
export function checkAttention(attention: AttentionInjection, positive: Conditioning, span: FrameRange): void {
  for (const mask of attention.masks) {
    const problem = maskCountProblem('mask', mask.masks, span);
    if (problem) throw new NodeInputError('mask', problem, mask.nodeId);
    tokenGateFor(mask, positive);
  }
}

/**
 * The bias feeds of one sampling run (its prompt and latent grid fixed; masks are placed on the padded grid
 * as the source was, when it was padded). A frame's bias depends only on
 * its masks, so frames that share masks share one FrameBias, and a batch whose rows have the same biases
 * as the previous call (the next step, or the next batch under one mask) reuses its tensors.
 */
export class AttentionFeeds {
  private readonly gates: Float32Array[];
  private readonly divisors: number[];
  private readonly maskIds = new Map<Float32Array, number>();
  private readonly frameBiases = new Map<string, FrameBias>();
  private last?: { key: string; feeds: Record<string, ort.Tensor> };

  constructor(
    private readonly attention: AttentionInjection,
    private readonly positive: Conditioning,
    private readonly latentWidth: number,
    private readonly latentHeight: number,
    /** Frames in the whole clip: frame indices are the clip's, also when a streamed chunk is sampled. */
    private readonly clipFrames: number,
    private readonly padding?: LatentPadding,
  ) {
    this.gates = attention.masks.map((mask) => tokenGateFor(mask, positive));
    this.divisors = attention.biasInputs.map((b) => b.divisor);
  }

  /**
   * The feeds for one UNet call over clip frames `frames` (absolute indices; row r is frame
   * frames[r % frames.length]); rows whose `conditional` is false (the unconditional half under CFG) stay unbiased.
   */
  forBatch(frames: readonly number[], conditional: readonly boolean[]): Record<string, ort.Tensor> {
    const rowMasks = conditional.map((isConditional, r) =>
      isConditional ? this.attention.masks.map((mask) => maskForFrame(mask.masks, frames[r % frames.length], this.clipFrames)) : null,
    );
    const biasIds = rowMasks.map((masks) => masks?.map((m) => this.idOf(m)).join(',') ?? null);
    const key = biasIds.map((id) => id ?? '-').join('\n');
    if (this.last?.key === key) return this.last.feeds;
    const rows = biasIds.map((id, r) => (id === null ? null : this.frameBias(id, rowMasks[r]!)));
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.attention.biasInputs) {
      const { data, dims, type } = biasTensor(input, rows, this.positive.sequenceLength);
      feeds[input.name] = new ort.Tensor(type, data, dims);
    }
    this.last = { key, feeds };
    return feeds;
  }

  private idOf(mask: Float32Array): number {
    let id = this.maskIds.get(mask);
    if (id === undefined) this.maskIds.set(mask, (id = this.maskIds.size));
    return id;
  }

  private frameBias(id: string, masks: readonly Float32Array[]): FrameBias {
    let bias = this.frameBiases.get(id);
    if (!bias) {
      const parts = this.attention.masks.map((mask, i) => ({
        mask: masks[i],
        maskWidth: mask.masks.width,
        maskHeight: mask.masks.height,
        weight: mask.weight,
        gate: this.gates[i],
      }));
      bias = new FrameBias(this.latentWidth, this.latentHeight, parts, this.divisors, this.padding);
      if (this.frameBiases.size >= MAX_FRAME_BIASES) this.frameBiases.clear();
      this.frameBiases.set(id, bias);
    }
    return bias;
  }
}
