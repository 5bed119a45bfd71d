// The one rule for masks applied to a clip, used by attention injection, the Sampler's keep_mask and the
// stability report: one mask serves every frame, otherwise there is one mask per frame.

export function masksFitFrames(masks: number, frames: number): boolean {
  return masks === 1 || masks === frames;
}

/** Why `masks` masks on the input `inputName` do not fit a clip of `frames` frames, or null when they do. */
export function maskCountProblem(inputName: string, masks: number, frames: number): string | null {
  if (masksFitFrames(masks, frames)) return null;
  if (masks === 0) return `${inputName} is an empty mask batch; connect a mask image or KeyframeInterpolate`;
  return `${inputName} has ${masks} masks but the clip has ${frames} frames; give one mask (used for every frame) or one per frame (KeyframeInterpolate makes them)`;
}

/** Frame `frame`'s mask (0-based) from masks whose count passed maskCountProblem. */
export function maskForFrame<Mask>(masks: readonly Mask[], frame: number): Mask {
  const mask = masks.length === 1 ? masks[0] : masks[frame];
  if (mask === undefined) throw new RangeError(`no mask for frame ${frame} among ${masks.length}; check the count with maskCountProblem first`);
  return mask;
}
