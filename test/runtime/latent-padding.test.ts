// Padding images to a size the model takes, cropping them back, and placing masks on the padded grid.
import { describe, expect, it } from 'vitest';
import { cropImages, maskOnLatentGrid, padEdge, padFrame, paddingFor } from '../../server/runtime/latent-padding.ts';

describe('latent padding', () => {
  it('pads to the VAE factor × the latent multiple, and not at all when the size fits', () => {
    expect(paddingFor(852, 480, 8, 8)).toEqual({ imageWidth: 852, imageHeight: 480, paddedWidth: 896, paddedHeight: 512 });
    expect(paddingFor(852, 480, 8, 2)).toEqual({ imageWidth: 852, imageHeight: 480, paddedWidth: 864, paddedHeight: 480 });
    expect(paddingFor(512, 768, 8, 8)).toBeUndefined();
  });

  it('repeats the edge pixels to the right and below, and the crop gives the frame back', () => {
    const frame = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i + 1); // 2×2 RGB
    const padding = { imageWidth: 2, imageHeight: 2, paddedWidth: 3, paddedHeight: 3 };
    const padded = padFrame(frame, padding);
    const pixel = (x: number, y: number) => Array.from(padded.subarray((y * 3 + x) * 3, (y * 3 + x) * 3 + 3));
    expect([pixel(2, 0), pixel(0, 2), pixel(2, 2)]).toEqual([[4, 5, 6], [7, 8, 9], [10, 11, 12]]);
    const cropped = cropImages({ width: 3, height: 3, fps: 24, frames: [padded] }, padding);
    expect(cropped).toEqual({ width: 2, height: 2, fps: 24, frames: [frame] });
  });

  it('places a mask of any resolution on the source part of the padded grid, its edge extending over the padding', () => {
    // 20×10 source padded to 32×16; latent grid 4×2 (÷ 8). The right half of the source is black.
    const padding = { imageWidth: 20, imageHeight: 10, paddedWidth: 32, paddedHeight: 16 };
    const full = Float32Array.from({ length: 20 * 10 }, (_, i) => (i % 20 < 10 ? 1 : 0));
    const half = Float32Array.from({ length: 10 * 5 }, (_, i) => (i % 10 < 5 ? 1 : 0));
    const grid = maskOnLatentGrid(full, 20, 10, 4, 2, padding);
    // Cells span 8 px: [0,8) white, [8,16) 2 white + 6 black, [16,24) and [24,32) black (the edge repeated).
    expect(Array.from(grid)).toEqual([1, 0.25, 0, 0, 1, 0.25, 0, 0]);
    expect(Array.from(maskOnLatentGrid(half, 10, 5, 4, 2, padding))).toEqual(Array.from(grid));
    expect(padEdge(Float32Array.of(0.5), 1, 1, 1, 2, 2)).toEqual(Float32Array.of(0.5, 0.5, 0.5, 0.5));
  });
});
