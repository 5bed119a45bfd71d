import path from 'node:path';
import { fileFingerprint } from '../server/file-identity.ts';
import { asInputError } from './support/input-error.ts';
import { checkInputName, inputPath, listInputFiles, VIDEO_EXTENSIONS } from './support/input-files.ts';
import { decodeVideo, TooManyFramesError } from '../server/media/video-decode.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import { NodeInputError } from '../server/errors.ts';

/** Refuse selections that would hold more than this in frames (a long 1080p clip can ask for tens of GB). */
const MAX_FRAME_BYTES = 4 * 1024 ** 3;

export default defineNode({
  type: 'LoadVideo',
  displayName: 'Load Video',
  category: 'limelight/video',
  description:
    'Decodes a video from the input folder into RGB frames. Rotation metadata is applied, variable frame rates are resampled to a constant rate, audio is ignored.',
  version: 1,
  inputs: {
    required: {
      video: { type: 'COMBO', options: ({ folders }) => listInputFiles(folders.input, VIDEO_EXTENSIONS), upload: 'video' },
      frame_load_cap: { type: 'INT', default: 0, min: 0, max: 100_000, tooltip: 'load at most this many frames (0 = all)' },
      skip_first_frames: { type: 'INT', default: 0, min: 0, max: 1_000_000 },
      select_every_nth: { type: 'INT', default: 1, min: 1, max: 1000, tooltip: 'keep every nth frame (the fps output is divided accordingly)' },
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
  persist: true,
  fingerprint: ({ video }, { folders }) => (video ? fileFingerprint(path.resolve(folders.input, video)) : ''),
  validate: ({ video }, { folders }) => checkInputName(folders.input, video, 'file'),
  execute: async (inputs, ctx) => {
    const file = inputPath(ctx.folders.input, inputs.video, 'video', 'file');
    // Shown on the node, not only in the log: how the size was rounded, decoding problems.
    const notes: string[] = [];
    try {
      const images = await decodeVideo(
        file,
        {
          frameLoadCap: inputs.frame_load_cap,
          skipFirstFrames: inputs.skip_first_frames,
          selectEveryNth: inputs.select_every_nth,
          forceRate: inputs.force_rate,
          width: inputs.width,
          height: inputs.height,
        },
        {
          signal: ctx.signal,
          maxBytes: MAX_FRAME_BYTES,
          onFrame: (frame, frames) => ctx.progress(frame, frames, { frame, frames, label: 'decoding' }),
          warn: (message) => {
            notes.push(message);
            ctx.log.warn(message);
          },
        },
      );
      return { outputs: [images, images.frames.length, images.fps], ...(notes.length > 0 && { ui: { text: notes } }) };
    } catch (error) {
      if (error instanceof TooManyFramesError) throw new NodeInputError('frame_load_cap', error.message);
      throw asInputError(error, 'video', 'Check that the file plays, or re-export it (e.g. as H.264 MP4) and upload it again', ctx.signal);
    }
  },
});
