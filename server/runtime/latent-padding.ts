// Any image size on any model: a UNet halves and doubles its grid by fixed ×2 steps, so the latent's
// sides must be multiples of its own factor as well as the image's of the VAE's. Images are padded at
// the right and bottom (edge pixels repeated) to downFactor × latentMultiple, masks are placed on the
// padded grid the same way, and decoded frames are cropped back to the source's size.
import { areaResample } from '../masks/mask-ops.ts';
import type { ImageBatch } from '../media/image-batch.ts';
import type { LatentPadding } from './model-values.ts';

/** The smallest multiple of `multiple` that holds `side`. */
export function paddedSide(side: number, multiple: number): number {
  return Math.ceil(side / multiple) * multiple;
}

/** How `width`×`height` images are padded for a VAE of this down-factor and a UNet of this latent multiple; undefined when they fit as they are. */
export function paddingFor(width: number, height: number, downFactor: number, latentMultiple: number): LatentPadding | undefined {
  const multiple = downFactor * latentMultiple;
  const [paddedWidth, paddedHeight] = [paddedSide(width, multiple), paddedSide(height, multiple)];
  return paddedWidth === width && paddedHeight === height ? undefined : { imageWidth: width, imageHeight: height, paddedWidth, paddedHeight };
}

/** An interleaved `channels`-per-pixel image extended to the right and bottom by repeating its edge pixels. */
export function padEdge<T extends Uint8Array | Float32Array>(data: T, width: number, height: number, channels: number, toWidth: number, toHeight: number): T {
  const out = new (data.constructor as new (length: number) => T)(toWidth * toHeight * channels);
  const rowLength = width * channels;
  for (let y = 0; y < toHeight; y++) {
    const from = Math.min(y, height - 1) * rowLength;
    const to = y * toWidth * channels;
    out.set(data.subarray(from, from + rowLength), to);
    const last = data.subarray(from + rowLength - channels, from + rowLength);
    for (let x = width; x < toWidth; x++) out.set(last, to + x * channels);
  }
  return out;
}

/** One RGB frame padded as `padding` says. */
export function padFrame(frame: Uint8Array, padding: LatentPadding): Uint8Array {
  return padEdge(frame, padding.imageWidth, padding.imageHeight, 3, padding.paddedWidth, padding.paddedHeight);
}

/** Decoded frames cropped back to the source's part (scaled if they were decoded at another size than the padded one). */
export function cropImages(images: ImageBatch, padding: LatentPadding): ImageBatch {
  const width = Math.round((padding.imageWidth * images.width) / padding.paddedWidth);
  const height = Math.round((padding.imageHeight * images.height) / padding.paddedHeight);
  const frames = images.frames.map((frame) => {
    const out = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) out.set(frame.subarray(y * images.width * 3, (y * images.width + width) * 3), y * width * 3);
    return out;
  });
  return { width, height, fps: images.fps, frames, ...(images.axis && { axis: images.axis }) };
}

/**
 * A mask (white = 1, any resolution, covering the source image) area-averaged onto a latent grid; on a
 * padded grid it covers the source's part and its edge values extend over the padding, as the image's do.
 */
export function maskOnLatentGrid(mask: Float32Array, maskWidth: number, maskHeight: number, latentWidth: number, latentHeight: number, padding?: LatentPadding): Float32Array {
  if (!padding) return areaResample(mask, maskWidth, maskHeight, latentWidth, latentHeight);
  const { imageWidth, imageHeight, paddedWidth, paddedHeight } = padding;
  const atImageSize = maskWidth === imageWidth && maskHeight === imageHeight ? mask : areaResample(mask, maskWidth, maskHeight, imageWidth, imageHeight);
  const padded = padEdge(atImageSize, imageWidth, imageHeight, 1, paddedWidth, paddedHeight);
  return areaResample(padded, paddedWidth, paddedHeight, latentWidth, latentHeight);
}
