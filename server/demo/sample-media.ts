// The sample clip the product's story is told with: a ball that grows as it crosses a static brick wall,
// with its masks (a per-frame mask video and image sequence, and keyframe masks at frames 1, 30 and 60).
// Rendered deterministically in a second or two, once per input folder.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng, maskToBytes } from '../media/image-io.ts';
import { encodeVideo } from '../media/video-encode.ts';
import type { ImageBatch } from '../media/image-batch.ts';

export const SAMPLE = {
  video: 'limelight-sample.mp4',
  maskVideo: 'limelight-sample-mask.mp4',
  masksFolder: 'limelight-sample-masks',
  keyframesFolder: 'limelight-sample-keyframes',
  manifest: 'limelight-sample.json',
  size: 512,
  frames: 64,
  fps: 24,
  keyframes: [1, 30, 60],
} as const;
/** Bump when the rendering changes, so existing input folders get the new media. */
const VERSION = 1;

const BRICK = { width: 64, height: 28, mortar: 4 };
const BALL = { fromX: 100, toX: 412, baseY: 280, lift: 60, fromRadius: 44, toRadius: 72 };

/** Small deterministic integer hash → 0…1. */
function noise(x: number, y: number, seed: number): number {
  let h = Math.imul(x, 374761393) ^ Math.imul(y, 668265263) ^ Math.imul(seed, 2246822519);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967295;
}

function brickwork(size: number): Uint8Array {
  const rgb = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const row = Math.floor(y / BRICK.height);
    const offset = row % 2 === 0 ? 0 : BRICK.width / 2;
    for (let x = 0; x < size; x++) {
      const column = Math.floor((x + offset) / BRICK.width);
      const mortar = y % BRICK.height < BRICK.mortar || (x + offset) % BRICK.width < BRICK.mortar;
      const grain = noise(x, y, 1) * 24 - 12;
      const tone = noise(column, row, 2) * 50 - 25;
      const [r, g, b] = mortar ? [168, 160, 148] : [150 + tone, 68 + tone * 0.4, 48 + tone * 0.2];
      const i = (y * size + x) * 3;
      rgb[i] = Math.max(0, Math.min(255, r + grain));
      rgb[i + 1] = Math.max(0, Math.min(255, g + grain));
      rgb[i + 2] = Math.max(0, Math.min(255, b + grain));
    }
  }
  return rgb;
}

function ballAt(frame: number) {
  const t = frame / (SAMPLE.frames - 1);
  return {
    cx: BALL.fromX + (BALL.toX - BALL.fromX) * t,
    cy: BALL.baseY - BALL.lift * Math.sin(Math.PI * t),
    radius: BALL.fromRadius + (BALL.toRadius - BALL.fromRadius) * t,
  };
}

/** Draws the ball over the background; returns the frame and its anti-aliased mask. */
function renderFrame(background: Uint8Array, frame: number): { rgb: Uint8Array; mask: Float32Array } {
  const size = SAMPLE.size;
  const rgb = background.slice();
  const mask = new Float32Array(size * size);
  const { cx, cy, radius } = ballAt(frame);
  for (let y = Math.max(0, Math.floor(cy - radius - 1)); y <= Math.min(size - 1, cy + radius + 1); y++) {
    for (let x = Math.max(0, Math.floor(cx - radius - 1)); x <= Math.min(size - 1, cx + radius + 1); x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const coverage = Math.max(0, Math.min(1, radius - Math.hypot(dx, dy) + 0.5));
      if (coverage === 0) continue;
      // Lit from the top left: a teal ball with a highlight.
      const light = Math.max(0, 1 - Math.hypot(dx + radius * 0.35, dy + radius * 0.35) / (radius * 1.4));
      const colour = [40 + 170 * light * light, 150 + 90 * light, 170 + 70 * light];
      const p = y * size + x;
      mask[p] = coverage;
      for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(rgb[p * 3 + c]! * (1 - coverage) + colour[c]! * coverage);
    }
  }
  return { rgb, mask };
}

function grayToRgb(gray: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(gray.length * 3);
  for (let i = 0; i < gray.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = gray[i]!;
  return rgb;
}

const numbered = (frame: number) => `${String(frame).padStart(4, '0')}.png`;

async function writeSampleMedia(inputFolder: string, tempDir: string): Promise<void> {
  const size = SAMPLE.size;
  const background = brickwork(size);
  const frames: Uint8Array[] = [];
  const maskFrames: Uint8Array[] = [];
  await mkdir(path.join(tempDir, SAMPLE.masksFolder), { recursive: true });
  await mkdir(path.join(tempDir, SAMPLE.keyframesFolder), { recursive: true });
  for (let frame = 1; frame <= SAMPLE.frames; frame++) {
    const { rgb, mask } = renderFrame(background, frame - 1);
    frames.push(rgb);
    const bytes = maskToBytes(mask);
    maskFrames.push(grayToRgb(bytes));
    const png = await encodePng(bytes, size, size, 1);
    await writeFile(path.join(tempDir, SAMPLE.masksFolder, numbered(frame)), png);
    if ((SAMPLE.keyframes as readonly number[]).includes(frame)) await writeFile(path.join(tempDir, SAMPLE.keyframesFolder, numbered(frame)), png);
  }
  const clip = (list: Uint8Array[]): ImageBatch => ({ width: size, height: size, fps: SAMPLE.fps, frames: list });
  await encodeVideo(clip(frames), path.join(tempDir, SAMPLE.video), { format: 'mp4-h264', fps: SAMPLE.fps, crf: 18, tempDir });
  // crf 0 is lossless: the mask video decodes back to the exact mask values.
  await encodeVideo(clip(maskFrames), path.join(tempDir, SAMPLE.maskVideo), { format: 'mp4-h264', fps: SAMPLE.fps, crf: 0, tempDir });
  for (const name of [SAMPLE.video, SAMPLE.maskVideo, SAMPLE.masksFolder, SAMPLE.keyframesFolder]) {
    await rm(path.join(inputFolder, name), { recursive: true, force: true });
    await rename(path.join(tempDir, name), path.join(inputFolder, name));
  }
}

async function isCurrent(inputFolder: string): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(path.join(inputFolder, SAMPLE.manifest), 'utf8')) as { version?: number };
    return manifest.version === VERSION;
  } catch {
    return false;
  }
}

const pending = new Map<string, Promise<void>>();

/** Creates the sample media in the input folder unless it is already there. */
export function ensureSampleMedia(inputFolder: string): Promise<void> {
  const folder = path.resolve(inputFolder);
  let job = pending.get(folder);
  if (!job) {
    job = (async () => {
      if (await isCurrent(folder)) return;
      const tempDir = path.join(folder, `.limelight-sample-${process.pid}`);
      await mkdir(tempDir, { recursive: true });
      try {
        await writeSampleMedia(folder, tempDir);
        await writeFile(path.join(folder, SAMPLE.manifest), `${JSON.stringify({ version: VERSION, ...SAMPLE }, null, 2)}\n`);
      } finally {
        await rm(tempDir, { recursive: true, force: true });
      }
    })();
    pending.set(folder, job);
    job.catch(() => pending.delete(folder));
  }
  return job;
}
