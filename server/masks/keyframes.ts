// Keyframe timing: easing curves, and which keyframes each frame blends (the numbers users type are read by
// common/keyframe-numbers.ts).

export const EASINGS = {
  linear: (u: number) => u,
  'ease-in': (u: number) => u * u,
  'ease-out': (u: number) => 1 - (1 - u) * (1 - u),
  'ease-in-out': (u: number) => (u < 0.5 ? 2 * u * u : 1 - 2 * (1 - u) * (1 - u)),
} as const;
export type Easing = keyof typeof EASINGS;

/**
 * Where the keyframes sit on the clip. With `endFrame` > 0 the timings are stretched so the first frame
 * stays at 1 and the last keyframe lands on `endFrame` (keyframes drawn on a longer or differently
 * sampled cut still span the clip).
 */
export function keyframePositions(frames: readonly number[], endFrame: number): number[] {
  const last = frames[frames.length - 1]!;
  if (endFrame <= 0 || frames.length < 2 || last === 1) return [...frames];
  return frames.map((frame) => 1 + ((frame - 1) * (endFrame - 1)) / (last - 1));
}

/** For one frame: blend keyframe `from` towards keyframe `to` by `u` (0 = exactly `from`). */
export interface FrameBlend {
  from: number;
  to: number;
  u: number;
}

/** One blend per frame 1…frameCount: before the first keyframe and after the last, the nearest one holds. */
export function keyframeSchedule(positions: readonly number[], frameCount: number, easing: Easing): FrameBlend[] {
  const last = positions.length - 1;
  const schedule: FrameBlend[] = [];
  let segment = 0;
  for (let frame = 1; frame <= frameCount; frame++) {
    while (segment < last && positions[segment + 1]! <= frame) segment++;
    const start = positions[segment]!;
    if (segment === last || frame <= start) schedule.push({ from: segment, to: segment, u: 0 });
    else {
      const u = EASINGS[easing]((frame - start) / (positions[segment + 1]! - start));
      schedule.push({ from: segment, to: segment + 1, u });
    }
  }
  return schedule;
}
