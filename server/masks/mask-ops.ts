// Mask operations on float 0–1 masks (white = 1 = attend). Each returns a new array: inputs may be
// cached values shared between runs and are never written to.

export type MaskChannel = 'luminance' | 'red' | 'green' | 'blue' | 'alpha';

/** One channel of an interleaved RGB frame as a 0–1 mask; luminance uses the BT.601 weights PIL's "L" mode uses. */
export function maskFromRgb(rgb: Uint8Array, channel: Exclude<MaskChannel, 'alpha'>): Float32Array {
  const pixels = rgb.length / 3;
  const out = new Float32Array(pixels);
  const offset = channel === 'red' ? 0 : channel === 'green' ? 1 : 2;
  for (let p = 0; p < pixels; p++) {
    const i = p * 3;
    out[p] = (channel === 'luminance' ? 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]! : rgb[i + offset]!) / 255;
  }
  return out;
}

export function maskFromBytes(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! / 255;
  return out;
}

export function thresholdMask(mask: Float32Array, threshold: number): Float32Array {
  return mask.map((v) => (v >= threshold ? 1 : 0));
}

export function invertMask(mask: Float32Array): Float32Array {
  return mask.map((v) => 1 - v);
}

/**
 * Softens edges with a Gaussian blur whose 10–90 % ramp spans about `px` pixels (σ = px / 2.56), so a
 * thresholded mask gets an edge of the width the user asked for.
 */
export function featherMask(mask: Float32Array, width: number, height: number, px: number): Float32Array {
  if (px <= 0) return mask.slice();
  const sigma = px / 2.56;
  const radius = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = kernel.reduce((a, b) => a + b, 0);
  const weights = kernel.map((k) => k / sum);
  const rows = blurPass(mask, width, height, weights, 1, width);
  return blurPass(rows, height, width, weights, width, 1);
}

/** Blurs along one axis: `length` samples `step` apart, `lines` lines `lineStep` apart; edges are clamped. */
function blurPass(src: Float32Array, length: number, lines: number, weights: number[], step: number, lineStep: number): Float32Array {
  const out = new Float32Array(src.length);
  const radius = (weights.length - 1) / 2;
  for (let line = 0; line < lines; line++) {
    const base = line * lineStep;
    for (let i = 0; i < length; i++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) {
        const j = Math.min(length - 1, Math.max(0, i + k));
        acc += weights[k + radius]! * src[base + j * step]!;
      }
      out[base + i * step] = acc;
    }
  }
  return out;
}

/**
 * Resamples a mask with a tent filter widened by the scale factor when shrinking: bilinear when
 * enlarging, area-like averaging when reducing (nearest sampling would alias thin shapes away).
 */
export function resizeMask(mask: Float32Array, width: number, height: number, toWidth: number, toHeight: number): Float32Array {
  if (width === toWidth && height === toHeight) return mask.slice();
  const horizontal = resampleAxis(mask, width, height, toWidth, 1, width, 1, toWidth);
  return resampleAxis(horizontal, height, toWidth, toHeight, toWidth, 1, toWidth, 1);
}

function resampleAxis(
  src: Float32Array,
  length: number,
  lines: number,
  toLength: number,
  step: number,
  lineStep: number,
  outStep: number,
  outLineStep: number,
): Float32Array {
  const out = new Float32Array(toLength * lines);
  const scale = length / toLength;
  const support = Math.max(1, scale);
  for (let i = 0; i < toLength; i++) {
    const center = (i + 0.5) * scale - 0.5;
    const first = Math.max(0, Math.floor(center - support));
    const last = Math.min(length - 1, Math.ceil(center + support));
    const taps: [number, number][] = [];
    let total = 0;
    for (let j = first; j <= last; j++) {
      const weight = Math.max(0, 1 - Math.abs(j - center) / support);
      if (weight > 0) {
        taps.push([j, weight]);
        total += weight;
      }
    }
    for (let line = 0; line < lines; line++) {
      let acc = 0;
      for (const [j, weight] of taps) acc += weight * src[line * lineStep + j * step]!;
      out[line * outLineStep + i * outStep] = acc / total;
    }
  }
  return out;
}

/** Averages a grid down (or resamples it) by exact area coverage, separably. */
export function areaResample(source: Float32Array, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  const horizontal = new Float32Array(outWidth * height);
  for (const [o, { first, weights }] of coverage(width, outWidth).entries()) {
    for (let y = 0; y < height; y++) {
      const start = y * width + first;
      let sum = 0;
      for (let j = 0; j < weights.length; j++) sum += weights[j] * source[start + j];
      horizontal[y * outWidth + o] = sum / (width / outWidth);
    }
  }
  const result = new Float32Array(outWidth * outHeight);
  const sums = new Float64Array(outWidth);
  for (const [o, { first, weights }] of coverage(height, outHeight).entries()) {
    sums.fill(0);
    for (let j = 0; j < weights.length; j++) {
      const row = (first + j) * outWidth;
      for (let x = 0; x < outWidth; x++) sums[x] += weights[j] * horizontal[row + x];
    }
    for (let x = 0; x < outWidth; x++) result[o * outWidth + x] = sums[x] / (height / outHeight);
  }
  return result;
}

/** For each output cell along an axis: the first input cell it overlaps and how much of each it covers. */
function coverage(inLength: number, out: number): { first: number; weights: number[] }[] {
  const scale = inLength / out;
  return Array.from({ length: out }, (_, o) => {
    const [start, end] = [o * scale, (o + 1) * scale];
    const first = Math.floor(start);
    const weights: number[] = [];
    for (let i = first; i < Math.min(Math.ceil(end), inLength); i++) weights.push(Math.min(end, i + 1) - Math.max(start, i));
    return { first, weights };
  });
}
