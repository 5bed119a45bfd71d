// The skip / every-nth / cap inputs LoadVideo and LoadImageSequence share, so a mask sequence can be
// selected exactly like the clip it belongs to.
import type { FrameSelection } from '../../server/media/frame-selection.ts';

export const SELECTION_INPUTS = {
  frame_load_cap: { type: 'INT', default: 0, min: 0, max: 100_000, tooltip: 'load at most this many frames (0 = all)' },
  skip_first_frames: { type: 'INT', default: 0, min: 0, max: 1_000_000 },
  select_every_nth: { type: 'INT', default: 1, min: 1, max: 1000, tooltip: 'keep every nth frame after the skipped ones' },
} as const;

/** The selection from the node's input values; null when one of them is not known (a link, in the pre-pass). */
export function selectionOf(value: (input: keyof typeof SELECTION_INPUTS) => unknown): FrameSelection | null {
  const [frameLoadCap, skipFirstFrames, selectEveryNth] = [value('frame_load_cap'), value('skip_first_frames'), value('select_every_nth')];
  if (typeof frameLoadCap !== 'number' || typeof skipFirstFrames !== 'number' || typeof selectEveryNth !== 'number') return null;
  return { frameLoadCap, skipFirstFrames, selectEveryNth };
}
