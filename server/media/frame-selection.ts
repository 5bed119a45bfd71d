// Which frames of a sequence skip_first_frames / select_every_nth / frame_load_cap keep: the same rule for
// a video's decoded frames (LoadVideo) and a folder's images (LoadImageSequence), so masks stay in step.

export interface FrameSelection {
  skipFirstFrames: number;
  /** Keep every nth frame after the skipped ones (1 = all). */
  selectEveryNth: number;
  /** Stop after this many frames (0 = all). */
  frameLoadCap: number;
}

export const ALL_FRAMES: FrameSelection = { skipFirstFrames: 0, selectEveryNth: 1, frameLoadCap: 0 };

/** Indices (0-based) of the frames kept out of `total`. */
export function selectedIndices(total: number, selection: FrameSelection): number[] {
  return Array.from({ length: selectedCount(total, selection) }, (_, i) => selection.skipFirstFrames + i * selection.selectEveryNth);
}

/** How many of `total` frames the selection keeps. */
export function selectedCount(total: number, selection: FrameSelection): number {
  const selected = Math.ceil(Math.max(0, total - selection.skipFirstFrames) / selection.selectEveryNth);
  return selection.frameLoadCap > 0 ? Math.min(selection.frameLoadCap, selected) : selected;
}
