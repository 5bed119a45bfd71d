// Media pipeline cost: LoadVideo → Encode passthrough of a 240-frame 512² clip ÷ a plain
// `ffmpeg -i in.mp4 out.mp4` transcode of the same clip (same encoder settings, measured side by side),
// and the peak RSS of a process that does the passthrough.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Encode from '../nodes/Encode.ts';
import LoadVideo from '../nodes/LoadVideo.ts';
import { toolPath } from '../server/media/binaries.ts';
import { makeContext } from '../test/helpers/context.ts';
import { isMain, printTable, type BenchRow } from './report.ts';
import type { ImageBatch } from '../server/media/image-batch.ts';

const FRAMES = 240;
const SIZE = 512;
const ROUNDS = 3;
/** ffmpeg's own default for libx264, so both sides encode alike. */
const CRF = 23;
const CHILD_FLAG = '--passthrough';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** In a child process: the node passthrough, reporting its time and the process's peak RSS. */
async function passthrough(clip: string): Promise<void> {
  const ctx = makeContext();
  const start = performance.now();
  const loaded = await LoadVideo.execute(
    { video: clip, frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 },
    { ...ctx, folders: { ...ctx.folders, input: path.dirname(clip) } },
  );
  const images = loaded.outputs[0] as ImageBatch;
  if (images.frames.length !== FRAMES) throw new Error(`decoded ${images.frames.length} frames, expected ${FRAMES}`);
  await Encode.execute({ images, fps: 0, format: 'mp4-h264', crf: CRF, filename_prefix: 'bench/passthrough' }, ctx);
  const ms = performance.now() - start;
  process.stdout.write(JSON.stringify({ ms, peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
}

function timeMs(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'limelight-bench-media-'));
  try {
    const ffmpeg = toolPath('ffmpeg');
    const clip = path.join(dir, 'clip.mp4');
    execFileSync(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${SIZE}x${SIZE}:rate=24`, '-frames:v', String(FRAMES), '-pix_fmt', 'yuv420p', '-y', clip]);
    const plain: number[] = [];
    const nodes: number[] = [];
    let peakRss = 0;
    for (let round = 0; round < ROUNDS; round++) {
      plain.push(timeMs(() => execFileSync(ffmpeg, ['-v', 'error', '-i', clip, '-crf', String(CRF), '-y', path.join(dir, 'plain.mp4')])));
      const report = JSON.parse(
        execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), CHILD_FLAG, clip], { encoding: 'utf8' }),
      ) as { ms: number; peakRssBytes: number };
      nodes.push(report.ms);
      peakRss = Math.max(peakRss, report.peakRssBytes);
    }
    return [
      { bench: 'media', metric: `plain ffmpeg transcode, ${FRAMES} frames ${SIZE}² (median of ${ROUNDS})`, value: median(plain), unit: 'ms', target: '' },
      { bench: 'media', metric: 'LoadVideo → Encode passthrough ÷ plain transcode', value: median(nodes) / median(plain), unit: '×', target: '≤ 1.3' },
      { bench: 'media', metric: `peak RSS, ${FRAMES} frames ${SIZE}² passthrough`, value: peakRss / 1024 ** 3, unit: 'GB', target: '≤ 1.5' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === CHILD_FLAG) await passthrough(process.argv[3]!);
else if (isMain(import.meta)) printTable(await run());
