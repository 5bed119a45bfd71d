// The practitioner's quick job: `limelight run job.json --video clip.mp4`, end to end on the demo model,
// its expansion (the same builder as the professional example) and its errors.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { graphFromJson, loadGraphFile } from '../../server/cli/load-graph.ts';
import { expandQuickJob, JobError, parseQuickJob, type QuickJob } from '../../server/cli/quick-job.ts';
import { resolveSettings } from '../../server/config.ts';
import { Engine } from '../../server/engine/engine.ts';
import type { Workflow, WorkflowNode } from '../../common/workflow.ts';
import { prepareFirstRun } from '../../server/first-run.ts';
import { SAMPLE } from '../../server/demo/sample-media.ts';
import { runTool } from '../../server/media/tool-process.ts';
import { decodeVideo, KEEP_ALL } from '../../server/media/video-decode.ts';
import { limelight as limelightIn } from '../helpers/cli.ts';
const FRAMES = 6;

const root = mkdtempSync(path.join(tmpdir(), 'limelight-job-'));
const settings = resolveSettings({}, {}, root);
const registry = new NodeRegistry(ALL_NODES);
const engine = new Engine({ registry, folders: settings.folders, memoryBudgetBytes: 1024 ** 3 });
const sampleMasks = path.join(settings.folders.input, SAMPLE.masksFolder);

const JOB: QuickJob = { model: 'limelight-demo', attention_mask: '../media/masks', cross_attention_weight: 0.8, temperature: 0, seed: 7, steps: 2 };

const limelight = (args: string[]) => limelightIn(args, root);

function writeJob(name: string, job: unknown): string {
  const file = path.join(root, 'jobs', name);
  writeFileSync(file, JSON.stringify(job));
  return path.relative(root, file);
}

const node = (workflow: Workflow, type: string, id?: number): WorkflowNode => workflow.nodes.find((n) => n.type === type && (id === undefined || n.id === id))!;
const widgets = (workflow: Workflow, type: string, id?: number) => node(workflow, type, id).widgets_values as Record<string, unknown>;

beforeAll(async () => {
  for (const folder of Object.values(settings.folders)) mkdirSync(folder, { recursive: true });
  await prepareFirstRun(settings, () => {}, { client: false });
  // A short clip and its per-frame masks, outside the input folder as a practitioner's files would be.
  mkdirSync(path.join(root, 'media/masks'), { recursive: true });
  mkdirSync(path.join(root, 'jobs'));
  const sample = path.join(settings.folders.input, SAMPLE.video);
  await runTool('ffmpeg', ['-v', 'error', '-i', sample, '-frames:v', String(FRAMES), '-pix_fmt', 'yuv420p', '-y', path.join(root, 'media/clip.mp4')]);
  for (const name of readdirSync(sampleMasks).sort().slice(0, FRAMES)) copyFileSync(path.join(sampleMasks, name), path.join(root, 'media/masks', name));
}, 120_000);

