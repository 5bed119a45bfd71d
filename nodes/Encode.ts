import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng } from '../server/media/image-io.ts';
import { reserveOutputFile, validateOutputPrefix, type OutputFileRef, type ReservedFile } from '../server/media/output-files.ts';
import { MAX_CRF, openVideoEncoder, VIDEO_FORMAT_EXTENSIONS } from '../server/media/video-encode.ts';
import { embedInPng, metadataFor, sidecarPath, sidecarText, withStability, type WorkflowMetadata } from '../server/media/workflow-metadata.ts';
import { defineNode, writeWhole, type ExecuteContext, type SinkWriter } from '../server/engine/node-contract.ts';
import type { Metrics } from '../server/analysis/stability.ts';
import type { ImageBatch } from '../server/media/image-batch.ts';
import { NodeInputError } from '../server/errors.ts';

const FORMATS = ['mp4-h264', 'webm-vp9', 'gif', 'png-sequence'] as const;
/** Frame rate for stills (fps 0) when none is given. */
const STILL_FPS = 8;

/** Frames are `<prefix>_NNNNN_00001.png`, `…_00002.png`: reserving the first claims the counter NNNNN. */
const FIRST_FRAME_SUFFIX = '_00001.png';

/** `<folder>/<prefix>_NNNNN`: frames and the sidecar are named from it. */
function sequenceStem(first: ReservedFile): string {
  return first.path.slice(0, -FIRST_FRAME_SUFFIX.length);
}

/**
 * A PNG sequence written as frames arrive: each frame under a hidden name until the sequence is complete,
 * then all renamed (an interrupted run leaves no frames that look finished).
 */
function pngSequenceWriter(first: ReservedFile, metadata: WorkflowMetadata, ctx: ExecuteContext): FrameWriter {
  const stem = sequenceStem(first);
  const written: string[] = [];
  const finalName = (file: string) => path.join(path.dirname(file), path.basename(file).replace(/^\.(.*)\.partial$/, '$1'));
  return {
    async write(images) {
      for (const [i, frame] of images.frames.entries()) {
        const file = `${path.dirname(stem)}/.${path.basename(stem)}_${String(written.length + 1).padStart(5, '0')}.png.partial`;
        await writeFile(file, embedInPng(await encodePng(frame, images.width, images.height), metadata));
        written.push(file);
        ctx.progress(i + 1, images.frames.length, { frame: i + 1, frames: images.frames.length, label: 'encoding' });
      }
    },
    async finish() {
      for (const file of written) await rename(file, finalName(file));
      return written.map((file) => ({ ...first.ref, filename: path.basename(finalName(file)) }));
    },
    async abort() {
      for (const file of written) await rm(file, { force: true });
      await rm(first.path, { force: true });
    },
  };
}

/** Where Encode's frames go: a video file or a PNG sequence. */
interface FrameWriter {
  write(images: ImageBatch): Promise<void>;
  /** The files written. */
  finish(lateMetadata?: WorkflowMetadata): Promise<OutputFileRef[]>;
  abort(): Promise<void>;
}

interface EncodeInputs {
  images: ImageBatch;
  fps: number;
  format: (typeof FORMATS)[number];
  crf: number;
  filename_prefix: string;
  metrics?: Metrics;
}

