// Decoding a video into uint8 RGB frames through a pipe, holding only the frames asked for.
import path from 'node:path';
import { countVideoFrames } from './count-frames.ts';
import { selectedCount, type FrameSelection as Selection } from './frame-selection.ts';
import { probeVideo, type VideoInfo } from './probe.ts';
import { startTool } from './tool-process.ts';
import type { ImageBatch } from './image-batch.ts';
import { LimelightError } from '../errors.ts';

export interface FrameSelection extends Selection {
  /** Resample to this rate first (0 = the source rate). */
  forceRate: number;
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

/** The file decoded only partly (cut short or damaged): `decoded` frames came out. */
export class EndsEarlyError extends Error {
  constructor(
    message: string,
    readonly decoded: number,
  ) {
    super(message);
    this.name = 'EndsEarlyError';
  }
}

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
  const decodeFps = selection.forceRate > 0 ? selection.forceRate : info.fps;
  const counted = await countVideoFrames(file, selection, { info, signal: options.signal });
  // Estimated from the header when the file lacks the timestamps to count (0 when unknown).
  const sourceFrames = selection.forceRate > 0 ? Math.round(info.duration * selection.forceRate) : info.frameCount;
  const expected = counted?.promised ?? (sourceFrames > 0 ? selectedCount(sourceFrames, selection) : 0);
  // passthrough: one output frame per filtered frame (raw output would otherwise be filled to a constant rate from 0).
  const args = ['-nostdin', '-v', 'error', '-i', file, '-map', '0:v:0', '-an', '-sn', '-vf', filterChain(info, selection, size), '-vsync', 'passthrough'];
  // Never more frames than counted, whatever the ffmpeg version makes at the end of a resampled clip.
  const limit = counted?.promised ?? selection.frameLoadCap;
  if (limit > 0) args.push('-frames:v', String(limit));
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
    throw new EndsEarlyError(
      `${path.basename(file)} ends early: ${frames.length} of ${expected} frames decoded (ffmpeg: ${problems}); ` +
        `set frame_load_cap to ${frames.length} to use the frames that decode, or upload the whole file again`,
      frames.length,
    );
  }
  if (problems) options.warn?.(`${file}: ffmpeg reported problems while decoding: ${problems}`);
  return { width: size.width, height: size.height, fps: decodeFps / selection.selectEveryNth, frames };
}
