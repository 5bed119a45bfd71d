// Encoding uint8 RGB frames to MP4 (H.264), WebM (VP9) or GIF by piping them into ffmpeg.
import { once } from 'node:events';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { matroskaWithTags } from './matroska-tags.ts';
import type { WorkflowMetadata } from './workflow-metadata.ts';
import { runTool, startTool, type ToolProcess } from './tool-process.ts';
import type { ImageBatch } from './image-batch.ts';

export type VideoFormat = 'mp4-h264' | 'webm-vp9' | 'gif';

export const VIDEO_FORMAT_EXTENSIONS: Record<VideoFormat, string> = { 'mp4-h264': '.mp4', 'webm-vp9': '.webm', gif: '.gif' };
/** Highest crf each encoder accepts. */
export const MAX_CRF: Record<VideoFormat, number> = { 'mp4-h264': 51, 'webm-vp9': 63, gif: 63 };

export interface EncodeOptions {
  format: VideoFormat;
  fps: number;
  crf: number;
  metadata?: WorkflowMetadata;
  /** Where the file carrying the metadata is written while encoding. */
  tempDir: string;
  signal?: AbortSignal;
}

/** yuv420p needs even sizes: pad odd ones by a pixel rather than fail. */
const EVEN_SIZE = 'pad=ceil(iw/2)*2:ceil(ih/2)*2';

function codecArgs(format: VideoFormat, crf: number): string[] {
  switch (format) {
    case 'mp4-h264':
      return ['-vf', EVEN_SIZE, '-c:v', 'libx264', '-crf', String(crf), '-pix_fmt', 'yuv420p', '-movflags', '+faststart+use_metadata_tags'];
    case 'webm-vp9':
      // Default VP9 settings encode about 10× slower than these realtime ones.
      return ['-vf', EVEN_SIZE, '-c:v', 'libvpx-vp9', '-crf', String(crf), '-b:v', '0', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-pix_fmt', 'yuv420p'];
    case 'gif':
      return ['-filter_complex', '[0:v]split[a][b];[a]palettegen[p];[b][p]paletteuse', '-loop', '0'];
  }
}

/** A video being written: frames go into one ffmpeg process as they come; the file appears only when it is done. */
export interface VideoEncoder {
  write(frames: readonly Uint8Array[]): Promise<void>;
  /**
   * Ends the video and puts it in place. Metadata given here (known only at the end: a stability report)
   * is written into the file by a final copying pass, so the frames are not encoded again.
   */
  finish(lateMetadata?: WorkflowMetadata): Promise<void>;
  /** Stops ffmpeg and removes everything written. */
  abort(): Promise<void>;
}

/** Where the video is written until it is complete: a hidden name beside the file, with its extension (ffmpeg picks the format by it). */
function partialPath(file: string, pass: string): string {
  return path.join(path.dirname(file), `.${path.basename(file, path.extname(file))}.${pass}${path.extname(file)}`);
}

/** ffmpeg arguments that map metadata onto the output (from a one-frame Matroska file's tags, input 1), and how to remove that file. */
async function metadataInput(metadata: WorkflowMetadata | undefined, tempDir: string): Promise<{ args: string[]; remove(): Promise<void> }> {
  if (!metadata || Object.keys(metadata).length === 0) return { args: [], remove: async () => {} };
  const file = path.join(tempDir, `metadata-${randomUUID()}.mkv`);
  await writeFile(file, matroskaWithTags(metadata as Record<string, string>));
  return { args: ['-i', file, '-map_metadata', '1'], remove: () => rm(file, { force: true }) };
}

/**
 * Starts encoding frames of width × height into `file` (which may already exist as an empty reserved
 * name: it is replaced only when the video is complete, and removed if it never is).
 */
export async function openVideoEncoder(file: string, width: number, height: number, options: EncodeOptions): Promise<VideoEncoder> {
  const encoding = partialPath(file, 'encoding');
  const metadata = await metadataInput(options.format === 'gif' ? undefined : options.metadata, options.tempDir);
  const args = ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(options.fps), '-i', 'pipe:0'];
  if (metadata.args.length > 0) args.push(...metadata.args, '-map', '0:v');
  args.push(...codecArgs(options.format, options.crf), '-y', encoding);
  // The encoder waits for the next chunk while it is sampled, however long that takes.
  const proc = startTool('ffmpeg', args, { file, signal: options.signal, idleTimeoutMs: 0 });
  const cleanUp = async (keepFile: boolean) => {
    await proc.stop();
    await metadata.remove();
    await rm(encoding, { force: true });
    if (!keepFile) await rm(file, { force: true }); // no half-written or empty file in the output folder
  };
  return {
    async write(frames) {
      for (const frame of frames) await writeInput(proc, frame);
    },
    async finish(lateMetadata) {
      try {
        proc.child.stdin.end();
        await proc.done;
        if (lateMetadata && options.format !== 'gif') await remuxWithMetadata(encoding, file, { ...options.metadata, ...lateMetadata }, options);
        else await rename(encoding, file);
      } catch (error) {
        await cleanUp(false);
        throw error;
      }
      await cleanUp(true);
    },
    abort: () => cleanUp(false),
  };
}

/** Copies the encoded streams into `file` with the metadata (no re-encoding), through a partial name. */
async function remuxWithMetadata(encoded: string, file: string, metadata: WorkflowMetadata, options: EncodeOptions): Promise<void> {
  const copying = partialPath(file, 'metadata');
  const movflags = options.format === 'mp4-h264' ? ['-movflags', '+faststart+use_metadata_tags'] : [];
  const input = await metadataInput(metadata, options.tempDir);
  try {
    await runTool('ffmpeg', ['-v', 'error', '-i', encoded, ...input.args, '-map', '0', '-c', 'copy', ...movflags, '-y', copying], { file, signal: options.signal });
    await rename(copying, file);
  } finally {
    await input.remove();
    await rm(copying, { force: true });
  }
}

/** Encodes a whole batch (the sample clip, tests). */
export async function encodeVideo(batch: ImageBatch, file: string, options: EncodeOptions): Promise<void> {
  const encoder = await openVideoEncoder(file, batch.width, batch.height, options);
  try {
    await encoder.write(batch.frames);
  } catch (error) {
    await encoder.abort();
    throw error;
  }
  await encoder.finish();
}

/** Writes with backpressure; if ffmpeg dies meanwhile, its own error wins over the broken pipe. */
async function writeInput(proc: ToolProcess, data: Uint8Array): Promise<void> {
  const stdin = proc.child.stdin;
  if (stdin.write(data)) return proc.touch();
  const exited = proc.done.then(() => {
    throw new Error('ffmpeg exited before all frames were written');
  });
  try {
    await Promise.race([once(stdin, 'drain'), exited]);
  } catch (error) {
    await proc.done; // throws ffmpeg's reason when there is one
    throw error;
  }
  proc.touch();
}
