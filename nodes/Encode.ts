import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng } from '../server/media/image-io.ts';
import { reserveOutputFile, validateOutputPrefix, type OutputFileRef, type ReservedFile } from '../server/media/output-files.ts';
import { encodeVideo, MAX_CRF, VIDEO_FORMAT_EXTENSIONS, type VideoFormat } from '../server/media/video-encode.ts';
import { embedInPng, metadataFor, sidecarPath, sidecarText, withStability, type WorkflowMetadata } from '../server/media/workflow-metadata.ts';
import { defineNode, type ExecuteContext } from '../server/engine/node-contract.ts';
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

async function writePngSequence(images: ImageBatch, first: ReservedFile, metadata: WorkflowMetadata, ctx: ExecuteContext): Promise<OutputFileRef[]> {
  const stem = sequenceStem(first);
  const refs: OutputFileRef[] = [];
  for (let i = 0; i < images.frames.length; i++) {
    ctx.progress(i + 1, images.frames.length, { frame: i + 1, frames: images.frames.length, label: 'encoding' });
    const file = `${stem}_${String(i + 1).padStart(5, '0')}.png`;
    await writeFile(file, embedInPng(await encodePng(images.frames[i]!, images.width, images.height), metadata));
    refs.push({ ...first.ref, filename: path.basename(file) });
  }
  return refs;
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
  execute: async ({ images, fps, format, crf, filename_prefix, metrics }, ctx) => {
    if (!(FORMATS as readonly string[]).includes(format)) throw new NodeInputError('format', `unknown format "${format}"; pick one of ${FORMATS.join(', ')}`);
    if (images.frames.length === 0) throw new NodeInputError('images', 'no frames to encode; check the node feeding images');
    const videoFormat = format === 'png-sequence' ? undefined : (format as VideoFormat);
    if (videoFormat && crf > MAX_CRF[videoFormat]) {
      throw new NodeInputError('crf', `crf ${crf} is above ${MAX_CRF[videoFormat]}, the highest ${format} accepts; lower it`);
    }
    let reserved: ReservedFile;
    try {
      reserved = await reserveOutputFile(ctx.folders.output, filename_prefix, videoFormat ? VIDEO_FORMAT_EXTENSIONS[videoFormat] : FIRST_FRAME_SUFFIX);
    } catch (error) {
      throw new NodeInputError('filename_prefix', (error as Error).message);
    }
    const metadata = metadataFor(metrics === undefined ? ctx.extraData : withStability(ctx.extraData, metrics));
    const sidecar = sidecarText(ctx.extraData, metrics);
    if (!videoFormat) {
      const refs = await writePngSequence(images, reserved, metadata, ctx);
      if (sidecar) await writeFile(`${sequenceStem(reserved)}.json`, sidecar);
      return { outputs: [], ui: { images: refs } };
    }
    await encodeVideo(images, reserved.path, {
      format: videoFormat,
      fps: fps || images.fps || STILL_FPS,
      crf,
      metadata,
      tempDir: ctx.folders.temp,
      signal: ctx.signal,
      onFrame: (frame, frames) => ctx.progress(frame, frames, { frame, frames, label: 'encoding' }),
    });
    if (sidecar) await writeFile(sidecarPath(reserved.path), sidecar);
    return { outputs: [], ui: videoFormat === 'gif' ? { images: [reserved.ref] } : { videos: [reserved.ref] } };
  },
});