/** Checks the settings, reserves the output name and starts the writer, on the first frames. */
async function startWriter({ images, fps, format, crf, filename_prefix }: EncodeInputs, ctx: ExecuteContext): Promise<FrameWriter> {
  if (images.frames.length === 0) throw new NodeInputError('images', 'no frames to encode; check the node feeding images');
  const videoFormat = format === 'png-sequence' ? undefined : format;
  if (videoFormat && crf > MAX_CRF[videoFormat]) {
    throw new NodeInputError('crf', `crf ${crf} is above ${MAX_CRF[videoFormat]}, the highest ${format} accepts; lower it`);
  }
  let reserved: ReservedFile;
  try {
    reserved = await reserveOutputFile(ctx.folders.output, filename_prefix, videoFormat ? VIDEO_FORMAT_EXTENSIONS[videoFormat] : FIRST_FRAME_SUFFIX);
  } catch (error) {
    throw new NodeInputError('filename_prefix', (error as Error).message);
  }
  const metadata = metadataFor(ctx.extraData);
  if (!videoFormat) return pngSequenceWriter(reserved, metadata, ctx);
  const encoder = await openVideoEncoder(reserved.path, images.width, images.height, {
    format: videoFormat,
    fps: fps || images.fps || STILL_FPS,
    crf,
    metadata,
    tempDir: ctx.folders.temp,
    signal: ctx.signal,
  }).catch(async (error: unknown) => {
    await rm(reserved.path, { force: true });
    throw error;
  });
  return {
    async write(batch) {
      for (const [i, frame] of batch.frames.entries()) {
        await encoder.write([frame]);
        ctx.progress(i + 1, batch.frames.length, { frame: i + 1, frames: batch.frames.length, label: 'encoding' });
      }
    },
    async finish(lateMetadata) {
      await encoder.finish(lateMetadata);
      return [reserved.ref];
    },
    abort: () => encoder.abort(),
  };
}

/**
 * Encode as a sink: ffmpeg starts with the first frames and takes the rest as they come; the metrics (a
 * late input, known after the last frame) go into the sidecar and, by a final copying pass, the file.
 */
function openEncode(ctx: ExecuteContext): SinkWriter<EncodeInputs> {
  let writer: Promise<FrameWriter> | undefined;
  return {
    async write(inputs) {
      writer ??= startWriter(inputs, ctx);
      await (await writer).write(inputs.images);
    },
    async finish({ format, metrics }) {
      const late = metrics === undefined ? undefined : metadataFor(withStability(ctx.extraData, metrics));
      const refs = await (await writer!).finish(late);
      const sidecar = sidecarText(ctx.extraData, metrics);
      if (sidecar) {
        const first = refs[0]!;
        const file = path.join(ctx.folders.output, first.subfolder, first.filename);
        await writeFile(format === 'png-sequence' ? `${file.slice(0, -FIRST_FRAME_SUFFIX.length)}.json` : sidecarPath(file), sidecar);
      }
      return { outputs: [], ui: format === 'mp4-h264' || format === 'webm-vp9' ? { videos: refs } : { images: refs } };
    },
    async abort() {
      await (await writer?.catch(() => undefined))?.abort();
    },
  };
}

export default defineNode({
  type: 'Encode',
  displayName: 'Encode Video',
  category: 'limelight/video',
  description:
    'Writes frames to output/<prefix>_00001.mp4 (never overwriting), with the workflow embedded as metadata and in a sidecar .json. ' +
    'Connect a Stability Report to metrics to store its numbers with the workflow (extra.limelight_stability).',
  version: 2,
  inputs: {
    required: {
      images: { type: 'IMAGE' },
      fps: { type: 'FLOAT', default: 0, min: 0, max: 240, step: 1, tooltip: '0 = the frame rate of the frames' },
      format: { type: 'COMBO', options: FORMATS, default: 'mp4-h264' },
      crf: { type: 'INT', default: 19, min: 0, max: 63, tooltip: 'quality: lower is better and bigger (H.264 0–51, VP9 0–63)' },
      filename_prefix: { type: 'STRING', default: 'limelight/video' },
    },
    optional: {
      metrics: { type: 'METRICS', tooltip: 'from a Stability Report: written into the sidecar .json and the embedded workflow' },
    },
  },
  outputs: [],
  output: true,
  validate: ({ filename_prefix }, { folders }) => validateOutputPrefix(folders.output, filename_prefix),
  stream: { kind: 'sink', late: ['metrics'], open: openEncode },
  execute: (inputs, ctx) => writeWhole(openEncode(ctx), inputs),
});
