// Decoding a video into uint8 RGB frames through a pipe, holding only the frames asked for.
import { probeVideo, type VideoInfo } from './probe.ts';
import { startTool } from './tool-process.ts';
import type { ImageBatch } from './image-batch.ts';
import { LimelightError } from '../errors.ts';

export interface FrameSelection {
  /** Resample to this rate first (0 = the source rate). */
  forceRate: number;
  skipFirstFrames: number;
  selectEveryNth: number;
  /** Stop after this many frames (0 = all). */
  frameLoadCap: number;
  /** Output size (0 = keep; one of them 0 = keep the aspect ratio). Resized sizes are multiples of 8. */
  width: number;
  height: number;
}

export interface DecodeOptions {
  signal?: AbortSignal;
  /** Called after each frame with the 1-based frame number and the expected count (0 when unknown). */
  onFrame?(frame: number, expected: number): void;
  warn?(message: string): void;
  /** Refuse to hold more than this many bytes of frames. */
  maxBytes?: number;
}

export class TooManyFramesError extends LimelightError {}

export const KEEP_ALL: FrameSelection = { forceRate: 0, skipFirstFrames: 0, selectEveryNth: 1, frameLoadCap: 0, width: 0, height: 0 };

export function snapTo8(value: number): number {
  return Math.max(8, Math.round(value / 8) * 8);
}

export function outputSize(info: Pick<VideoInfo, 'width' | 'height'>, selection: Pick<FrameSelection, 'width' | 'height'>) {
  const { width, height } = selection;
  if (width === 0 && height === 0) return { width: info.width, height: info.height };
  return {
    width: snapTo8(width || (info.width * height) / info.height),
    height: snapTo8(height || (info.height * width) / info.width),
  };
}

/** Says how a resize was rounded (to multiples of 8, and the other side from the aspect ratio), or undefined when it gives the size asked for. */
export function sizeRounding(info: Pick<VideoInfo, 'width' | 'height'>, selection: Pick<FrameSelection, 'width' | 'height'>): string | undefined {
  const { width, height } = selection;
  if (width === 0 && height === 0) return undefined;
  const exact = { width: width || (info.width * height) / info.height, height: height || (info.height * width) / info.width };
  const size = outputSize(info, selection);
  if (size.width === exact.width && size.height === exact.height) return undefined;
  const asked = `${Number(exact.width.toFixed(1))}×${Number(exact.height.toFixed(1))}`;
  const aspect = width === 0 || height === 0 ? ` (the ${info.width}×${info.height} clip's aspect ratio)` : '';
  return `resized to ${size.width}×${size.height}, not ${asked}${aspect}: resized sides are rounded to multiples of 8`;
}

/** Frames the selection yields from a clip of `sourceFrames` frames at the decode rate (0 when unknown). */
export function expectedFrameCount(sourceFrames: number, selection: FrameSelection): number {
  if (sourceFrames <= 0) return 0;
  const selected = Math.ceil(Math.max(0, sourceFrames - selection.skipFirstFrames) / selection.selectEveryNth);
  return selection.frameLoadCap > 0 ? Math.min(selection.frameLoadCap, selected) : selected;
}

function filterChain(info: VideoInfo, selection: FrameSelection, size: { width: number; height: number }): string {
  const filters: string[] = [];
  // Irregular timestamps are always resampled to a constant rate; regular ones only when asked.
  if (selection.forceRate > 0) filters.push(`fps=${selection.forceRate}`);
  else if (info.variableRate) filters.push(`fps=${info.rate}`);
  const { skipFirstFrames: skip, selectEveryNth: nth } = selection;
  if (skip > 0 || nth > 1) {
    // Renumber the timestamps afterwards, or ffmpeg would duplicate frames to fill the gaps.
    filters.push(`select='gte(n\\,${skip})*not(mod(n-${skip}\\,${nth}))'`, 'setpts=N/FRAME_RATE/TB');
  }
  if (size.width !== info.width || size.height !== info.height) filters.push(`scale=${size.width}:${size.height}:flags=bicubic`);
  filters.push('format=rgb24');
  return filters.join(',');
}

export async function decodeVideo(file: string, selection: FrameSelection, options: DecodeOptions = {}): Promise<ImageBatch> {
  const info = await probeVideo(file, { signal: options.signal });
  const size = outputSize(info, selection);
  const rounding = sizeRounding(info, selection);
  if (rounding) options.warn?.(rounding);
  const decodeFps = selection.forceRate > 0 ? selection.forceRate : info.fps;
  const sourceFrames = selection.forceRate > 0 ? Math.round(info.duration * selection.forceRate) : info.frameCount;
  const expected = expectedFrameCount(sourceFrames, selection);
  const args = ['-nostdin', '-v', 'error', '-i', file, '-map', '0:v:0', '-an', '-sn', '-vf', filterChain(info, selection, size)];
  if (selection.frameLoadCap > 0) args.push('-frames:v', String(selection.frameLoadCap));
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');

  const frameBytes = size.width * size.height * 3;
  const maxFrames = Math.floor((options.maxBytes ?? Infinity) / frameBytes);
  const tooMany = (count: number) =>
    new TooManyFramesError(
      `${count} frames of ${size.width}×${size.height} need ${(count * frameBytes / 1024 ** 3).toFixed(1)} GB, more than the ` +
        `${(maxFrames * frameBytes / 1024 ** 3).toFixed(1)} GB allowed; set frame_load_cap, select_every_nth or a smaller width/height`,
    );
  if (expected > maxFrames) throw tooMany(expected);
  const frames: Uint8Array[] = [];
  const proc = startTool('ffmpeg', args, { file, signal: options.signal });
  proc.child.stdin.end();
  try {
    let frame = new Uint8Array(frameBytes);
    let filled = 0;
    for await (const chunk of proc.child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          if (frames.length === maxFrames) throw tooMany(maxFrames + 1);
          frames.push(frame);
          options.onFrame?.(frames.length, Math.max(expected, frames.length));
          frame = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
    await proc.done;
  } finally {
    await proc.stop();
  }
  if (frames.length === 0) throw new Error(`${file}: no frames decoded (skip_first_frames or force_rate may leave nothing)`);
  const problems = proc.problems();
  if (problems && frames.length < expected) {
    throw new Error(`${file} ends early: ${frames.length} of ${expected} frames decoded (ffmpeg: ${problems})`);
  }
  if (problems) options.warn?.(`${file}: ffmpeg reported problems while decoding: ${problems}`);
  return { width: size.width, height: size.height, fps: decodeFps / selection.selectEveryNth, frames };
}
