// Shared fixtures for the runtime tests: demo-model variants in temp folders and a synthetic clip.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureSampleMedia, SAMPLE } from '../../server/demo/sample-media.ts';
import { decodeVideo, KEEP_ALL } from '../../server/media/video-decode.ts';
import { writeDemoModel, type DemoModelVariant } from '../../server/demo/demo-model.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';

/** Writes a demo model variant into a fresh temp folder named `name`; returns its path. */
export function demoModel(variant: DemoModelVariant = {}, name = 'demo'): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'limelight-model-')), name);
  writeDemoModel(dir, variant);
  return dir;
}

/** A gradient background with a warm disc moving right by `step` pixels per frame. */
export function syntheticClip(width: number, height: number, count: number, step = 2): ImageBatch {
  const frames = Array.from({ length: count }, (_, f) => {
    const rgb = new Uint8Array(width * height * 3);
    const [cx, cy, r] = [width * 0.4 + f * step, height / 2, width / 5];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = 3 * (y * width + x);
        const inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
        rgb[i] = inside ? 225 : 40 + Math.round((150 * x) / width);
        rgb[i + 1] = inside ? 190 : 80 + Math.round((100 * y) / height);
        rgb[i + 2] = inside ? 70 : 150;
      }
    }
    return rgb;
  });
  return { width, height, fps: 24, frames };
}

export function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (sum / a.length));
}

/** Mean R, G, B of an interleaved frame. */
export function meanRgb(frame: Uint8Array): [number, number, number] {
  const sums = [0, 0, 0];
  for (let i = 0; i < frame.length; i++) sums[i % 3] += frame[i];
  const n = frame.length / 3;
  return [sums[0] / n, sums[1] / n, sums[2] / n];
}

/** The first `count` frames of the product's sample clip (512², a ball over brickwork). */
export async function sampleClipFrames(count: number): Promise<ImageBatch> {
  const input = path.join(mkdtempSync(path.join(tmpdir(), 'limelight-input-')), 'input');
  mkdirSync(input);
  await ensureSampleMedia(input);
  return decodeVideo(path.join(input, SAMPLE.video), { ...KEEP_ALL, frameLoadCap: count });
}
