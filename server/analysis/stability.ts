// A cheap, model-free temporal stability report on luma at about 128 px (REFERENCE §3). Region weights
// per frame: inside = min(M_t, M_{t−1}), outside = 1 − inside (no mask: everything is outside).
//   D2_R(X)   = mean_t mean_{p∈R} |Y(X_t) − ½(Y(X_{t−1}) + Y(X_{t+1}))|   (flicker; low under smooth motion)
//   Flicker_R = (D2_R(out) + 1e-3) / (D2_R(src) + 1e-3)                    (≈ 1 good, > 1.5 visible)
//   Leak_out  = mean over outside of |Y(out_t) − Y(src_t)|                  (did black mean "ignore"?)
import type { ImageBatch } from '../media/image-batch.ts';
import type { MaskBatch } from '../masks/mask-batch.ts';
import { maskForFrame } from '../masks/mask-frames.ts';

/** Named measurements shown on a node, in the CLI and in the history; null where one does not apply (no mask). */
export type Metrics = Readonly<Record<string, number | string | null>>;

const ANALYSIS_SIDE = 128;
const EPSILON = 1e-3;

/** A type, not an interface, so it is a METRICS value (a record of numbers). */
export type StabilityMetrics = {
  flicker_inside: number | null;
  flicker_outside: number | null;
  leak_outside: number | null;
  /** 0–100: 100 = no flicker added and nothing changed outside the mask (formula: stabilityScore). */
  score: number;
  frames: number;
};

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

/**
 * Σ w·|Y_t − ½(Y_{t−1} + Y_{t+1})| and Σ w over interior frames, added one frame at a time in clip order
 * (so a clip measured chunk by chunk adds exactly the same numbers in the same order as in one pass).
 */
class SecondDifference {
  sum = 0;
  weight = 0;

  add(previous: Float32Array, current: Float32Array, next: Float32Array, w: Float32Array): void {
    for (let p = 0; p < current.length; p++) {
      this.sum += w[p] * Math.abs(current[p] - 0.5 * (previous[p] + next[p]));
      this.weight += w[p];
    }
  }

  get mean(): number | null {
    return this.weight > 0 ? this.sum / this.weight : null;
  }
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

/** One frame's luma planes and region weights, kept until the frame after it is seen. */
interface FrameSample {
  src: Float32Array;
  out: Float32Array;
  inside: Float32Array;
  outside: Float32Array;
}

/**
 * The report, measured as frames arrive in clip order (whole, or chunk by chunk): it keeps only the last
 * two frames' planes, which the second difference needs across a chunk boundary, and the previous mask.
 */
export class StabilityMeter {
  private readonly grid: Grid;
  private readonly recent: FrameSample[] = [];
  private previousMask: Float32Array | null = null;
  private frames = 0;
  private leakSum = 0;
  private leakWeight = 0;
  private readonly d2 = { outInside: new SecondDifference(), srcInside: new SecondDifference(), outOutside: new SecondDifference(), srcOutside: new SecondDifference() };

  /** The source frames' size. */
  constructor(width: number, height: number) {
    this.grid = analysisGrid(width, height);
  }

  /**
   * The next frames of the clip. `mask(i)` is the mask plane source for the i-th of them (null = no mask);
   * source and result must have the same size as the first ones.
   */
  add(source: ImageBatch, result: ImageBatch, mask?: (i: number) => { values: Float32Array; width: number; height: number } | null): void {
    const frames = Math.min(source.frames.length, result.frames.length);
    const src = lumaPlanes({ ...source, frames: source.frames.slice(0, frames) }, this.grid);
    const out = lumaPlanes({ ...result, frames: result.frames.slice(0, frames) }, analysisGrid(result.width, result.height));
    if (out[0] && out[0].length !== src[0].length) throw new Error(`result frames are ${result.width}×${result.height} but source frames are ${source.width}×${source.height}`);
    for (let i = 0; i < frames; i++) {
      const m = mask?.(i);
      const plane = m ? downsample(m.width, m.height, this.grid, (p) => m.values[p]) : null;
      this.addFrame(src[i], out[i], plane);
    }
  }

  private addFrame(src: Float32Array, out: Float32Array, mask: Float32Array | null): void {
    const inside = new Float32Array(src.length);
    const before = this.previousMask ?? mask;
    if (mask && before) for (let p = 0; p < inside.length; p++) inside[p] = Math.min(mask[p], before[p]);
    this.previousMask = mask;
    const outside = inside.map((v) => 1 - v);
    for (let p = 0; p < src.length; p++) {
      this.leakSum += outside[p] * Math.abs(out[p] - src[p]);
      this.leakWeight += outside[p];
    }
    this.recent.push({ src, out, inside, outside });
    if (this.recent.length === 3) {
      const [a, b, c] = this.recent as [FrameSample, FrameSample, FrameSample];
      this.d2.outInside.add(a.out, b.out, c.out, b.inside);
      this.d2.srcInside.add(a.src, b.src, c.src, b.inside);
      this.d2.outOutside.add(a.out, b.out, c.out, b.outside);
      this.d2.srcOutside.add(a.src, b.src, c.src, b.outside);
      this.recent.shift();
    }
    this.frames++;
  }

  result(): StabilityMetrics {
    const { d2 } = this;
    const metrics = {
      flicker_inside: ratio(d2.outInside.mean, d2.srcInside.mean),
      flicker_outside: ratio(d2.outOutside.mean, d2.srcOutside.mean),
      leak_outside: this.leakWeight > 0 ? this.leakSum / this.leakWeight : null,
    };
    return { ...metrics, score: stabilityScore(metrics), frames: this.frames };
  }
}

/** The report of a whole clip (one mask for every frame, or one per frame: checked with maskCountProblem first). */
export function measureStability(source: ImageBatch, result: ImageBatch, masks?: MaskBatch): StabilityMetrics {
  const meter = new StabilityMeter(source.width, source.height);
  const frames = Math.min(source.frames.length, result.frames.length);
  const maskOf = (i: number) => (masks ? { values: maskForFrame(masks, i, frames), width: masks.width, height: masks.height } : null);
  meter.add(source, result, maskOf);
  return meter.result();
}
