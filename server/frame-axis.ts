// The clip's frame axis. When the engine streams a clip in chunks, an IMAGE, MASK or LATENT value that
// lies on the axis holds frames [start, start + its length) of a clip of `frames` frames and says so in
// its `axis`. A value without an axis is whole: one frame means "every frame", a batch of the clip's
// length is the clip from frame 0, and any other batch (three keyframe masks) is read whole by the nodes
// that index it.

/** Where a batch lies on its clip: its first frame's index and the clip's frame count. */
export interface FrameAxis {
  readonly start: number;
  readonly frames: number;
}

/** Frames [start, end) of a clip of `frames` frames: the unit of work of a streamed run. */
export interface FrameRange {
  readonly start: number;
  readonly end: number;
  readonly frames: number;
}

export function axisOf(range: FrameRange): FrameAxis {
  return { start: range.start, frames: range.frames };
}

/** The one rule for a whole batch on a clip: one item serves every frame, otherwise there is one per frame. */
export function fitsClip(length: number, clipFrames: number): boolean {
  return length === 1 || length === clipFrames;
}

/**
 * The index into a batch of `length` items (masks, frames) for clip frame `frame` of a clip of
 * `clipFrames` frames, by the one rule: one item = every frame, otherwise one per frame (counted from the
 * batch's axis start when it has one). Undefined when the batch does not cover that frame.
 */
export function frameSlot(length: number, axis: FrameAxis | undefined, frame: number, clipFrames: number): number | undefined {
  if (axis) {
    const slot = frame - axis.start;
    return axis.frames === clipFrames && slot >= 0 && slot < length ? slot : undefined;
  }
  if (!fitsClip(length, clipFrames)) return undefined;
  if (length === 1) return 0;
  return frame >= 0 && frame < length ? frame : undefined;
}
