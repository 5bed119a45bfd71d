// The IMAGE value: what decoding video and reading images produce.
import type { FrameAxis } from '../frame-axis.ts';

/** Video or still frames: interleaved uint8 RGB, one array per frame (4× smaller than float32). */
export interface ImageBatch {
  readonly width: number;
  readonly height: number;
  /** Frames per second of the source; 0 for stills. */
  readonly fps: number;
  readonly frames: readonly Uint8Array[];
  /** Per-frame alpha (0–255), when the source had transparency (PNG images); MaskFromImage can read it. */
  readonly alphas?: readonly Uint8Array[];
  /** Set on a chunk of a streamed clip: which of the clip's frames these are (server/frame-axis.ts). */
  readonly axis?: FrameAxis;
}
