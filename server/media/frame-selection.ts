// Which frames of a sequence skip_first_frames / select_every_nth / frame_load_cap keep: the same rule for
// a video's decoded frames (LoadVideo) and a folder's images (LoadImageSequence), so masks stay in step.

export interface FrameSelection {
  skipFirstFrames: number;
  /** Keep every nth frame after the skipped ones (1 = all). */
  selectEveryNth: number;
  /** Stop after this many frames (0 = all). */
  frameLoadCap: number;
}

/** Indices (0-based) of the frames kept out of `total`. */
export function selectedIndices(total: number, selection: FrameSelection): number[] {
  return Array.from({ length: selectedCount(total, selection) }, (_, i) => selection.skipFirstFrames + i * selection.selectEveryNth);
}

/** How many of `total` frames the selection keeps. */
export function selectedCount(total: number, selection: FrameSelection): number {
  const selected = Math.ceil(Math.max(0, total - selection.skipFirstFrames) / selection.selectEveryNth);
  return selection.frameLoadCap > 0 ? Math.min(selection.frameLoadCap, selected) : selected;
}

/** The settings as the node's inputs name them, for messages ("skip_first_frames=3, frame_load_cap=8"). */
export function describeSelection(selection: FrameSelection): string {
  const parts = [
    selection.skipFirstFrames > 0 && `skip_first_frames=${selection.skipFirstFrames}`,
    selection.selectEveryNth > 1 && `select_every_nth=${selection.selectEveryNth}`,
    selection.frameLoadCap > 0 && `frame_load_cap=${selection.frameLoadCap}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'no selection';
}
