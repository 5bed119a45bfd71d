// Between two keyframe masks: a cross-fade (which ghosts a moving object into two half-grey copies) or
// a morph that aligns the masks' bounding boxes and blends their signed distance fields, so the shape
// travels and changes form instead (REFERENCE §3).
import { signedDistanceField } from './distance-field.ts';

/** Pixel extents of the mask's white part; x1/y1 exclusive. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface MorphKey {
  mask: Float32Array;
  sdf: Float32Array;
  box: Box | null;
}

/** Edge softness of a morphed mask in pixels: enough to anti-alias, no blurrier than a drawn mask. */
const EDGE_SOFTNESS = 0.5;

export function maskBox(mask: Float32Array, width: number, height: number): Box | null {
  let box: Box | null = null;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (mask[y * width + x]! < 0.5) continue;
      if (!box) box = { x0: x, y0: y, x1: x + 1, y1: y + 1 };
      else {
        box.x0 = Math.min(box.x0, x);
        box.x1 = Math.max(box.x1, x + 1);
        box.y0 = Math.min(box.y0, y);
        box.y1 = Math.max(box.y1, y + 1);
      }
    }
  }
  return box;
}

export function morphKey(mask: Float32Array, width: number, height: number): MorphKey {
  return { mask, sdf: signedDistanceField(mask, width, height), box: maskBox(mask, width, height) };
}

function lerpBox(a: Box, b: Box, u: number): Box {
  const lerp = (p: number, q: number) => p + (q - p) * u;
  return { x0: lerp(a.x0, b.x0), y0: lerp(a.y0, b.y0), x1: lerp(a.x1, b.x1), y1: lerp(a.y1, b.y1) };
}

function bilinear(field: Float32Array, width: number, height: number, x: number, y: number): number {
  const cx = Math.min(width - 1, Math.max(0, x));
  const cy = Math.min(height - 1, Math.max(0, y));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(width - 1, x0 + 1);
  const y1 = Math.min(height - 1, y0 + 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const top = field[y0 * width + x0]! * (1 - fx) + field[y0 * width + x1]! * fx;
  const bottom = field[y1 * width + x0]! * (1 - fx) + field[y1 * width + x1]! * fx;
  return top * (1 - fy) + bottom * fy;
}

/** The key's signed distance field moved and scaled so its box lands on `target`, in target pixels. */
function alignedSdf(key: MorphKey, source: Box, target: Box, width: number, height: number): Float32Array {
  const sx = (source.x1 - source.x0) / (target.x1 - target.x0);
  const sy = (source.y1 - source.y0) / (target.y1 - target.y0);
  const distanceScale = 2 / (sx + sy);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const sourceY = source.y0 + (y + 0.5 - target.y0) * sy - 0.5;
    for (let x = 0; x < width; x++) {
      const sourceX = source.x0 + (x + 0.5 - target.x0) * sx - 0.5;
      out[y * width + x] = bilinear(key.sdf, width, height, sourceX, sourceY) * distanceScale;
    }
  }
  return out;
}

export function morphMasks(a: MorphKey, b: MorphKey, u: number, width: number, height: number): Float32Array {
  const boxA = a.box ?? b.box;
  const boxB = b.box ?? a.box;
  if (!boxA || !boxB) return new Float32Array(width * height);
  const box = lerpBox(boxA, boxB, u);
  const sdfA = alignedSdf(a, boxA, box, width, height);
  const sdfB = alignedSdf(b, boxB, box, width, height);
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const sdf = (1 - u) * sdfA[i]! + u * sdfB[i]!;
    out[i] = 1 / (1 + Math.exp(sdf / EDGE_SOFTNESS));
  }
  return out;
}

export function crossfadeMasks(a: Float32Array, b: Float32Array, u: number): Float32Array {
  return a.map((v, i) => v + (b[i]! - v) * u);
}

/** Pixels at or above half. */
export function maskArea(mask: Float32Array): number {
  let area = 0;
  for (const v of mask) if (v >= 0.5) area++;
  return area;
}

function intersectionOverUnion(a: (i: number) => boolean, b: (i: number) => boolean, length: number): number {
  let both = 0;
  let either = 0;
  for (let i = 0; i < length; i++) {
    const inA = a(i);
    const inB = b(i);
    if (inA && inB) both++;
    if (inA || inB) either++;
  }
  return either === 0 ? 1 : both / either;
}

/** How much two masks overlap where they are (what a cross-fade sees). */
export function overlapInPlace(a: MorphKey, b: MorphKey): number {
  return intersectionOverUnion((i) => a.mask[i]! >= 0.5, (i) => b.mask[i]! >= 0.5, a.mask.length);
}

/** How much two shapes overlap once their boxes are aligned (what the morph sees). */
export function overlapAligned(a: MorphKey, b: MorphKey, width: number, height: number): number {
  if (!a.box || !b.box) return a.box === b.box ? 1 : 0;
  const bOnA = alignedSdf(b, b.box, a.box, width, height);
  return intersectionOverUnion((i) => a.sdf[i]! < 0, (i) => bOnA[i]! < 0, a.mask.length);
}
