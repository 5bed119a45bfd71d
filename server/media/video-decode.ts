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
export class EndsEarlyError extends LimelightError {
  constructor(
    message: string,
    readonly decoded: number,
  ) {
    super(message);
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

/** An open decoding of a clip: its frames in order, read a few at a time by one ffmpeg process. */
export interface VideoReader {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Frames the clip yields (counted exactly when the file has the timestamps; else estimated, 0 when unknown). */
  readonly expected: number;
  /** Frames read so far: the index of the next frame. */
  readonly position: number;
  /** The next `count` frames (fewer at the end of the clip). */
  read(count: number): Promise<Uint8Array[]>;
  /** Stops the process (at once, if frames are left). */
  close(): Promise<void>;
  /** ffmpeg's complaints so far (with `-v error`), or undefined. */
  problems(): string | undefined;
}

/** How far a reader decodes ahead of what was asked for, in bytes of frames. */
const READ_AHEAD_BYTES = 32 * 1024 * 1024;

/**
 * Starts decoding. Frames are read from the pipe as `read` asks and, with `readAhead`, up to ~32 MB of
 * frames beyond, so ffmpeg keeps decoding while the caller works on what it has (a streamed clip's next
 * frames decode while its chunk is encoded); past that ffmpeg waits on a full pipe. With `waits: true` the
 * process is never killed for waiting (a streamed clip's decoder idles while its chunk is sampled).
 */
export async function openVideoReader(
  file: string,
  selection: FrameSelection,
  options: { signal?: AbortSignal; waits?: boolean; readAhead?: boolean; warn?(message: string): void } = {},
): Promise<VideoReader> {
  const info = await probeVideo(file);
  const size = outputSize(info, selection);
  const rounding = sizeRounding(info, selection);
  if (rounding) options.warn?.(rounding);
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
  const proc = startTool('ffmpeg', args, { file, signal: options.signal, ...(options.waits && { idleTimeoutMs: 0 }) });
  proc.child.stdin.end();
  const chunks = (proc.child.stdout as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let pending: Buffer | undefined;
  let ended = false;
  let position = 0;

  /** The next frame, or undefined at the end of the clip. */
  async function nextFrame(): Promise<Uint8Array | undefined> {
    const frame = new Uint8Array(frameBytes);
    let filled = 0;
    while (filled < frameBytes) {
      if (!pending || pending.length === 0) {
        if (ended) break;
        const next = await chunks.next();
        if (next.done) {
          ended = true;
          break;
        }
        pending = next.value;
        proc.touch();
      }
      const take = Math.min(frameBytes - filled, pending.length);
      frame.set(pending.subarray(0, take), filled);
      filled += take;
      pending = pending.subarray(take);
    }
    if (filled === frameBytes) return frame;
    await proc.done; // the clip ended: ffmpeg's failure, if it failed, is the error
    return undefined;
  }

  // Frames decoding ahead, in order; each starts when the one before it is done.
  const aheadLimit = options.readAhead ? Math.max(1, Math.floor(READ_AHEAD_BYTES / frameBytes)) : 0;
  const ahead: Promise<Uint8Array | undefined>[] = [];
  let last: Promise<Uint8Array | undefined> = Promise.resolve(new Uint8Array(0));
  const decodeNext = () => {
    last = last.then((previous) => (previous ? nextFrame() : undefined));
    last.catch(() => {}); // awaited by `read`; a failure while nobody waits is not unhandled
    ahead.push(last);
  };
  const topUp = () => {
    while (ahead.length < aheadLimit) decodeNext();
  };

  return {
    width: size.width,
    height: size.height,
    fps: decodeFps / selection.selectEveryNth,
    expected,
    get position() {
      return position;
    },
    async read(count) {
      const frames: Uint8Array[] = [];
      while (frames.length < count) {
        if (ahead.length === 0) decodeNext();
        const frame = await ahead.shift()!;
        topUp();
        if (!frame) break;
        frames.push(frame);
        position++;
      }
      return frames;
    },
    async close() {
      // Unread frames would hold the pipe (and the process's exit) open.
      proc.child.stdout.destroy();
      await proc.stop();
    },
    problems: () => proc.problems(),
  };
}

export async function decodeVideo(file: string, selection: FrameSelection, options: DecodeOptions = {}): Promise<ImageBatch> {
  const reader = await openVideoReader(file, selection, { signal: options.signal, warn: options.warn });
  const { width, height, expected } = reader;
  const frameBytes = width * height * 3;
  const maxFrames = Math.floor((options.maxBytes ?? Infinity) / frameBytes);
  const tooMany = (count: number) =>
    new TooManyFramesError(
      `${count} frames of ${width}×${height} need ${(count * frameBytes / 1024 ** 3).toFixed(1)} GB, more than the ` +
        `${(maxFrames * frameBytes / 1024 ** 3).toFixed(1)} GB allowed; set frame_load_cap, select_every_nth or a smaller width/height`,
    );
  const frames: Uint8Array[] = [];
  try {
    if (expected > maxFrames) throw tooMany(expected);
    for (;;) {
      const [frame] = await reader.read(1);
      if (!frame) break;
      if (frames.length === maxFrames) throw tooMany(maxFrames + 1);
      frames.push(frame);
      options.onFrame?.(frames.length, Math.max(expected, frames.length));
    }
  } finally {
    await reader.close();
  }
  if (frames.length === 0) throw new Error(`${file}: no frames decoded (skip_first_frames or force_rate may leave nothing)`);
  checkComplete(file, frames.length, expected, reader.problems(), options.warn);
  return { width, height, fps: reader.fps, frames };
}

/** Throws EndsEarlyError when ffmpeg complained and fewer than the expected frames came out; else passes its complaints on as a warning. */
export function checkComplete(file: string, decoded: number, expected: number, problems: string | undefined, warn?: (message: string) => void): void {
  if (problems && decoded < expected) {
    throw new EndsEarlyError(
      `${path.basename(file)} ends early: ${decoded} of ${expected} frames decoded (ffmpeg: ${problems}); ` +
        `set frame_load_cap to ${decoded} to use the frames that decode, or upload the whole file again`,
      decoded,
    );
  }
  if (problems) warn?.(`${file}: ffmpeg reported problems while decoding: ${problems}`);
}
