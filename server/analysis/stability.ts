import type { ImageBatch } from '../media/image-batch.ts';
import type { MaskBatch } from '../masks/mask-batch.ts';
// A cheap, model-free temporal stability report on luma at about 128 px (REFERENCE §3). Region weights
// per frame: inside = min(M_t, M_{t−1}), outside = 1 − inside (no mask: everything is outside).
//   D2_R(X)   = mean_t mean_{p∈R} |Y(X_t) − ½(Y(X_{t−1}) + Y(X_{t+1}))|   (flicker; low under smooth motion)
//   Flicker_R = (D2_R(out) + 1e-3) / (D2_R(src) + 1e-3)                    (≈ 1 good, > 1.5 visible)
//   Leak_out  = mean over outside of |Y(out_t) − Y(src_t)|                  (did black mean "ignore"?)

/** Named measurements shown on a node, in the CLI and in the history; null where one does not apply (no mask). */
export type Metrics = Readonly<Record<string, number | string | null>>;

const ANALYSIS_SIDE = 128;
const EPSILON = 1e-3;

export interface StabilityMetrics {
  flicker_inside: number | null;
  flicker_outside: number | null;
  leak_outside: number | null;
  /** 0–100: 100 = no flicker added and nothing changed outside the mask (formula: stabilityScore). */
  score: number;
  frames: number;
}

interface Grid {
  width: number;
  height: number;
}

function analysisGrid(width: number, height: number): Grid {
  const scale = Math.min(1, ANALYSIS_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Area-averaged plane at the analysis grid from a per-pixel reader. */
function downsample(width: number, height: number, grid: Grid, read: (index: number) => number): Float32Array {
  const sums = new Float32Array(grid.width * grid.height);
  const counts = new Uint32Array(grid.width * grid.height);
  for (let y = 0; y < height; y++) {
    const gy = Math.min(grid.height - 1, Math.floor((y * grid.height) / height));
    for (let x = 0; x < width; x++) {
      const cell = gy * grid.width + Math.min(grid.width - 1, Math.floor((x * grid.width) / width));
      sums[cell] += read(y * width + x);
      counts[cell]++;
    }
  }
  for (let i = 0; i < sums.length; i++) sums[i] /= counts[i] || 1;
  return sums;
}

function lumaPlanes(images: ImageBatch, grid: Grid): Float32Array[] {
  return images.frames.map((frame) =>
    downsample(images.width, images.height, grid, (i) => (0.299 * frame[i * 3] + 0.587 * frame[i * 3 + 1] + 0.114 * frame[i * 3 + 2]) / 255),
  );
}

function maskPlanes(masks: MaskBatch, frames: number, grid: Grid): Float32Array[] {
  const planes = masks.masks.map((m) => downsample(masks.width, masks.height, grid, (i) => m[i]));
  return Array.from({ length: frames }, (_, t) => planes[Math.min(t, planes.length - 1)]);
}

/** Weighted mean of |Y_t − ½(Y_{t−1} + Y_{t+1})| over the interior frames. */
function secondDifference(luma: Float32Array[], weights: Float32Array[]): number | null {
  let sum = 0;
  let weight = 0;
  for (let t = 1; t + 1 < luma.length; t++) {
    const [previous, current, next, w] = [luma[t - 1], luma[t], luma[t + 1], weights[t]];
    for (let p = 0; p < current.length; p++) {
      sum += w[p] * Math.abs(current[p] - 0.5 * (previous[p] + next[p]));
      weight += w[p];
    }
  }
  return weight > 0 ? sum / weight : null;
}

function ratio(result: number | null, source: number | null): number | null {
  return result === null || source === null ? null : (result + EPSILON) / (source + EPSILON);
}

/** 100 / (Flicker_out · √Flicker_in) · e^(−10·Leak_out), flicker ratios below 1 counted as 1. */
export function stabilityScore(metrics: Omit<StabilityMetrics, 'score' | 'frames'>): number {
  const added = (ratio: number | null) => Math.log(Math.max(1, ratio ?? 1));
  const penalty = added(metrics.flicker_outside) + 0.5 * added(metrics.flicker_inside) + 10 * (metrics.leak_outside ?? 0);
  return Math.round(1000 * Math.exp(-penalty)) / 10;
}

export function measureStability(source: ImageBatch, result: ImageBatch, masks?: MaskBatch): StabilityMetrics {
  const frames = Math.min(source.frames.length, result.frames.length);
  const grid = analysisGrid(source.width, source.height);
  const src = lumaPlanes({ ...source, frames: source.frames.slice(0, frames) }, grid);
  const out = lumaPlanes({ ...result, frames: result.frames.slice(0, frames) }, analysisGrid(result.width, result.height));
  if (out[0] && out[0].length !== src[0].length) throw new Error(`result frames are ${result.width}×${result.height} but source frames are ${source.width}×${source.height}`);
  const mask = masks ? maskPlanes(masks, frames, grid) : null;
  const inside = src.map((plane, t) => {
    const w = new Float32Array(plane.length);
    if (mask) for (let p = 0; p < w.length; p++) w[p] = Math.min(mask[t][p], mask[Math.max(0, t - 1)][p]);
    return w;
  });
  const outside = inside.map((w) => w.map((v) => 1 - v));
  let leakSum = 0;
  let leakWeight = 0;
  for (let t = 0; t < frames; t++) {
    for (let p = 0; p < src[t].length; p++) {
      leakSum += outside[t][p] * Math.abs(out[t][p] - src[t][p]);
      leakWeight += outside[t][p];
    }
  }
  const metrics = {
    flicker_inside: ratio(secondDifference(out, inside), secondDifference(src, inside)),
    flicker_outside: ratio(secondDifference(out, outside), secondDifference(src, outside)),
    leak_outside: leakWeight > 0 ? leakSum / leakWeight : null,
  };
  return { ...metrics, score: stabilityScore(metrics), frames };
}
