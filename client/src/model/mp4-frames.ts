// The frame count and rate of an MP4/MOV's video track, read from its boxes (moov/trak/mdia: the handler,
// mdhd's timescale, stbl's stts and stsz), so the mask painter can seek to an exact frame number.
// Pure: bytes in, numbers out.
import { boxes, type Box } from './embedded-graph.ts';

export interface VideoFrames {
  count: number;
  fps: number;
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);

/** The boxes of one track, by type (containers flattened). */
function trackBoxes(bytes: Uint8Array, trak: Box): Map<string, Box> {
  const found = new Map<string, Box>();
  const walk = (start: number, end: number) => {
    for (const box of boxes(bytes, start, end)) {
      if (!found.has(box.type)) found.set(box.type, box);
      if (CONTAINERS.has(box.type)) walk(box.body, box.end);
    }
  };
  walk(trak.body, trak.end);
  return found;
}

/** The video track's frames, or null when the bytes are not an MP4/MOV with one. */
export function mp4VideoFrames(bytes: Uint8Array): VideoFrames | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const moov = [...boxes(bytes, 0, bytes.byteLength)].find((b) => b.type === 'moov');
  if (!moov) return null;
  for (const trak of boxes(bytes, moov.body, moov.end)) {
    if (trak.type !== 'trak') continue;
    const track = trackBoxes(bytes, trak);
    const [hdlr, mdhd, stts, stsz] = ['hdlr', 'mdhd', 'stts', 'stsz'].map((type) => track.get(type));
    if (!hdlr || !mdhd || !stts || !stsz) continue;
    const handler = String.fromCharCode(...bytes.subarray(hdlr.body + 8, hdlr.body + 12));
    if (handler !== 'vide') continue;
    const timescale = view.getUint32(mdhd.body + (view.getUint8(mdhd.body) === 1 ? 20 : 12));
    const delta = view.getUint32(stts.body + 12);
    const count = view.getUint32(stsz.body + 8);
    if (timescale > 0 && delta > 0 && count > 0) return { count, fps: timescale / delta };
  }
  return null;
}
