// The frame-count pre-pass: before any node runs, each node's `frames` rule says how many frames its
// IMAGE, MASK and LATENT outputs will hold (from its inputs' counts and its literal inputs; sources probe
// their files), evaluated in dependency order. Counts that cannot fit are refused here, as node errors,
// before anything is decoded. What cannot be known stays unknown and is never refused.
import type { Folders } from '../config.ts';
import { NodeInputError } from '../errors.ts';
import type { ValidNode } from './validate.ts';
import { fitsClip } from '../frame-axis.ts';

/** How to make a batch have `frames` frames, for messages ("set frame_load_cap=8 on node 5 (LoadImageSequence)"); undefined when the maker cannot. */
export type Resize = (frames: number) => string | undefined;

/** Per-frame masks riding inside a value (a MODEL's attention masks) that must fit the clip it samples. */
export interface CarriedFrames {
  frames: number;
  resize?: Resize;
  /** The node and input the masks came in through, where a mismatch is reported. */
  node: string;
  input: string;
  /** What they are, for the message: "the mask sequence". */
  what: string;
}

/** What is known of one output before anything runs. */
export interface KnownOutput {
  /** Frames of an IMAGE, MASK or LATENT value. */
  frames?: number;
  resize?: Resize;
  /** A number, text or flag known before running (a widget value passed on, a probed frame count). */
  value?: unknown;
  carried?: readonly CarriedFrames[];
}

/** A node's view of its inputs during the pre-pass. */
export interface FrameView {
  node: string;
  folders: Folders;
  signal: AbortSignal;
  /** The input's value when known: its literal, or the known value of the output linked to it. */
  value(input: string): unknown;
  /** Frames of the IMAGE, MASK or LATENT linked to the input; undefined when not known (or not linked). */
  frames(input: string): number | undefined;
  resize(input: string): Resize | undefined;
  carried(input: string): readonly CarriedFrames[];
}

/**
 * A node's frame rule: what is known of each output (by slot; undefined = nothing). Throws a
 * NodeInputError (naming another node when its input is the one to change) for counts that cannot fit.
 */
export type FrameRule = (view: FrameView) => (KnownOutput | undefined)[] | Promise<(KnownOutput | undefined)[]>;

export interface FrameRefusal {
  node: string;
  input: string;
  message: string;
}

export interface FrameCounts {
  /** What is known of each node's outputs, by node id and slot. */
  known: Map<string, (KnownOutput | undefined)[]>;
  refusals: FrameRefusal[];
}

/** Why `what` with `count` frames cannot go with a clip of `clip` frames, or null when it can (1 = every frame). */
export function countMismatch(what: string, count: number | undefined, clip: number | undefined, resize?: Resize): string | null {
  if (count === undefined || clip === undefined || fitsClip(count, clip)) return null;
  const fix = resize?.(clip) ?? (count > clip ? `shorten it to ${clip}` : `give one per frame (${clip})`);
  return `${what} has ${count} frames but the clip has ${clip}; ${fix}, or give one mask for every frame`;
}

/** How a loader with frame_load_cap makes `frames` frames of its `count` (it cannot make more). */
export function capResize(view: FrameView, type: string, count: number): Resize {
  return (frames) => (frames < count ? `cap it the same way (frame_load_cap=${frames} on node ${view.node}, ${type})` : undefined);
}

/** Refuses the input when its frames cannot go with the clip's. */
export function requireFit(view: FrameView, input: string, what: string, clip: number | undefined): void {
  const problem = countMismatch(what, view.frames(input), clip, view.resize(input));
  if (problem) throw new NodeInputError(input, problem);
}

/** Refuses carried masks that cannot go with the clip, on the node and input they came in through. */
export function requireCarriedFit(carried: readonly CarriedFrames[], clip: number | undefined): void {
  for (const masks of carried) {
    const problem = countMismatch(masks.what, masks.frames, clip, masks.resize);
    if (problem) throw new NodeInputError(masks.input, problem, masks.node);
  }
}

/** The rule of a per-frame node with one frame output: as many frames as the input. */
export function sameFramesAs(input: string): FrameRule {
  return (view) => [{ frames: view.frames(input), resize: view.resize(input) }];
}

/** The rule of a node that passes its literal on (Int, Float, Text): its value is known before running. */
export function passesValue(input: string): FrameRule {
  return (view) => [{ value: view.value(input) }];
}

export async function countFrames(
  nodes: Map<string, ValidNode>,
  order: string[],
  folders: Folders,
  signal = new AbortController().signal,
): Promise<FrameCounts> {
  const known = new Map<string, (KnownOutput | undefined)[]>();
  const refusals: FrameRefusal[] = [];
  for (const id of order) {
    const node = nodes.get(id)!;
    const rule = node.definition.frames;
    if (!rule) continue;
    const linked = (input: string): KnownOutput | undefined => {
      const link = node.links[input];
      return link ? known.get(link[0])?.[link[1]] : undefined;
    };
    const view: FrameView = {
      node: id,
      folders,
      signal,
      value: (input) => (input in node.literals ? node.literals[input] : linked(input)?.value),
      frames: (input) => linked(input)?.frames,
      resize: (input) => linked(input)?.resize,
      carried: (input) => linked(input)?.carried ?? [],
    };
    try {
      known.set(id, await rule(view));
    } catch (error) {
      if (!(error instanceof NodeInputError)) continue; // a rule that cannot tell leaves the outputs unknown
      refusals.push({ node: error.nodeId ?? id, input: error.inputName, message: error.message });
    }
  }
  return { known, refusals };
}
