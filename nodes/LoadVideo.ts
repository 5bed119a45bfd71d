import path from 'node:path';
import { fileFingerprint } from '../server/file-identity.ts';
import { asInputError } from './support/input-error.ts';
import { checkInputName, inputPath, listInputFiles, VIDEO_EXTENSIONS } from './support/input-files.ts';
import { countVideoFrames } from '../server/media/count-frames.ts';
import { decodeVideo, EndsEarlyError, TooManyFramesError } from '../server/media/video-decode.ts';
import { capResize } from '../server/engine/frame-counts.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import { NodeInputError } from '../server/errors.ts';
import { SELECTION_INPUTS, selectionOf } from './selection-inputs.ts';

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
      width: { type: 'INT', default: 0, min: 0, max: 8192, step: 8, tooltip: '0 = keep; snapped to a multiple of 8' },
      height: { type: 'INT', default: 0, min: 0, max: 8192, step: 8, tooltip: '0 = keep; snapped to a multiple of 8' },
    },
  },
  outputs: [
    { type: 'IMAGE', name: 'IMAGE' },
    { type: 'INT', name: 'frame_count' },
    { type: 'FLOAT', name: 'fps' },
  ],
  persist: true,
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
  execute: async (inputs, ctx) => {
    const file = inputPath(ctx.folders.input, inputs.video, 'video', 'file');
    try {
      const images = await decodeVideo(
        file,
        {
          ...selectionOf((input) => inputs[input])!,
          forceRate: inputs.force_rate,
          width: inputs.width,
          height: inputs.height,
        },
        {
          signal: ctx.signal,
          maxBytes: MAX_FRAME_BYTES,
          onFrame: (frame, frames) => ctx.progress(frame, frames, { frame, frames, label: 'decoding' }),
          warn: (message) => ctx.log.warn(message),
        },
      );
      return { outputs: [images, images.frames.length, images.fps] };
    } catch (error) {
      if (error instanceof TooManyFramesError || error instanceof EndsEarlyError) throw new NodeInputError('frame_load_cap', error.message);
      throw asInputError(error, 'video', UNREADABLE_FIX, ctx.signal);
    }
  },
});
