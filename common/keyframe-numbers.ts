// The keyframe numbers users type ("1, 30, 60"): read alike by KeyframeInterpolate and the editor's mask painter.

/** "1, 30, 60" → [1, 30, 60]. Throws a message naming the bad entry. */
export function parseFrameNumbers(text: string): number[] {
  const parts = text.split(/[\s,;]+/).filter((part) => part !== '');
  if (parts.length === 0) throw new Error('no frame numbers given; list the keyframes as 1-based frame numbers, e.g. "1,30,60"');
  return parts.map((part) => {
    const value = Number(part);
    if (!Number.isInteger(value)) throw new Error(`"${part}" is not a whole frame number; list frames as e.g. "1,30,60"`);
    return value;
  });
}
