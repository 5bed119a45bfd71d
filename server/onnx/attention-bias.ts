// The cross-attention bias: B[q,k] = T[k] · ln(max(1 − w·(1 − m_q), 1e-4)).
// A per-pixel bias that is the same for every token would cancel in the softmax, so the mask acts on the
// prompt's tokens relative to token 0 (BOS, T[0] = 0): black pixels scale the prompt tokens' attention
// by (1 − w) and the softmax renormalises onto BOS; white pixels are unchanged at any weight.
// Chained injections sum: B = Σᵢ Lᵢ[q]·Gᵢ[k], so most layers are fed the factors L and G, not B itself.
import { TensorProto_DataType } from 'onnx-buf';
import { toHalfArray } from '../runtime/float16.ts';
import { areaResample } from '../masks/mask-ops.ts';
import { maskOnLatentGrid } from '../runtime/latent-padding.ts';
import type { LatentPadding } from '../runtime/model-values.ts';
import type { BiasInput } from './cross-attention-patch.ts';

const FLOOR = 1e-4;

/** A layer's grid side: stride-2 convolutions with padding round up. */
export function gridSize(latentSide: number, divisor: number): number {
  return Math.max(1, Math.ceil(latentSide / divisor));
}

/** Where the prompt's tokens lie among a score row's columns. */
export interface ColumnLayout {
  count: number;
  textStart: number;
}

/** One injection: a mask at any resolution (white = 1 = attend), its weight and token gate. */
export interface Injection {
  mask: Float32Array;
  maskWidth: number;
  maskHeight: number;
  weight: number;
  /** Per token: 0 = untouched (BOS, or words not targeted), 1 = masked. */
  gate: Float32Array;
}

/** A [1, 2, 1] / 4 blur in both directions (edges clamped): the one feathering of the mask, at latent resolution. */
export function featherOnce(grid: Float32Array, width: number, height: number): Float32Array {
  const horizontal = new Float32Array(grid.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      horizontal[row + x] = 0.25 * grid[row + Math.max(0, x - 1)] + 0.5 * grid[row + x] + 0.25 * grid[row + Math.min(width - 1, x + 1)];
    }
  }
  const out = new Float32Array(grid.length);
  for (let y = 0; y < height; y++) {
    const [above, row, below] = [Math.max(0, y - 1) * width, y * width, Math.min(height - 1, y + 1) * width];
    for (let x = 0; x < width; x++) out[row + x] = 0.25 * horizontal[above + x] + 0.5 * horizontal[row + x] + 0.25 * horizontal[below + x];
  }
  return out;
}

/** ln(max(1 − w·(1 − m), 1e-4)) for each cell of a mask grid. */
export function logFactors(maskGrid: Float32Array, weight: number): Float32Array {
  const out = new Float32Array(maskGrid.length);
  for (let i = 0; i < maskGrid.length; i++) out[i] = Math.log(Math.max(1 - weight * (1 - maskGrid[i]), FLOOR));
  return out;
}

/** Token gate: 0 for BOS, 1 for every other token, or 1 only at the given positions. */
export function tokenGate(tokens: number, positions?: readonly number[]): Float32Array {
  const gate = new Float32Array(tokens);
  if (positions && positions.length > 0) for (const p of positions) gate[p] = p > 0 && p < tokens ? 1 : 0;
  else gate.fill(1, 1);
  return gate;
}

/**
 * Per-frame biases for every query resolution of a latent grid. Masks are area-averaged to the latent
 * grid (onto the source's part of it when the images were padded), feathered once, then area-averaged
 * down to each layer's grid.
 */
export class FrameBias {
  /** Per divisor, each injection's log factor per query (the rows of L). */
  private readonly perDivisor = new Map<number, Float32Array[]>();
  /** Each injection's token gate (the rows of G). */
  private readonly gates: Float32Array[];

