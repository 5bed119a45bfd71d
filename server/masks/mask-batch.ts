// The MASK value: what the mask operations produce and the injection, keep-mask and report read.
import type { FrameAxis } from '../frame-axis.ts';

/** Masks: float 0–1, white (1) = attend here. One array per frame, width × height each. */
export interface MaskBatch {
  readonly width: number;
  readonly height: number;
  readonly masks: readonly Float32Array[];
  /** Set on a chunk of a streamed clip: which of the clip's frames these masks are for (server/frame-axis.ts). */
  readonly axis?: FrameAxis;
}
