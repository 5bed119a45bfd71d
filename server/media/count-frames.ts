// The exact number of frames decodeVideo yields for a selection, from the packets' timestamps (read
// without decoding): the demuxer's discarded packets (edit lists of trimmed clips) are left out, and a
// resampled rate (force_rate, variable-rate sources) is counted the way ffmpeg's fps filter makes frames.
import { stat } from 'node:fs/promises';
import { PromiseMemo } from '../promise-memo.ts';
import { selectedCount, type FrameSelection } from './frame-selection.ts';
import { probeVideo, type VideoInfo } from './probe.ts';
import { runTool, type ToolOptions } from './tool-process.ts';
import { fileVersionKey } from '../file-identity.ts';

interface PacketTimes {
  timeBase: [bigint, bigint];
  /** The container's start time in microseconds (ffmpeg shifts every timestamp by minus this). */
  startMicros: bigint;
  /** Presentation timestamps (in timeBase) of the packets that decode to shown frames, ascending; null where a packet has none. */
  shown: (bigint | null)[];
  /** Where the last shown frame ends (its timestamp plus its duration), in timeBase; null when unknown. */
  end: bigint | null;
  /** All packets read, discarded ones included (what the header's frame count counts). */
  read: number;
}

/** A frame rate as an exact fraction: "30000/1001", or a decimal such as 29.97. */
export function rateFraction(rate: string | number): [bigint, bigint] {
  const text = String(rate);
  if (text.includes('/')) {
    const [num, den] = text.split('/');
    return [BigInt(num!), BigInt(den!)];
  }
  const [whole, fraction = ''] = text.split('.');
  return [BigInt(whole! + fraction), 10n ** BigInt(fraction.length)];
}

/** a·b/c rounded to the nearest integer, halves away from zero (libavutil's AV_ROUND_NEAR_INF). */
function rescale(a: bigint, b: bigint, c: bigint): bigint {
  const n = a * b;
  const half = c / 2n;
  return n >= 0n ? (n + half) / c : -((-n + half) / c);
}

async function readPacketTimes(file: string, options: ToolOptions): Promise<PacketTimes> {
  const text = await runTool(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts,duration,flags:stream=time_base:format=start_time', '-of', 'csv=p=1', file],
    { file, ...options },
  );
  let timeBase: [bigint, bigint] = [1n, 1n];
  let startMicros = 0n;
  const shown: (bigint | null)[] = [];
  let end: bigint | null = null;
  let read = 0;
  const integer = (text: string) => (/^-?\d+$/.test(text) ? BigInt(text) : null);
  for (const line of text.split('\n')) {
    const [section, value = '', duration = '', flags = ''] = line.trim().split(',');
    if (section === 'stream') timeBase = rateFraction(value);
    else if (section === 'format' && /^-?\d+(\.\d+)?$/.test(value)) startMicros = rescale(rateFraction(value)[0], 1_000_000n, rateFraction(value)[1]);
    else if (section === 'packet') {
      read++;
      if (flags.includes('D')) continue;
      const pts = integer(value);
      const length = integer(duration);
      shown.push(pts);
      if (pts !== null && length !== null && (end === null || pts + length > end)) end = pts + length;
    }
  }
  shown.sort((a, b) => (a === null || b === null ? 0 : a < b ? -1 : a > b ? 1 : 0));
  return { timeBase, startMicros, shown, end, read };
}

/**
 * Frames ffmpeg's fps filter makes at `rate` from frames at these timestamps: one per output tick from
 * the first frame's tick up to (not including) the tick where the last frame ends, each rounded to the
 * nearest tick. Null when a timestamp is missing.
 */
export function resampledCount(times: PacketTimes, rate: [bigint, bigint]): number | null {
  if (times.shown.length === 0) return 0;
  if (times.end === null || times.shown.some((t) => t === null)) return null;
  const [tbNum, tbDen] = times.timeBase;
  const [rateNum, rateDen] = rate;
  const offset = rescale(-times.startMicros, tbDen, 1_000_000n * tbNum);
  const tick = (pts: bigint) => rescale(pts + offset, tbNum * rateNum, tbDen * rateDen);
  const first = tick(times.shown[0]!);
  return Math.max(0, Number(tick(times.end) - first));
}

/** Frames the file holds at the decode rate, and how many more its header lists (a file cut short). */
interface SourceFrames {
  /** Whole frames in the file; null when the timestamps needed to count them are missing. */
  whole: number | null;
  missing: number;
}

async function sourceFrames(file: string, resampleTo: string | number | null, headerFrames: number, options: ToolOptions): Promise<SourceFrames> {
  const times = await readPacketTimes(file, options);
  if (resampleTo !== null) return { whole: resampledCount(times, rateFraction(resampleTo)), missing: 0 };
  const missing = Math.max(0, headerFrames - times.read);
  // A file cut short ends inside its last packet, which does not decode.
  return { whole: missing > 0 ? Math.max(0, times.shown.length - 1) : times.shown.length, missing };
}

const counted = new PromiseMemo<SourceFrames>();

export interface VideoFrameCount {
  /** Frames decoding yields with the selection. */
  frames: number;
  /** Whole frames in the file at the decode rate, before the selection. */
  available: number;
  /** Frames the selection would yield from the whole file its header describes; more than `frames` when the file is cut short. */
  promised: number;
}

/**
 * The frames decodeVideo yields for the selection, counted without decoding (remembered per file
 * version); null when the file lacks the timestamps to count them. Throws for an empty or unreadable file.
 */
export async function countVideoFrames(
  file: string,
  selection: FrameSelection & { forceRate: number },
  options: ToolOptions & { info?: VideoInfo } = {},
): Promise<VideoFrameCount | null> {
  const info = options.info ?? (await probeVideo(file));
  const resampleTo = selection.forceRate > 0 ? selection.forceRate : info.variableRate ? info.rate : null;
  const key = `${fileVersionKey(file, await stat(file))}\0${resampleTo}`;
  const { whole, missing } = await counted.get(key, () => sourceFrames(file, resampleTo, info.headerFrames, { signal: options.signal }));
  if (whole === null) return null;
  return { frames: selectedCount(whole, selection), available: whole, promised: selectedCount(whole + missing + (missing > 0 ? 1 : 0), selection) };
}
