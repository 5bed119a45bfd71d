// The Sampler's keep-mask (ComfyUI's "set latent noise mask"): where the mask is black, the latent is
// reset after every step to the source latent noised to the σ the step landed on, with the noise the
// frame started from, so that area follows the same noise schedule and ends as the source exactly.
import { maskForFrame } from '../masks/mask-frames.ts';
import type { MaskBatch } from '../masks/mask-batch.ts';
import { maskOnLatentGrid } from './latent-padding.ts';
import type { LatentPadding } from './model-values.ts';

/** A keep-mask (its count checked with maskCountProblem) area-averaged to the latent grid (placed on its source part when padded), one grid per mask, made on first use. */
export class LatentKeepMask {
  private readonly grids = new Map<Float32Array, Float32Array>();

  constructor(
    private readonly mask: MaskBatch,
    private readonly latentWidth: number,
    private readonly latentHeight: number,
    private readonly clipFrames: number,
    private readonly padding?: LatentPadding,
  ) {}

  /** Clip frame `frame`'s mask at latent resolution (height × width; 1 = sample freely, 0 = keep the source). */
  forFrame(frame: number): Float32Array {
    const mask = maskForFrame(this.mask, frame, this.clipFrames);
    let grid = this.grids.get(mask);
    if (!grid) {
      grid = maskOnLatentGrid(mask, this.mask.width, this.mask.height, this.latentWidth, this.latentHeight, this.padding);
      this.grids.set(mask, grid);
    }
    return grid;
  }
}

/** What a frame's kept area is reset to: the source latent plus σ times the frame's initial noise. */
export interface KeptSource {
  grid: Float32Array;
  source: Float32Array;
  noise: Float32Array;
}

/** What each frame of a batch keeps (none without a keep-mask): its grid, its source latent and its initial noise. */
export function keptSources(keepMask: LatentKeepMask | undefined, frames: readonly number[], source: (frame: number) => Float32Array, initialNoise: readonly Float32Array[]): (KeptSource | undefined)[] {
  return frames.map((f, i) => (keepMask ? { grid: keepMask.forFrame(f), source: source(f), noise: initialNoise[i] } : undefined));
}

/**
 * x ← m·x + (1 − m)·(a·source + σ·noise) on every channel, in place; cells with m = 1 are left as they are.
 * a = 1 in k-diffusion's σ-space; flow matching (SD3) noises as (1 − σ)·source + σ·noise.
 */
export function resetKeptArea(x: Float32Array, kept: KeptSource, sigma: number, sourceScale = 1): void {
  const { grid, source, noise } = kept;
  const pixels = grid.length;
  for (let offset = 0; offset < x.length; offset += pixels) {
    for (let p = 0; p < pixels; p++) {
      const m = grid[p];
      if (m >= 1) continue;
      const j = offset + p;
      x[j] = m * x[j] + (1 - m) * (sourceScale * source[j] + sigma * noise[j]);
    }
  }
}
