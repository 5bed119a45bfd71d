// Masks applied to a clip — attention injection, the Sampler's keep_mask, the stability report — by the
// clip's one frame rule (server/frame-axis.ts): one mask serves every frame, otherwise there is one per
// frame; a mask batch streamed in chunks says where it lies on the clip (its axis).
import { frameSlot, type FrameAxis, type FrameRange } from '../frame-axis.ts';

/** Masks (or anything made one per mask) and where they lie on the clip, when streamed. */
export interface MaskSequence<Mask> {
  readonly masks: readonly Mask[];
  readonly axis?: FrameAxis;
}

/** The frames a batch holds: the whole clip, or its chunk when it lies on the clip's axis. */
export function spanOf(batch: { readonly frames: readonly unknown[]; readonly axis?: FrameAxis }): FrameRange {
  const start = batch.axis?.start ?? 0;
  return { start, end: start + batch.frames.length, frames: batch.axis?.frames ?? batch.frames.length };
}

/** Why the masks on input `inputName` give no mask for some frame of the span sampled, or null when they fit. */
export function maskCountProblem(inputName: string, masks: MaskSequence<unknown>, span: FrameRange): string | null {
  const count = masks.masks.length;
  if (count === 0) return `${inputName} is an empty mask batch; connect a mask image or KeyframeInterpolate`;
  const covers = (frame: number) => frameSlot(count, masks.axis, frame, span.frames) !== undefined;
  if (span.end <= span.start || (covers(span.start) && covers(span.end - 1))) return null;
  const held = masks.axis ? `masks for frames ${masks.axis.start + 1}–${masks.axis.start + count}` : `${count} masks`;
  return `${inputName} has ${held} but the clip has ${span.frames} frames; give one mask (used for every frame) or one per frame (KeyframeInterpolate makes them)`;
}

/** Clip frame `frame`'s mask (0-based), from masks whose count passed maskCountProblem. */
export function maskForFrame<Mask>(masks: MaskSequence<Mask>, frame: number, clipFrames: number): Mask {
  const slot = frameSlot(masks.masks.length, masks.axis, frame, clipFrames);
  if (slot === undefined) throw new RangeError(`no mask for frame ${frame} among ${masks.masks.length}; check the count with maskCountProblem first`);
  return masks.masks[slot]!;
}
