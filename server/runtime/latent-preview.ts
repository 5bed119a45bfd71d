// Live previews of sampling: a latent frame shown as RGB without running the VAE decoder (which can take
// seconds per frame on a CPU), through a linear map fitted once per model to what its own decoder makes
// of a few flat latents — so it suits any 4- or 16-channel VAE, not one hard-coded latent space.
import { fileFingerprint } from '../file-identity.ts';
import { PromiseMemo } from '../promise-memo.ts';
import { encodePreview } from '../media/image-io.ts';
import { decodeLatents } from './vae.ts';
import { gaussianNoise } from './noise.ts';
import type { VaeModel } from './model-values.ts';

/** rgb (−1…1) = weights · latent + bias, per pixel; weights are 3 × channels. */
export interface LatentPreviewMap {
  readonly channels: number;
  readonly weights: Float32Array;
  readonly bias: Float32Array;
}

/** Latent grid of each probe: big enough that the decoder's borders don't dominate its mean colour. */
const PROBE_SIZE = 8;
/** Decoded channel means beyond this are treated as clipped and left out of the fit. */
const SATURATED = 0.95;

const fitted = new PromiseMemo<LatentPreviewMap>();

/** The preview map of a VAE, fitted on first use and remembered per decoder content and device. */
export async function latentPreviewFor(vae: VaeModel): Promise<LatentPreviewMap> {
  return fitted.get(`${await fileFingerprint(vae.decoderFile)}|${vae.device}|${vae.scalingFactor}`, () => fitLatentPreview(vae));
}

export async function fitLatentPreview(vae: VaeModel): Promise<LatentPreviewMap> {
  const channels = vae.latentChannels;
  const probeCount = 3 * (channels + 1);
  // Flat latents with the spread of real ones (standard normal in the sampler's space), reproducibly.
  const values = gaussianNoise(0, 0x7072657677, probeCount * channels);
  const probes = Array.from({ length: probeCount }, (_, p) => values.subarray(p * channels, (p + 1) * channels));
  const pixels = PROBE_SIZE * PROBE_SIZE;
  const frames = probes.map((probe) => {
    const frame = new Float32Array(channels * pixels);
    for (let c = 0; c < channels; c++) frame.fill(probe[c], c * pixels, (c + 1) * pixels);
    return frame;
  });
  const decoded = await decodeLatents(vae, { channels, width: PROBE_SIZE, height: PROBE_SIZE, fps: 0, frames }, probeCount);
  const rows: Float32Array[] = [];
  const targets: number[][] = [];
  decoded.frames.forEach((rgb, p) => {
    const mean = [0, 0, 0];
    for (let i = 0; i < rgb.length; i++) mean[i % 3] += rgb[i] / 127.5 - 1;
    const colour = mean.map((sum) => (3 * sum) / rgb.length);
    if (colour.some((v) => Math.abs(v) > SATURATED)) return;
    rows.push(probes[p]);
    targets.push(colour);
  });
  if (rows.length <= channels) throw new Error(`${vae.name}: the VAE decoder saturates on typical latents, so no preview map could be fitted`);
  const weights = new Float32Array(3 * channels);
  const bias = new Float32Array(3);
  for (let colour = 0; colour < 3; colour++) {
    const solution = leastSquares(rows, targets.map((t) => t[colour]));
    weights.set(solution.subarray(0, channels), colour * channels);
    bias[colour] = solution[channels];
  }
  return { channels, weights, bias };
}

/** One latent frame (channels × pixels, planar) as interleaved 8-bit RGB. */
export function latentToRgb(map: LatentPreviewMap, latent: Float32Array, pixels: number): Uint8Array {
  const { channels, weights, bias } = map;
  const rgb = new Uint8Array(3 * pixels);
  for (let colour = 0; colour < 3; colour++) {
    for (let p = 0; p < pixels; p++) {
      let v = bias[colour];
      for (let c = 0; c < channels; c++) v += weights[colour * channels + c] * latent[c * pixels + p];
      const byte = Math.round((v + 1) * 127.5);
      rgb[3 * p + colour] = byte < 0 ? 0 : byte > 255 ? 255 : byte;
    }
  }
  return rgb;
}

/** At most this long a side: a preview is at latent resolution (1/8 of the image in SD); the editor scales it into the node. */
const PREVIEW_SIDE = 256;
const PREVIEW_INTERVAL_MS = 250;

/**
 * A sampler's live previews, at most one per `intervalMs`: each shown latent becomes a JPEG handed to
 * `send` once encoded (off the sampling loop; a preview that fails to encode is simply not shown).
 */
export function throttledPreview(
  map: LatentPreviewMap,
  width: number,
  height: number,
  send: (jpeg: Uint8Array) => void,
  intervalMs = PREVIEW_INTERVAL_MS,
): { due(): boolean; show(latent: Float32Array): void } {
  let last = -Infinity;
  return {
    due: () => performance.now() - last >= intervalMs,
    show: (latent) => {
      last = performance.now();
      encodePreview(latentToRgb(map, latent, width * height), width, height, PREVIEW_SIDE, 'jpeg')
        .then(send)
        .catch(() => undefined);
    },
  };
}

/** The x (with an intercept as the last unknown) minimising ‖rows·x + x₀ − targets‖², by the normal equations. */
function leastSquares(rows: readonly Float32Array[], targets: readonly number[]): Float64Array {
  const n = rows[0].length + 1;
  const a = Array.from({ length: n }, () => new Float64Array(n + 1));
  rows.forEach((row, r) => {
    const x = [...row, 1];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) a[i][j] += x[i] * x[j];
      a[i][n] += x[i] * targets[r];
    }
  });
  // Gaussian elimination with partial pivoting on the augmented matrix.
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = 0; r < n; r++) {
      if (r === col || a[col][col] === 0) continue;
      const factor = a[r][col] / a[col][col];
      for (let c = col; c <= n; c++) a[r][c] -= factor * a[col][c];
    }
  }
  return Float64Array.from({ length: n }, (_, i) => (a[i][i] === 0 ? 0 : a[i][n] / a[i][i]));
}
