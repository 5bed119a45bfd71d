// Colour changes in the two halves of a square render under a half mask (white on the left, black on the
// right), measured in the outer quarter of each half, away from the feathered boundary and the model's
// spatial mixing: what the spectrum and word-targeting tests compare.

export type Region = 'white' | 'black';

export function regionMeasures(size: number) {
  const inRegion = (region: Region, x: number) => (region === 'white' ? x < size / 4 : x >= (3 * size) / 4);

  /** Mean over the region of the per-pixel RGB difference (signed, per channel). */
  function meanShift(a: Uint8Array, b: Uint8Array, region: Region): [number, number, number] {
    const sums = [0, 0, 0];
    let pixels = 0;
    for (let p = 0; p < size * size; p++) {
      if (!inRegion(region, p % size)) continue;
      for (let c = 0; c < 3; c++) sums[c] += a[3 * p + c] - b[3 * p + c];
      pixels++;
    }
    return sums.map((s) => s / pixels) as [number, number, number];
  }

  /** Mean |a − b| over the region's pixels and channels: the colour change. */
  function meanChange(a: Uint8Array, b: Uint8Array, region: Region): number {
    let sum = 0;
    let count = 0;
    for (let p = 0; p < size * size; p++) {
      if (!inRegion(region, p % size)) continue;
      for (let c = 0; c < 3; c++) sum += Math.abs(a[3 * p + c] - b[3 * p + c]);
      count += 3;
    }
    return sum / count;
  }

  return { meanShift, meanChange };
}