  constructor(
    readonly latentWidth: number,
    readonly latentHeight: number,
    injections: readonly Injection[],
    divisors: readonly number[],
    padding?: LatentPadding,
  ) {
    const latentMasks = injections.map((inj) =>
      featherOnce(maskOnLatentGrid(inj.mask, inj.maskWidth, inj.maskHeight, latentWidth, latentHeight, padding), latentWidth, latentHeight),
    );
    for (const divisor of new Set(divisors)) {
      const w = gridSize(latentWidth, divisor);
      const h = gridSize(latentHeight, divisor);
      this.perDivisor.set(
        divisor,
        latentMasks.map((m, i) => logFactors(areaResample(m, latentWidth, latentHeight, w, h), injections[i].weight)),
      );
    }
    this.gates = injections.map((inj) => inj.gate);
  }

  /** The number of injections: the rank of the bias. */
  get rank(): number {
    return this.gates.length;
  }

  /** Query length of the layer grid at this divisor. */
  queries(divisor: number): number {
    return gridSize(this.latentWidth, divisor) * gridSize(this.latentHeight, divisor);
  }

  /**
   * Writes this input's block of one batch row into `out` at `offset` (see BiasInputKind). The prompt's
   * tokens are columns `textStart` … of `columns` (joint attention: after the image tokens, whose
   * columns stay 0, as do the text rows after the image rows).
   */
  writeInto(input: BiasInput, columns: ColumnLayout, out: Float32Array, offset: number): void {
    if (input.kind === 'token-factors') {
      this.gates.forEach((gate, i) => out.set(gate, offset + i * columns.count + columns.textStart));
      return;
    }
    const rows = this.perDivisor.get(input.divisor);
    if (!rows) return;
    if (input.kind === 'query-factors') this.writeQueryFactors(rows, out, offset);
    else this.writeBias(rows, columns, out, offset);
  }

  /** L as [HW, r]: query q's factor for injection i at q·r + i. */
  private writeQueryFactors(rows: readonly Float32Array[], out: Float32Array, offset: number): void {
    const rank = rows.length;
    rows.forEach((row, i) => {
      for (let q = 0; q < row.length; q++) out[offset + q * rank + i] = row[q];
    });
  }

  /** The [HW, T] bias, Σᵢ Lᵢ[q]·Gᵢ[k]. */
  private writeBias(rows: readonly Float32Array[], columns: ColumnLayout, out: Float32Array, offset: number): void {
    rows.forEach((row, i) => {
      const gate = this.gates[i];
      const queries = row.length;
      for (let q = 0; q < queries; q++) {
        const factor = row[q];
        if (factor === 0) continue;
        const base = offset + q * columns.count + columns.textStart;
        for (let k = 0; k < gate.length; k++) out[base + k] += factor * gate[k];
      }
    });
  }
}

/**
 * The tensor for one bias input over a batch: `frames[i]` is the bias of batch item i, or null for
 * rows that stay unbiased (the unconditional half under classifier-free guidance: zero bias, or zero
 * factors, whose product adds exact zeros to the scores).
 */
export function biasTensor(input: BiasInput, frames: readonly (FrameBias | null)[], tokens: number): { data: Float32Array | Uint16Array; dims: number[]; type: 'float32' | 'float16' } {
  const sample = frames.find((f) => f !== null);
  const imageTokens = sample ? sample.queries(input.divisor) : 1;
  const rank = sample?.rank ?? 1;
  // Joint attention's rows and columns are the image tokens, then the text tokens.
  const layout: ColumnLayout = input.joint ? { count: imageTokens + tokens, textStart: imageTokens } : { count: tokens, textStart: 0 };
  const queries = input.joint ? layout.count : imageTokens;
  const [rows, columns] = { bias: [queries, layout.count], 'query-factors': [queries, rank], 'token-factors': [rank, layout.count] }[input.kind];
  const rowSize = rows * columns;
  const data = new Float32Array(frames.length * rowSize);
  frames.forEach((frame, b) => {
    if (!frame) return;
    // Frames that share a mask share a FrameBias: copy its block instead of computing it again.
    const same = frames.indexOf(frame);
    if (same < b) data.copyWithin(b * rowSize, same * rowSize, (same + 1) * rowSize);
    else frame.writeInto(input, layout, data, b * rowSize);
  });
  const dims = [frames.length, 1, rows, columns];
  return input.elemType === TensorProto_DataType.FLOAT16 ? { data: toHalfArray(data), dims, type: 'float16' } : { data, dims, type: 'float32' };
}
