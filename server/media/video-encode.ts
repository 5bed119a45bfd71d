// Encoding uint8 RGB frames to MP4 (H.264), WebM (VP9) or GIF by piping them into ffmpeg.
import { once } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { matroskaWithTags } from './matroska-tags.ts';
import type { WorkflowMetadata } from './workflow-metadata.ts';
import { startTool, type ToolProcess } from './tool-process.ts';
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
  onFrame?(frame: number, frames: number): void;
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

export async function encodeVideo(batch: ImageBatch, file: string, options: EncodeOptions): Promise<void> {
  const { width, height, frames } = batch;
  const args = ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(options.fps), '-i', 'pipe:0'];
  const embeds = options.format !== 'gif' && options.metadata && Object.keys(options.metadata).length > 0;
  const metadataFile = path.join(options.tempDir, `metadata-${randomUUID()}.mkv`);
  if (embeds) {
    await writeFile(metadataFile, matroskaWithTags(options.metadata as Record<string, string>));
    args.push('-i', metadataFile, '-map', '0:v', '-map_metadata', '1');
  }
  args.push(...codecArgs(options.format, options.crf), '-y', file);

  const proc = startTool('ffmpeg', args, { file, signal: options.signal });
  try {
    for (let i = 0; i < frames.length; i++) {
      await writeInput(proc, frames[i]!);
      options.onFrame?.(i + 1, frames.length);
    }
    proc.child.stdin.end();
    await proc.done;
  } catch (error) {
    await rm(file, { force: true }); // no half-written file in the output folder
    throw error;
  } finally {
    await proc.stop();
    if (embeds) await rm(metadataFile, { force: true });
  }
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
