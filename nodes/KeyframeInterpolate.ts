import { EASINGS, keyframePositions, keyframeSchedule } from '../server/masks/keyframes.ts';
import { parseFrameNumbers } from '../common/keyframe-numbers.ts';
import { crossfadeMasks, maskArea, morphKey, morphMasks, overlapAligned, overlapInPlace, type MorphKey } from '../server/masks/mask-morph.ts';
import { defineNode, keysOf } from '../server/engine/node-contract.ts';
import type { MaskBatch } from '../server/masks/mask-batch.ts';
import { NodeInputError } from '../server/errors.ts';
import { axisOf } from '../server/frame-axis.ts';

const METHODS = ['morph', 'crossfade'] as const;
/** Below this overlap, or above this area ratio, attention tends to glitch into a grey smudge between keyframes. */
const MIN_OVERLAP = 0.2;
const MAX_AREA_RATIO = 4;

function parseKeyframes(keyframes: string): number[] {
  try {
    return parseFrameNumbers(keyframes);
  } catch (error) {
    throw new NodeInputError('keyframes', (error as Error).message);
  }
}

/** Refuses keyframes that cannot fit the masks or the clip (a mask count not known yet is not checked). */
function checkKeyframes(frames: number[], maskCount: number | undefined, frameCount: number, endFrame: number): void {
  if (maskCount !== undefined && frames.length !== maskCount) {
    throw new NodeInputError('keyframes', `${frames.length} frame numbers for ${maskCount} keyframe masks; give one frame number per mask, in the masks' order`);
  }
  for (const [i, frame] of frames.entries()) {
    if (frame < 1) throw new NodeInputError('keyframes', `frame ${frame} is before the first frame; frames count from 1`);
    if (i > 0 && frame <= frames[i - 1]!) throw new NodeInputError('keyframes', `frame numbers must increase, but ${frame} follows ${frames[i - 1]}`);
  }
  if (endFrame > frameCount) throw new NodeInputError('end_frame', `end_frame ${endFrame} is beyond the clip's ${frameCount} frames; lower it or set 0`);
  if (endFrame === 1 && frames.length > 1) throw new NodeInputError('end_frame', 'end_frame 1 would put every keyframe on frame 1; use a later frame or 0');
  const last = frames[frames.length - 1]!;
  if (endFrame === 0 && last > frameCount) {
    throw new NodeInputError('keyframes', `frame ${last} is beyond the clip's ${frameCount} frames; lower it, or set end_frame to pin the last keyframe to a frame`);
  }
}

/** The "semantic gap": keyframes so different that the in-between masks stop meaning anything. */
function gapWarnings(keys: MorphKey[], frames: number[], method: string, width: number, height: number): string[] {
  const warnings: string[] = [];
  for (let i = 1; i < keys.length; i++) {
    const [a, b] = [keys[i - 1]!, keys[i]!];
    const pair = `keyframes ${frames[i - 1]} and ${frames[i]}`;
    const areas = [maskArea(a.mask), maskArea(b.mask)].sort((x, y) => x - y);
    if (areas[0]! * MAX_AREA_RATIO < areas[1]!) {
      warnings.push(`${pair}: mask areas differ ${areas[0] === 0 ? 'completely (one is empty)' : `${(areas[1]! / areas[0]!).toFixed(1)}×`}; add a keyframe in between`);
    }
    const overlap = method === 'morph' ? overlapAligned(a, b, width, height) : overlapInPlace(a, b);
    if (areas[0]! > 0 && overlap < MIN_OVERLAP) {
      const advice = method === 'morph' ? 'the shapes differ a lot; add a keyframe in between' : 'the object moved; use method "morph" or add keyframes';
      warnings.push(`${pair}: masks overlap only ${(overlap * 100).toFixed(0)}%; ${advice}`);
    }
  }
  return warnings;
}

export default defineNode({
  type: 'KeyframeInterpolate',
  displayName: 'Keyframe Interpolate',
  category: 'limelight/mask',
  description:
    'Makes one mask per frame from masks drawn at a few keyframes. "morph" moves and reshapes the mask between keyframes; "crossfade" blends them (a moving object ghosts).',
  version: 1,
  inputs: {
    required: {
      masks: { type: 'MASK', tooltip: 'the keyframe masks, in order' },
      keyframes: { type: 'STRING', default: '1,30,60', tooltip: 'frame number of each mask, counting from 1' },
      frame_count: { type: 'INT', default: 64, min: 1, max: 100_000, tooltip: 'frames to produce (link it from Load Video)' },
      end_frame: { type: 'INT', default: 0, min: 0, max: 100_000, tooltip: 'stretch the timing so the last keyframe lands on this frame (0 = as typed, the last mask holds to the end)' },
      method: { type: 'COMBO', options: METHODS, default: 'morph' },
      easing: { type: 'COMBO', options: keysOf(EASINGS), default: 'linear' },
    },
  },
  outputs: [{ type: 'MASK', name: 'MASK' }],
  frames: (view) => {
    const [keyframes, frameCount, endFrame] = [view.value('keyframes'), view.value('frame_count'), view.value('end_frame')];
    if (typeof keyframes !== 'string' || typeof frameCount !== 'number' || typeof endFrame !== 'number') return [];
    checkKeyframes(parseKeyframes(keyframes), view.frames('masks'), frameCount, endFrame);
    const resize = (frames: number) => `set frame_count to ${frames} on node ${view.node} (KeyframeInterpolate), or link it from Load Video's frame_count`;
    return [{ frames: frameCount, resize }];
  },
  stream: { kind: 'per-frame', whole: ['masks'] },
  execute: ({ masks, keyframes, frame_count, end_frame, method, easing }, ctx) => {
    const frames = parseKeyframes(keyframes);
    checkKeyframes(frames, masks.masks.length, frame_count, end_frame);
    const { width, height } = masks;
    const makeKeys = () => masks.masks.map((mask) => morphKey(mask, width, height));
    // A streamed clip asks for a range of frames at a time: the keyframes are prepared once per stream.
    const keys = ctx.keep ? ctx.keep('keys', makeKeys, () => {}) : makeKeys();
    const { start, end } = ctx.range ?? { start: 0, end: frame_count };
    const warnings = start === 0 ? gapWarnings(keys, frames, method, width, height) : [];
    for (const warning of warnings) ctx.log.warn(warning);

    const schedule = keyframeSchedule(keyframePositions(frames, end_frame), frame_count, easing).slice(start, end);
    const out = schedule.map(({ from, to, u }, i) => {
      ctx.progress(i + 1, schedule.length, { frame: i + 1, frames: schedule.length, label: method });
      const [a, b] = [keys[from]!, keys[to]!];
      if (u === 0) return a.mask.slice();
      return method === 'morph' ? morphMasks(a, b, u, width, height) : crossfadeMasks(a.mask, b.mask, u);
    });
    const result: MaskBatch = { width, height, masks: out, ...(ctx.range && { axis: axisOf(ctx.range) }) };
    return { outputs: [result], ...(warnings.length > 0 && { ui: { text: warnings } }) };
  },
});
