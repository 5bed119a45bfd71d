// Streaming a clip in chunks gives exactly what one pass gives: for every example workflow (short
// settings), at two chunk sizes, the encoded video decodes to the same frames and the stability report
// has the same numbers — temperature (fresh noise between steps) and keep_mask included, and on the SDXL demo model.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { resolveSettings } from '../../server/config.ts';
import { Engine, type RunOptions } from '../../server/engine/engine.ts';
import { workflowToPrompt } from '../../common/workflow.ts';
import type { Prompt } from '../../common/prompt.ts';
import type { EngineEvent } from '../../common/events.ts';
import { prepareFirstRun } from '../../server/first-run.ts';
import type { OutputFileRef } from '../../server/media/output-files.ts';
import { decodeVideo, KEEP_ALL } from '../../server/media/video-decode.ts';
import { exampleWorkflows } from '../../server/example-workflows.ts';
import { DEMO_SDXL_MODEL_NAME } from '../../server/demo/demo-sdxl.ts';
import { SD3_DEMO_MODEL_NAME } from '../../server/demo/demo-sd3.ts';

const FRAMES = 24;
const registry = new NodeRegistry(ALL_NODES);
const settings = resolveSettings({}, {}, mkdtempSync(path.join(tmpdir(), 'limelight-stream-')));

beforeAll(async () => {
  for (const folder of Object.values(settings.folders)) mkdirSync(folder, { recursive: true });
  await prepareFirstRun(settings, () => {}, { client: false });
}, 120_000);

/** The example as an API prompt with short settings: 24 frames (clip and masks capped alike), 2 steps. */
function shortPrompt(file: string, change: (prompt: Prompt) => void = () => {}): Prompt {
  const engine = new Engine({ registry, folders: settings.folders, memoryBudgetBytes: 0 });
  const { prompt, errors } = workflowToPrompt(exampleWorkflows()[file]!, registry.objectInfo(engine.env));
  expect(errors).toEqual([]);
  for (const node of Object.values(prompt)) {
    if (node.class_type === 'LoadVideo' || node.class_type === 'LoadImageSequence') {
      // The keyframe folder keeps its three masks; the clip and per-frame masks are cut to 24 frames.
      if (!String(node.inputs.folder ?? '').includes('keyframes')) node.inputs.frame_load_cap = FRAMES;
    }
    if (node.class_type === 'KeyframeInterpolate') node.inputs.end_frame = FRAMES;
    if (node.class_type === 'Sampler') node.inputs.steps = 2;
  }
  change(prompt);
  return prompt;
}

interface Outcome {
  frames: string[];
  metrics: unknown;
  events: EngineEvent[];
}

async function run(prompt: Prompt, options: Partial<RunOptions>): Promise<Outcome> {
  const engine = new Engine({ registry, folders: settings.folders, memoryBudgetBytes: 512 * 1024 ** 2 });
  const events: EngineEvent[] = [];
  const result = await engine.run(prompt, { promptId: 'p', onEvent: (event) => events.push(event), ...options });
  expect(result.validation?.node_errors ?? {}).toEqual({});
  expect(result.error?.exception_message ?? result.status).toBe('success');
  const outputs = Object.values(result.outputs);
  const [video] = outputs.flatMap((ui) => (ui.videos ?? []) as OutputFileRef[]);
  const decoded = await decodeVideo(path.join(settings.folders.output, video!.subfolder, video!.filename), KEEP_ALL);
  const frames = decoded.frames.map((frame) => createHash('sha256').update(frame).digest('hex'));
  return { frames, metrics: outputs.flatMap((ui) => (ui.metrics ?? []) as unknown[])[0], events };
}

const cases: [string, string, (prompt: Prompt) => void][] = [
  ...Object.keys(exampleWorkflows()).map((file): [string, string, (prompt: Prompt) => void] => [file, file, () => {}]),
  [
    'professional with temperature 0.5 and a keep_mask',
    'professional-masked-v2v.json',
    (prompt) => {
      const sampler = Object.values(prompt).find((node) => node.class_type === 'Sampler')!;
      const mask = Object.entries(prompt).find(([, node]) => node.class_type === 'MaskFromImage')![0];
      Object.assign(sampler.inputs, { sampler: 'euler_ancestral', temperature: 0.5, keep_mask: [mask, 0] });
    },
  ],
  [
    'professional on the SDXL demo model (text_embeds and time_ids per chunk)',
    'professional-masked-v2v.json',
    (prompt) => {
      for (const node of Object.values(prompt)) if (node.class_type === 'LoadModel') node.inputs.model = DEMO_SDXL_MODEL_NAME;
    },
  ],
  [
    'professional on the SD3 demo (flow matching, joint attention), temperature 0.5 and a keep_mask',
    'professional-masked-v2v.json',
    (prompt) => {
      for (const node of Object.values(prompt)) if (node.class_type === 'LoadModel') node.inputs.model = SD3_DEMO_MODEL_NAME;
      const sampler = Object.values(prompt).find((node) => node.class_type === 'Sampler')!;
      const mask = Object.entries(prompt).find(([, node]) => node.class_type === 'MaskFromImage')![0];
      Object.assign(sampler.inputs, { sampler: 'euler_ancestral', temperature: 0.5, keep_mask: [mask, 0] });
    },
  ],
];

describe.each(cases)('%s', (_name, file, change) => {
  it('streamed in chunks of 8 and of 16 frames: the same decoded frames and metrics as one pass', async () => {
    const prompt = shortPrompt(file, change);
    const whole = await run(prompt, { stream: false });
    expect(whole.frames).toHaveLength(FRAMES);
    expect(whole.events.some((event) => event.type === 'progress' && event.data.clip)).toBe(false);
    for (const chunkFrames of [8, 16]) {
      const chunked = await run(prompt, { chunkFrames });
      expect(chunked.frames).toEqual(whole.frames);
      expect(chunked.metrics).toEqual(whole.metrics);
      // It did stream: frames done / total after each chunk, ending at the clip's length with no time left.
      const clip = chunked.events.flatMap((event) => (event.type === 'progress' && event.data.label === 'frames' ? [event.data.clip!] : []));
      expect(clip.map((c) => c.done)).toEqual(Array.from({ length: Math.ceil(FRAMES / chunkFrames) }, (_, i) => Math.min(FRAMES, (i + 1) * chunkFrames)));
      expect(clip.at(-1)).toMatchObject({ done: FRAMES, total: FRAMES, eta_seconds: 0 });
    }
  }, 300_000);
});

describe('checks the streamed path makes as one pass does', () => {
  it('a linked STRING that a per-frame node\'s COMBO does not list fails with value_not_in_list on that node and input, streamed or not', async () => {
    const prompt = shortPrompt('hobbyist-keyframes.json', (p) => {
      const keyframes = Object.values(p).find((node) => node.class_type === 'KeyframeInterpolate')!;
      p['900'] = { class_type: 'Text', inputs: { text: 'wipe' } };
      keyframes.inputs.method = ['900', 0];
    });
    const keyframesId = Object.entries(prompt).find(([, node]) => node.class_type === 'KeyframeInterpolate')![0];
    for (const options of [{ stream: false }, { chunkFrames: 8 }]) {
      const engine = new Engine({ registry, folders: settings.folders, memoryBudgetBytes: 0 });
      const result = await engine.run(prompt, { promptId: 'p', ...options });
      expect(result.status, JSON.stringify(options)).toBe('error');
      expect(result.error).toMatchObject({ node_id: keyframesId, node_type: 'KeyframeInterpolate', input_name: 'method', exception_type: 'value_not_in_list' });
    }
  }, 120_000);
});
