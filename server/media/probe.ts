// What ffprobe says about a video's first video stream, reduced to what decoding needs.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from './tool-process.ts';
import { fileVersionKey } from '../file-identity.ts';
import { PromiseMemo } from '../promise-memo.ts';

export interface VideoInfo {
  /** Size as displayed, i.e. after the rotation metadata is applied. */
  width: number;
  height: number;
  /** Constant frame rate to decode at, as ffmpeg's rational text (e.g. "30000/1001"). */
  rate: string;
  fps: number;
  /** Seconds; 0 when unknown. */
  duration: number;
  /** Frames at `rate` (from the header or estimated from the duration); 0 when unknown. */
  frameCount: number;
  /** Frames the header lists (trimmed-away frames included); 0 when it lists none. */
  headerFrames: number;
  rotation: number;
  /** The timestamps are irregular: frames are resampled to `rate`. */
  variableRate: boolean;
  hasAudio: boolean;
}

interface ProbeStream {
  codec_type?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number | string }[];
}

export function parseRate(text: string | undefined): number {
  const [num, den = '1'] = (text ?? '').split('/');
  const value = Number(num) / Number(den);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

const probes = new PromiseMemo<VideoInfo>();

/**
 * The clip's stream facts, remembered per file version: the frame pre-pass, the frame count and the decoder
 * all ask. It runs without a caller's signal (it is short), so one run's interrupt does not fail another's.
 */
export async function probeVideo(file: string): Promise<VideoInfo> {
  const stats = await stat(file);
  if (stats.size === 0) throw new Error(`${path.basename(file)} is empty (0 bytes)`);
  return probes.get(fileVersionKey(file, stats), () => runProbe(file));
}

async function runProbe(file: string): Promise<VideoInfo> {
  const json = await runTool('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file], { file });
  const data = JSON.parse(json) as { streams?: ProbeStream[]; format?: { duration?: string } };
  const streams = data.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0);
  if (!video) throw new Error(`${file} has no video stream`);

  const rotation = readRotation(video);
  const quarterTurn = Math.abs(rotation) % 180 === 90;
  const real = parseRate(video.r_frame_rate);
  const average = parseRate(video.avg_frame_rate);
  // r_frame_rate is the finest timestamp grid; for irregular timestamps it overstates the rate, the average does not.
  const variableRate = real > 0 && average > 0 && Math.abs(real - average) / real > 0.01;
  const rate = variableRate || real === 0 ? video.avg_frame_rate! : video.r_frame_rate!;
  const fps = parseRate(rate);
  if (fps === 0) throw new Error(`${file} has no usable frame rate (ffprobe reports ${video.r_frame_rate}); set force_rate`);
  const duration = Number(video.duration ?? data.format?.duration ?? 0) || 0;
  const headerFrames = Number(video.nb_frames ?? 0) || 0;
  return {
    width: quarterTurn ? video.height! : video.width!,
    height: quarterTurn ? video.width! : video.height!,
    rate,
    fps,
    duration,
    frameCount: !variableRate && headerFrames > 0 ? headerFrames : Math.round(duration * fps),
    headerFrames,
    rotation,
    variableRate,
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
  };
}

function readRotation(stream: ProbeStream): number {
  const fromSideData = stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  return Number(fromSideData ?? stream.tags?.rotate ?? 0) || 0;
}
