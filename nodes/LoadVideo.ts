import path from 'node:path';
import { fileFingerprint } from '../server/file-identity.ts';
import { asInputError } from './support/input-error.ts';
import { checkInputName, inputPath, listInputFiles, VIDEO_EXTENSIONS } from './support/input-files.ts';
import { countVideoFrames } from '../server/media/count-frames.ts';
import { checkComplete, decodeVideo, EndsEarlyError, openVideoReader, TooManyFramesError, type FrameSelection } from '../server/media/video-decode.ts';
import type { ImageBatch } from '../server/media/image-batch.ts';
import { axisOf, type FrameRange } from '../server/frame-axis.ts';
import { capResize } from '../server/engine/frame-counts.ts';
import { defineNode, type ExecuteContext } from '../server/engine/node-contract.ts';
import { NodeInputError } from '../server/errors.ts';
import { SELECTION_INPUTS, selectionOf } from './support/selection-inputs.ts';

const UNREADABLE_FIX = 'Check that the file plays, or re-export it (e.g. as H.264 MP4) and upload it again';

/** Refuse selections that would hold more than this in frames (a long 1080p clip can ask for tens of GB). */
const MAX_FRAME_BYTES = 4 * 1024 ** 3;

export default defineNode({
  type: 'LoadVideo',
  displayName: 'Load Video',
  category: 'limelight/video',
  description:
    'Decodes a video from the input folder into RGB frames. Rotation metadata is applied, variable frame rates are resampled to a constant rate, audio is ignored.',
  version: 2,
  inputs: {
    required: {
      video: { type: 'COMBO', options: ({ folders }) => listInputFiles(folders.input, VIDEO_EXTENSIONS), upload: 'video' },
      ...SELECTION_INPUTS,
      force_rate: { type: 'FLOAT', default: 0, min: 0, max: 240, step: 1, tooltip: 'resample to this frame rate first (0 = the source rate)' },
      width: { type: 'INT', default: 0, min: 0, max: 8192, step: 8, tooltip: '0 = keep; snapped to a multiple of 8 (the node says so when it rounds); any size works downstream' },
      height: { type: 'INT', default: 0, min: 0, max: 8192, step: 8, tooltip: '0 = keep; snapped to a multiple of 8 (the node says so when it rounds); any size works downstream' },
    },
  },
  outputs: [
    { type: 'IMAGE', name: 'IMAGE' },
    { type: 'INT', name: 'frame_count' },
    { type: 'FLOAT', name: 'fps' },
  ],
  fingerprint: ({ video }, { folders }) => (video ? fileFingerprint(path.resolve(folders.input, video)) : ''),
  validate: ({ video }, { folders }) => checkInputName(folders.input, video, 'file'),
  frames: async (view) => {
    const [video, forceRate] = [view.value('video'), view.value('force_rate')];
    const selection = selectionOf(view.value);
    if (typeof video !== 'string' || typeof forceRate !== 'number' || !selection) return [];
    const file = inputPath(view.folders.input, video, 'video', 'file');
    const counted = await countVideoFrames(file, { ...selection, forceRate }, { signal: view.signal }).catch((error: unknown) => {
      throw asInputError(error, 'video', UNREADABLE_FIX, view.signal);
    });
    if (!counted) return [];
    const { frames, promised, available } = counted;
    if (promised > frames) {
      throw new NodeInputError('frame_load_cap', `${video} is cut short: only ${frames} of the ${promised} frames asked for are in the file; set frame_load_cap to ${frames} to use them, or upload the whole file again`);
    }
    if (frames === 0) {
      throw available === 0
        ? new NodeInputError('video', `${video} holds no video frames; pick another file`)
        : new NodeInputError('skip_first_frames', `skip_first_frames ${selection.skipFirstFrames} skips all ${available} frames of ${video}; lower it`);
    }
    return [{ frames, resize: capResize(view, 'LoadVideo', frames) }, { value: frames }];
  },
  stream: { kind: 'per-frame' },
  execute: async (inputs, ctx) => {
    const file = inputPath(ctx.folders.input, inputs.video, 'video', 'file');
    const selection = { ...selectionOf((input) => inputs[input])!, forceRate: inputs.force_rate, width: inputs.width, height: inputs.height };
    try {
      if (ctx.range) {
        const images = await readRange(file, selection, ctx.range, ctx);
        return { outputs: [images, ctx.range.frames, images.fps] };
      }
      // Shown on the node, not only in the log: how the size was rounded, decoding problems.
      const notes: string[] = [];
      const images = await decodeVideo(file, selection, {
        signal: ctx.signal,
        maxBytes: MAX_FRAME_BYTES,
        onFrame: (frame, frames) => ctx.progress(frame, frames, { frame, frames, label: 'decoding' }),
        warn: (message) => {
          notes.push(message);
          ctx.log.warn(message);
        },
      });
      return { outputs: [images, images.frames.length, images.fps], ...(notes.length > 0 && { ui: { text: notes } }) };
    } catch (error) {
      if (error instanceof TooManyFramesError || error instanceof EndsEarlyError) throw new NodeInputError('frame_load_cap', error.message);
      throw asInputError(error, 'video', UNREADABLE_FIX, ctx.signal);
    }
  },
});

/** A chunk of a streamed clip, from the one decoder the stream keeps open (it reads on from where the last chunk ended). */
async function readRange(file: string, selection: FrameSelection, range: FrameRange, ctx: ExecuteContext): Promise<ImageBatch> {
  const opened = ctx.keep!('decoder', () => openVideoReader(file, selection, { signal: ctx.signal, waits: true, warn: (message) => ctx.log.warn(message) }), async (reader) => {
    await (await reader.catch(() => undefined))?.close();
  });
  const reader = await opened;
  if (reader.position > range.start) throw new Error(`frames ${range.start}… were asked for after frame ${reader.position}; a clip is read in order`);
  await reader.read(range.start - reader.position);
  const count = range.end - range.start;
  const frames: Uint8Array[] = [];
  while (frames.length < count) {
    const [frame] = await reader.read(1);
    if (!frame) break;
    frames.push(frame);
    ctx.progress(frames.length, count, { frame: frames.length, frames: count, label: 'decoding' });
  }
  if (frames.length < count) {
    checkComplete(file, reader.position, range.frames, reader.problems() ?? 'the clip ended early', (message) => ctx.log.warn(message));
  }
  return { width: reader.width, height: reader.height, fps: reader.fps, frames, axis: axisOf(range) };
}
