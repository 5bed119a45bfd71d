// Still images in and out through sharp: RGB frames plus the alpha channel when the file has one.
import sharp from 'sharp';

export interface DecodedImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  alpha?: Uint8Array;
}

export async function readImage(file: string): Promise<DecodedImage> {
  const image = sharp(file, { failOn: 'error' }).rotate(); // apply EXIF orientation
  const { hasAlpha } = await image.metadata();
  const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixels = info.width * info.height;
  const rgb = new Uint8Array(pixels * 3);
  const alpha = hasAlpha ? new Uint8Array(pixels) : undefined;
  for (let p = 0; p < pixels; p++) {
    rgb[p * 3] = data[p * 4]!;
    rgb[p * 3 + 1] = data[p * 4 + 1]!;
    rgb[p * 3 + 2] = data[p * 4 + 2]!;
    if (alpha) alpha[p] = data[p * 4 + 3]!;
  }
  return { width: info.width, height: info.height, rgb, alpha };
}

export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4 = 3): Promise<Buffer> {
  return sharp(pixels, { raw: { width, height, channels } }).png().toBuffer();
}

/** A frame scaled down so its longer side is at most `maxSide` (never scaled up), as PNG or JPEG. */
export function encodePreview(pixels: Uint8Array, width: number, height: number, maxSide: number, format: 'png' | 'jpeg'): Promise<Buffer> {
  const image = sharp(pixels, { raw: { width, height, channels: 3 } }).resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
  return (format === 'png' ? image.png() : image.jpeg({ quality: 80 })).toBuffer();
}

/** Float 0–1 mask as 8-bit values (for writing mask images). */
export function maskToBytes(mask: Float32Array): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, mask[i]!)) * 255);
  return out;
}