describe('limelight run job.json --video clip.mp4', () => {
  it('copies the clip and masks into the input folder, runs, and saves the expanded workflow with the metrics beside the video', async () => {
    const job = writeJob('job.json', JOB);
    const result = await limelight(['run', job, '--video', 'media/clip.mp4']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const video = path.join(settings.folders.output, 'job/clip_00001.mp4');
    const saved = path.join(settings.folders.output, 'job/clip_00001.json');
    expect(result.stdout).toContain(`output: ${video}`);
    expect(result.stdout).toContain(`workflow: ${saved}`);
    expect(result.stdout).toContain(`copied ${path.join(root, 'media/clip.mp4')} to ${path.join(settings.folders.input, 'clip.mp4')}`);
    expect(readFileSync(path.join(settings.folders.input, 'clip.mp4'))).toEqual(readFileSync(path.join(root, 'media/clip.mp4')));
    expect(readdirSync(path.join(settings.folders.input, 'masks'))).toHaveLength(FRAMES);
    expect((await decodeVideo(video, KEEP_ALL)).frames).toHaveLength(FRAMES);

    const workflow = JSON.parse(readFileSync(saved, 'utf8')) as Workflow;
    expect(widgets(workflow, 'LoadVideo', 3)).toMatchObject({ video: 'clip.mp4' });
    expect(widgets(workflow, 'LoadImageSequence')).toEqual({ folder: 'masks', frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1 });
    expect(widgets(workflow, 'InjectCrossAttention')).toMatchObject({ weight: JOB.cross_attention_weight });
    expect(widgets(workflow, 'Sampler')).toMatchObject({ seed: JOB.seed, steps: JOB.steps, temperature: JOB.temperature });
    const metrics = workflow.extra?.limelight_stability as { frames: number; score: number };
    expect(metrics.frames).toBe(FRAMES);
    expect(result.stdout).toContain(`stability score ${metrics.score.toFixed(1)} / 100`);

    const loaded = await loadGraphFile(saved, registry.objectInfo(engine.env));
    expect(loaded.issues).toEqual([]);
    const validation = engine.validate(loaded.prompt);
    expect(validation.ok ? [] : validation.node_errors).toEqual([]);

    // Again: the copies are reused, nothing is copied twice, and the output counter moves on.
    const again = await limelight(['run', job, '--video', 'media/clip.mp4']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`using ${path.join(settings.folders.input, 'clip.mp4')} (same content as`);
    expect(again.stdout).toContain(`output: ${path.join(settings.folders.output, 'job/clip_00002.mp4')}`);
    expect(readdirSync(settings.folders.input).filter((name) => name.startsWith('clip'))).toEqual(['clip.mp4']);
  }, 120_000);

  it('accepts a model of another family (the SDXL demo model) and names the family in its output', async () => {
    const job = writeJob('sdxl.json', { ...JOB, model: 'limelight-demo-sdxl' });
    const result = await limelight(['run', job, '--video', 'media/clip.mp4']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('model limelight-demo-sdxl: SDXL');
    expect((await decodeVideo(path.join(settings.folders.output, 'sdxl/clip_00001.mp4'), KEEP_ALL)).frames).toHaveLength(FRAMES);
  }, 120_000);

  it('runs on the SD3 demo model too and names its family', async () => {
    const result = await limelight(['run', writeJob('sd3.json', { ...JOB, model: 'limelight-demo-sd3' }), '--video', 'media/clip.mp4']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('model limelight-demo-sd3: Stable Diffusion 3');
    expect((await decodeVideo(path.join(settings.folders.output, 'sd3/clip_00001.mp4'), KEEP_ALL)).frames).toHaveLength(FRAMES);
  }, 120_000);

  it('errors name the key, the value and what is allowed (exit 2); a job without --video is a command-line error (exit 64)', async () => {
    const bad = writeJob('bad.json', { ...JOB, cross_attention_weight: 1.5, steps: '8', colour: 'red' });
    const invalid = await limelight(['run', bad, '--video', 'media/clip.mp4']);
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toContain('unknown key "colour" (value "red")');
    expect(invalid.stdout).toContain('"cross_attention_weight" is 1.5, outside the allowed range 0 to 1');
    expect(invalid.stdout).toContain('"steps" is "8"; it should be an integer from 1 to 200');

    const job = writeJob('short.json', JOB);
    const noVideo = await limelight(['run', job]);
    expect(noVideo.code).toBe(64);
    expect(noVideo.stdout).toContain('is a quick job: give the clip to run it on');
    const withSet = await limelight(['run', job, '--video', 'media/clip.mp4', '--set', 'Sampler.steps=1']);
    expect([withSet.code, withSet.stdout.trim()]).toEqual([64, '--set does not apply to a quick job: change the job file, or run the workflow it saved with --set']);
    // A POST /prompt body has a "prompt" key too, but it is a graph, not a job: it runs.
    writeFileSync(path.join(root, 'jobs', 'body.json'), JSON.stringify({ prompt: { 1: { class_type: 'Int', inputs: { value: 3 } }, 2: { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: 'body' } } } }));
    const body = await limelight(['run', 'jobs/body.json']);
    expect([body.code, body.stdout]).toEqual([0, expect.stringContaining('output: ')]);
    const missingVideo = await limelight(['run', job, '--video', 'media/gone.mp4']);
    expect(missingVideo.code).toBe(2);
    expect(missingVideo.stdout).toContain(`--video media/gone.mp4: ${path.join(root, 'media/gone.mp4')} was not found`);
    const missingMask = await limelight(['run', writeJob('nomask.json', { ...JOB, attention_mask: 'masks' }), '--video', 'media/clip.mp4']);
    expect(missingMask.code).toBe(2);
    expect(missingMask.stdout).toContain(`"attention_mask" is "masks", but ${path.join(root, 'jobs/masks')} was not found`);
  }, 60_000);
});

describe('the quick job expansion', () => {
  const places = { jobFile: path.join(root, 'jobs/job.json'), video: path.join(settings.folders.input, SAMPLE.video), inputFolder: settings.folders.input, modelsFolder: settings.folders.models };
  const expand = (job: Partial<QuickJob>) => expandQuickJob({ ...JOB, ...job }, places, () => {});

  it('is the professional example graph: a job with its settings differs only in the note and the output prefix', async () => {
    const example = JSON.parse(readFileSync('workflows/professional-masked-v2v.json', 'utf8')) as Workflow;
    const job = await expand({ attention_mask: sampleMasks, cross_attention_weight: 0.85, seed: 42, steps: 20 });
    const strip = (w: Workflow) => ({ ...w, nodes: w.nodes.filter((n) => n.type !== 'Note').map((n) => (n.type === 'Encode' ? { ...n, widgets_values: { ...widgets(w, 'Encode'), filename_prefix: '' } } : n)) });
    expect(strip(job)).toEqual(strip(example));
    expect(widgets(job, 'Encode').filename_prefix).toBe('job/limelight-sample');
  });

  it('takes a mask video or a single mask image, and uses files already in the input folder in place', async () => {
    for (const [mask, type, input] of [
      [SAMPLE.maskVideo, 'LoadVideo', 'video'],
      [`${SAMPLE.masksFolder}/${readdirSync(sampleMasks).sort()[0]}`, 'LoadImage', 'image'],
    ] as const) {
      const workflow = await expand({ attention_mask: path.join(settings.folders.input, mask) });
      expect(widgets(workflow, type, 5)[input]).toBe(path.basename(mask));
      const { prompt, issues } = graphFromJson(workflow, registry.objectInfo(engine.env));
      expect(issues).toEqual([]);
      const validation = engine.validate(prompt);
      expect(validation.ok ? [] : validation.node_errors).toEqual([]);
    }
    expect(existsSync(path.join(settings.folders.input, readdirSync(sampleMasks).sort()[0]))).toBe(true); // the image, copied up to the top level
  });

  it('a temperature above 0 samples with euler_ancestral, which uses it; without a prompt the professional one is used', async () => {
    const warm = await expand({ attention_mask: sampleMasks, temperature: 0.4 });
    expect(widgets(warm, 'Sampler')).toMatchObject({ sampler: 'euler_ancestral', temperature: 0.4 });
    expect(widgets(warm, 'TextEncode').text).toBe(widgets(JSON.parse(readFileSync('workflows/professional-masked-v2v.json', 'utf8')) as Workflow, 'TextEncode').text);
    expect(widgets(await expand({ attention_mask: sampleMasks, prompt: 'blue sky' }), 'TextEncode').text).toBe('blue sky');
  });

  it('refuses a missing model, a mask that is not an image, video or folder, and a folder without images', async () => {
    await expect(expand({ model: 'sd15' })).rejects.toThrow(/"model" is "sd15", which is not a model folder .* \(available: limelight-demo, limelight-demo-sdxl, limelight-demo-sd3\)/);
    await expect(expand({ attention_mask: path.join(settings.folders.input, SAMPLE.manifest) })).rejects.toThrow(/is neither an image .* nor a video/);
    mkdirSync(path.join(root, 'empty'));
    await expect(expand({ attention_mask: '../empty' })).rejects.toThrow(`"attention_mask" is "../empty", but ${path.join(root, 'empty')} holds no mask images`);
  });

  it('refuses a mask sequence whose count is neither 1 nor the clip\'s frame count, before copying anything', async () => {
    const shortClip = { ...places, video: path.join(root, 'media/clip.mp4'), inputFolder: path.join(root, 'untouched-input') };
    await expect(expandQuickJob({ ...JOB, attention_mask: sampleMasks }, shortClip, () => {})).rejects.toThrow(
      `which has ${SAMPLE.frames} masks, but the clip ${shortClip.video} has ${FRAMES} frames; give one mask for every frame, or one per frame`,
    );
    expect(existsSync(shortClip.inputFolder)).toBe(false);
  });

  it('parses a valid job and reports every problem of an invalid one at once', () => {
    expect(parseQuickJob({ ...JOB, prompt: 'x' }, 'job.json')).toEqual({ ...JOB, prompt: 'x' });
    const error = (() => {
      try {
        parseQuickJob({ model: 3, attention_mask: 'm', cross_attention_weight: -0.1, temperature: 0, seed: 1.5 }, 'job.json');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(JobError);
    expect(error!.message.split('\n').slice(1)).toEqual([
      expect.stringContaining('"model" is 3; it should be a string'),
      expect.stringContaining('"cross_attention_weight" is -0.1, outside the allowed range 0 to 1'),
      expect.stringContaining('"seed" is 1.5; it should be an integer from 0 to'),
      expect.stringContaining('"steps" is missing; it should be an integer from 1 to 200'),
    ]);
    expect(() => parseQuickJob([1], 'job.json')).toThrow(/a quick job is a JSON object/);
  });
});
