// Small generated test inputs: clips from ffmpeg's lavfi sources and clips whose frames are numbered by
// their grey level, written into a test's input folder.
import path from 'node:path';
import { runTool } from '../../server/media/tool-process.ts';
import { encodeVideo } from '../../server/media/video-encode.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';

/** `ffmpeg -f lavfi -i <source> <args> <file>`; returns the file's path. */
export async function lavfiClip(folder: string, name: string, source: string, args: string[]): Promise<string> {
  const file = path.join(folder, name);
  await runTool('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', source, ...args, '-y', file]);
  return file;
}

/** Level step between numbered frames: wide enough to survive lossy coding. */
export const LEVEL_STEP = 8;

/** Frames of uniform grey whose level tells their index. */
export function numberedFrames(count: number, width = 32, height = 32, fps = 12): ImageBatch {
  const frames = Array.from({ length: count }, (_, i) => new Uint8Array(width * height * 3).fill(16 + i * LEVEL_STEP));
  return { width, height, fps, frames };
}

export function frameNumber(frame: Uint8Array): number {
  const mean = frame.reduce((sum, v) => sum + v, 0) / frame.length;
  return Math.round((mean - 16) / LEVEL_STEP);
}

export async function numberedClip(folder: string, name: string, count: number, fps = 12): Promise<string> {
  const file = path.join(folder, name);
  await encodeVideo(numberedFrames(count, 32, 32, fps), file, { format: 'mp4-h264', fps, crf: 10, tempDir: folder });
  return file;
}

export function meanAbsDifference(a: Uint8Array, b: Uint8Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs(a[i]! - b[i]!);
  return total / a.length;
}
