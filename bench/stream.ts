// Streaming long clips, measured side by side in one run:
// - LoadVideo → Encode passthrough (streamed, through the engine) ÷ a plain ffmpeg transcode, 240 frames 512²;
// - peak RSS summed over the process tree (the process and its ffmpeg children, sampled from /proc) of a
//   720p passthrough at 2,400 frames ÷ at 240 frames, and at 2,400 frames absolute;
// - the professional workflow on a 240-frame 512² clip (demo model): peak RSS (tree), and the time until
//   the first frame is piped into the encoder ÷ the whole run.
// Each measured run is a child process, so its memory is its own.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ALL_NODES } from '../nodes/index.ts';
import { workflowToPrompt } from '../common/workflow.ts';
import type { Prompt } from '../common/prompt.ts';
import { resolveSettings, type Settings } from '../server/config.ts';
import { createEngine } from '../server/create-engine.ts';
import { NodeRegistry } from '../server/engine/node-registry.ts';
import { professionalWorkflow } from '../server/example-workflows.ts';
import { prepareFirstRun } from '../server/first-run.ts';
import { toolPath } from '../server/media/binaries.ts';
import { isMain, printTable, type BenchRow } from './report.ts';

const CHILD_FLAG = '--stream-child';
const CRF = 23;
const ROUNDS = 3;
const VIDEO = { frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface ChildReport {
  ms: number;
  /** From the start of the run to the first frame handed to the encoder. */
  firstFrameMs: number;
}

function passthroughPrompt(video: string): Prompt {
  return {
    1: { class_type: 'LoadVideo', inputs: { video, ...VIDEO } },
    2: { class_type: 'Encode', inputs: { images: ['1', 0], fps: 0, format: 'mp4-h264', crf: CRF, filename_prefix: 'bench/stream' } },
  };
}

function professionalPrompt(video: string, maskVideo: string): Prompt {
  const registry = new NodeRegistry(ALL_NODES);
  const workflow = professionalWorkflow({ note: 'bench', prefix: 'bench/professional', weight: 0.85, video, mask: { kind: 'video', name: maskVideo } });
  return workflowToPrompt(workflow, registry.objectInfo({ folders: { input: '', output: '', temp: '', models: '' } })).prompt;
}

/** In the child: run the prompt through the engine (as `limelight run` does) and report its times. */
async function child(root: string, which: string, video: string, maskVideo: string): Promise<void> {
  const settings: Settings = resolveSettings({}, {}, root);
  const engine = createEngine(settings, new NodeRegistry(ALL_NODES), { info: () => {}, warn: () => {} });
  const prompt = which === 'professional' ? professionalPrompt(video, maskVideo) : passthroughPrompt(video);
  let firstFrameMs = 0;
  const start = performance.now();
  const result = await engine.run(prompt, {
    promptId: 'bench',
    onEvent: (event) => {
      if (!firstFrameMs && event.type === 'progress' && event.data.label === 'encoding') firstFrameMs = performance.now() - start;
    },
  });
  if (result.status !== 'success') throw new Error(`${which}: ${result.status} ${result.error?.exception_message ?? JSON.stringify(result.validation?.node_errors)}`);
  process.stdout.write(JSON.stringify({ ms: performance.now() - start, firstFrameMs } satisfies ChildReport));
}

/** Resident memory of a process and all its descendants, in bytes, from /proc. */
function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      rss.set(Number(name), Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  for (const pending = [root]; pending.length > 0; ) {
    const pid = pending.pop()!;
    total += rss.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Runs a child measurement, sampling its process tree's RSS every 50 ms. */
async function measure(root: string, which: string, video: string, maskVideo = ''): Promise<ChildReport & { peakTreeRss: number }> {
  const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), CHILD_FLAG, root, which, video, maskVideo], { stdio: ['ignore', 'pipe', 'inherit'] });
  let peakTreeRss = 0;
  const sampler = setInterval(() => (peakTreeRss = Math.max(peakTreeRss, treeRss(proc.pid!))), 50);
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  const code = await new Promise<number | null>((resolve) => proc.once('close', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`bench child ${which} exited ${code}`);
  return { ...(JSON.parse(out) as ChildReport), peakTreeRss };
}

function lavfi(file: string, source: string, frames: number): void {
  execFileSync(toolPath('ffmpeg'), ['-v', 'error', '-f', 'lavfi', '-i', source, '-frames:v', String(frames), '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-y', file]);
}

export async function run(): Promise<BenchRow[]> {
  const root = mkdtempSync(path.join(tmpdir(), 'limelight-bench-stream-'));
  try {
    const settings = resolveSettings({}, {}, root);
    for (const folder of Object.values(settings.folders)) mkdirSync(folder, { recursive: true });
    await prepareFirstRun(settings, () => {}, { client: false });
    const input = (name: string) => path.join(settings.folders.input, name);
    lavfi(input('small.mp4'), 'testsrc2=size=512x512:rate=24', 240);
    lavfi(input('hd-240.mp4'), 'testsrc2=size=1280x720:rate=24', 240);
    lavfi(input('hd-2400.mp4'), 'testsrc2=size=1280x720:rate=24', 2400);
    // The mask: a white disc drifting over black, 240 frames.
    lavfi(input('mask.mp4'), "color=black:size=512x512:rate=24,drawbox=x='40+t*60':y=180:w=160:h=160:color=white:t=fill", 240);

    const plain: number[] = [];
    const streamed: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      execFileSync(toolPath('ffmpeg'), ['-v', 'error', '-i', input('small.mp4'), '-crf', String(CRF), '-y', path.join(root, 'plain.mp4')]);
      plain.push(performance.now() - started);
      streamed.push((await measure(root, 'passthrough', 'small.mp4')).ms);
    }
    const hdShort = await measure(root, 'passthrough', 'hd-240.mp4');
    const hdLong = await measure(root, 'passthrough', 'hd-2400.mp4');
    const professional = await measure(root, 'professional', 'small.mp4', 'mask.mp4');
    const GB = 1024 ** 3;
    return [
      { bench: 'stream', metric: 'LoadVideo → Encode passthrough ÷ plain ffmpeg transcode (240 frames 512², streamed)', value: median(streamed) / median(plain), unit: '×', target: '≤ 1.2' },
      { bench: 'stream', metric: 'peak RSS (process tree), 720p passthrough 2,400 ÷ 240 frames', value: hdLong.peakTreeRss / hdShort.peakTreeRss, unit: '×', target: '≤ 1.2' },
      { bench: 'stream', metric: 'peak RSS (process tree), 720p passthrough, 2,400 frames', value: hdLong.peakTreeRss / GB, unit: 'GB', target: '≤ 0.6' },
      { bench: 'stream', metric: 'peak RSS (process tree), professional workflow, 240 frames 512²', value: professional.peakTreeRss / GB, unit: 'GB', target: '≤ 1' },
      { bench: 'stream', metric: 'professional: first frame into the encoder ÷ whole run', value: professional.firstFrameMs / professional.ms, unit: '×', target: '≤ 0.15' },
      { bench: 'stream', metric: 'professional: whole run, 240 frames 512², 20 steps', value: professional.ms / 1000, unit: 's', target: '' },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === CHILD_FLAG) await child(process.argv[3]!, process.argv[4]!, process.argv[5]!, process.argv[6]!);
else if (isMain(import.meta)) printTable(await run());
