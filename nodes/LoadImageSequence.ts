import path from 'node:path';
import { folderFingerprint } from '../server/file-identity.ts';
import { readImage } from '../server/media/image-io.ts';
import { checkInputName, IMAGE_EXTENSIONS, inputPath, listImageFolders, listInputFiles } from './support/input-files.ts';
import { maskFromBytes } from '../server/masks/mask-ops.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import type { ImageBatch } from '../server/media/image-batch.ts';
import type { MaskBatch } from '../server/masks/mask-batch.ts';
import { NodeInputError } from '../server/errors.ts';
import { ALL_FRAMES, selectedIndices, type FrameSelection } from '../server/media/frame-selection.ts';
import { capResize } from '../server/engine/frame-counts.ts';
import { SELECTION_INPUTS, selectionOf } from './support/selection-inputs.ts';
import { axisOf } from '../server/frame-axis.ts';

/** The image names the selection keeps, in name order; an input error when it keeps none. */
function selectedImages(input: string, folder: string, selection: FrameSelection): string[] {
  const names = listInputFiles(inputPath(input, folder, 'folder', 'folder'), IMAGE_EXTENSIONS);
  if (names.length === 0) throw new NodeInputError('folder', `"${folder}" holds no images (${IMAGE_EXTENSIONS.join(', ')}); add some or pick another folder`);
  const kept = selectedIndices(names.length, selection).map((i) => names[i]!);
  if (kept.length === 0) throw new NodeInputError('skip_first_frames', `skip_first_frames ${selection.skipFirstFrames} skips all ${names.length} images of "${folder}"; lower it`);
  return kept;
}

export default defineNode({
  type: 'LoadImageSequence',
  displayName: 'Load Image Sequence',
  category: 'limelight/image',
  description:
    'Loads the images in a sub-folder of the input folder, in name order, as frames (e.g. per-frame or keyframe masks). All images must have the same size. ' +
    'skip_first_frames, select_every_nth and frame_load_cap pick images as Load Video picks frames, so per-frame masks stay in step with a shortened clip.',
  version: 2,
  inputs: {
    required: {
      folder: { type: 'COMBO', options: ({ folders }) => listImageFolders(folders.input) },
    },
    // Optional, so workflows saved before they existed still load (they default to every image).
    optional: { ...SELECTION_INPUTS },
  },
  outputs: [
    { type: 'IMAGE', name: 'IMAGE' },
    { type: 'MASK', name: 'MASK', tooltip: 'from alpha: white where opaque, all white without alpha' },
    { type: 'INT', name: 'frame_count' },
  ],
  fingerprint: ({ folder }, { folders }) => {
    if (!folder) return '';
    const dir = path.resolve(folders.input, folder);
    return folderFingerprint(dir, listInputFiles(dir, IMAGE_EXTENSIONS));
  },
  validate: ({ folder }, { folders }) => checkInputName(folders.input, folder, 'folder'),
  frames: (view) => {
    const [folder, selection] = [view.value('folder'), selectionOf(view.value)];
    if (typeof folder !== 'string' || !selection) return [];
    const frames = selectedImages(view.folders.input, folder, selection).length;
    const resize = capResize(view, 'LoadImageSequence', frames);
    return [{ frames, resize }, { frames, resize }, { value: frames }];
  },
  stream: { kind: 'per-frame' },
  execute: async (inputs, ctx) => {
    const { folder } = inputs;
    const selected = selectedImages(ctx.folders.input, folder, selectionOf((input) => inputs[input]) ?? ALL_FRAMES);
    const names = ctx.range ? selected.slice(ctx.range.start, ctx.range.end) : selected;
    const dir = inputPath(ctx.folders.input, folder, 'folder', 'folder');
    const frames: Uint8Array[] = [];
    const alphas: Uint8Array[] = [];
    let size: { width: number; height: number } | undefined;
    for (const [i, name] of names.entries()) {
      ctx.progress(i + 1, names.length, { frame: i + 1, frames: names.length, label: 'loading' });
      let image;
      try {
        image = await readImage(path.join(dir, name));
      } catch (error) {
        throw new NodeInputError('folder', `cannot read ${folder}/${name}: ${(error as Error).message}. Re-save it as PNG or remove it`);
      }
      size ??= image;
      if (image.width !== size.width || image.height !== size.height) {
        throw new NodeInputError('folder', `${folder}/${name} is ${image.width}×${image.height} but ${names[0]} is ${size.width}×${size.height}; give every image the same size`);
      }
      frames.push(image.rgb);
      alphas.push(image.alpha ?? new Uint8Array(image.width * image.height).fill(255));
    }
    const { width, height } = size!;
    const hasAlpha = alphas.some((alpha) => alpha.some((v) => v < 255));
    const axis = ctx.range && axisOf(ctx.range);
    const images: ImageBatch = { width, height, fps: 0, frames, ...(hasAlpha && { alphas }), ...(axis && { axis }) };
    const mask: MaskBatch = { width, height, masks: alphas.map(maskFromBytes), ...(axis && { axis }) };
    return { outputs: [images, mask, selected.length] };
  },
});
