// Exact Euclidean distance transforms (Felzenszwalb & Huttenlocher, separable, linear time) and the
// signed distance field of a mask that the keyframe morph blends.

const FAR = 1e20;

/** Squared distance transform of a sampled function along one line, in place (the lower envelope of parabolas). */
function transformLine(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  const intersection = (q: number, p: number) => (f[q]! + q * q - (f[p]! + p * p)) / (2 * q - 2 * p);
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s = intersection(q, v[k]!);
    while (s <= z[k]!) {
      k--;
      s = intersection(q, v[k]!);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1]! < q) k++;
    const p = v[k]!;
    d[q] = (q - p) * (q - p) + f[p]!;
  }
}

/** Euclidean distance from each pixel to the nearest pixel where `isFeature` holds (0 on features). */
export function distanceTransform(width: number, height: number, isFeature: (index: number) => boolean): Float32Array {
  const size = Math.max(width, height);
  const f = new Float64Array(size);
  const d = new Float64Array(size);
  const v = new Int32Array(size);
  const z = new Float64Array(size + 1);
  const grid = new Float64Array(width * height);
  for (let i = 0; i < grid.length; i++) grid[i] = isFeature(i) ? 0 : FAR;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = grid[y * width + x]!;
    transformLine(f, height, d, v, z);
    for (let y = 0; y < height; y++) grid[y * width + x] = d[y]!;
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f[x] = grid[y * width + x]!;
    transformLine(f, width, d, v, z);
    for (let x = 0; x < width; x++) out[y * width + x] = Math.sqrt(d[x]!);
  }
  return out;
}

/**
 * Signed distance to the mask's edge (mask binarised at 0.5): negative inside, positive outside, with the
 * edge half-way between the last pixel in and the first pixel out. An empty mask is "far outside" everywhere.
 */
export function signedDistanceField(mask: Float32Array, width: number, height: number): Float32Array {
  const inside = (i: number) => mask[i]! >= 0.5;
  if (!mask.some((v) => v >= 0.5)) return new Float32Array(mask.length).fill(width + height);
  const toInside = distanceTransform(width, height, inside);
  const toOutside = distanceTransform(width, height, (i) => !inside(i));
  const sdf = new Float32Array(mask.length);
  for (let i = 0; i < sdf.length; i++) sdf[i] = inside(i) ? 0.5 - toOutside[i]! : toInside[i]! - 0.5;
  return sdf;
}
