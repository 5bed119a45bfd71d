// A shortened clip in the example workflows: capped consistently it runs; a mask count that cannot fit
// is refused before anything runs, by the engine, `limelight validate`/`run` (exit 2) and POST /prompt (400).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { resolveSettings } from '../../server/config.ts';
import { Engine } from '../../server/engine/engine.ts';
import type { EngineEvent } from '../../common/events.ts';
import type { Prompt } from '../../common/prompt.ts';
import { workflowToPrompt } from '../../common/workflow.ts';
import { prepareFirstRun } from '../../server/first-run.ts';
import { startTestServer, type TestServer } from '../helpers/api-server.ts';
import { limelight } from '../helpers/cli.ts';
import { exampleWorkflows } from '../../server/example-workflows.ts';

const registry = new NodeRegistry(ALL_NODES);
const root = mkdtempSync(path.join(tmpdir(), 'limelight-frame-cap-'));
const settings = resolveSettings({}, {}, root);
const engine = new Engine({ registry, folders: settings.folders, memoryBudgetBytes: 1024 ** 3 });
let server: TestServer | undefined;

beforeAll(async () => {
  for (const folder of Object.values(settings.folders)) mkdirSync(folder, { recursive: true });
  await prepareFirstRun(settings, () => {}, { client: false });
}, 120_000);
afterAll(async () => server?.close());

function example(name: string, caps: { video: number; masks?: number }): Prompt {
  const { prompt } = workflowToPrompt(exampleWorkflows()[name]!, registry.objectInfo(engine.env));
  Object.assign(prompt['3']!.inputs, { frame_load_cap: caps.video });
  if (caps.masks !== undefined) Object.assign(prompt['5']!.inputs, { frame_load_cap: caps.masks });
  Object.assign(prompt['7']!.inputs, { steps: 1 });
  return prompt;
}

const MASK_MISMATCH =
  'mask: the mask sequence has 64 frames but the clip has 8; cap it the same way (frame_load_cap=8 on node 5, LoadImageSequence), or give one mask for every frame';

describe('a shortened clip (frame_load_cap=8) in the example workflows', () => {
  it('the professional workflow runs with the mask sequence capped the same way', async () => {
    const prompt = example('professional-masked-v2v.json', { video: 8, masks: 8 });
    expect(await engine.check(prompt)).toMatchObject({ ok: true });
    const result = await engine.run(prompt, { promptId: 'capped' });
    expect(result.error?.exception_message ?? result.status).toBe('success');
    expect((result.outputs['10']!.metrics as { frames: number }[])[0]!.frames).toBe(8);
  }, 120_000);

  it('with the 64-mask folder uncapped it is refused on InjectCrossAttention\'s mask before any node runs', async () => {
    const prompt = example('professional-masked-v2v.json', { video: 8 });
    const checked = await engine.check(prompt);
    expect(checked.ok).toBe(false);
    const errors = checked.ok ? {} : checked.node_errors;
    expect(errors['6']).toMatchObject({ class_type: 'InjectCrossAttention', dependent_outputs: ['9', '10'] });
    expect(errors['6']!.errors.map((e) => [e.extra_info.input_name, e.details])).toEqual([['mask', MASK_MISMATCH]]);
    // The report compares the same masks with the clip, so it names its mask input too.
    expect(errors['10']!.errors[0]!.extra_info.input_name).toBe('mask');

    engine.memory.clear();
    const events: EngineEvent[] = [];
    const result = await engine.run(prompt, { promptId: 'refused', onEvent: (e) => events.push(e) });
    expect([result.status, result.executed, events]).toEqual(['invalid', [], []]);
    expect(engine.memory.stats().entries).toBe(0);
  });

  it('the hobbyist workflow is refused on KeyframeInterpolate\'s keyframes (60 is past frame 8)', async () => {
    const checked = await engine.check(example('hobbyist-keyframes.json', { video: 8 }));
    const errors = checked.ok ? {} : checked.node_errors;
    expect(errors['12']!.errors.map((e) => e.extra_info.input_name)).toEqual(['keyframes']);
    expect(errors['12']!.errors[0]!.details).toMatch(/frame 60 is beyond the clip's 8 frames/);
  });

  it('limelight validate and run exit 2 and print the node error; the capped prompt validates', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'limelight-frame-cap-cli-'));
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify(example('professional-masked-v2v.json', { video: 8 })));
    writeFileSync(path.join(dir, 'good.json'), JSON.stringify(example('professional-masked-v2v.json', { video: 8, masks: 8 })));
    const flags = ['--input', settings.folders.input, '--models', settings.folders.models, '--output', path.join(dir, 'out'), '--cache-dir', path.join(dir, 'cache')];
    for (const command of ['validate', 'run']) {
      const refused = await limelight([command, 'bad.json', ...flags], dir);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stdout).toContain('node 6 (');
      expect(refused.stdout).toContain(MASK_MISMATCH.slice('mask: '.length));
      expect(refused.stdout).not.toMatch(/^output: /m);
    }
    const valid = await limelight(['validate', 'good.json', ...flags], dir);
    expect(valid.code, valid.stdout).toBe(0);
  }, 120_000);

  it('POST /prompt answers 400 with the node_errors and queues nothing', async () => {
    server = await startTestServer({ settings: { ...settings, root } as TestServer['settings'] });
    const response = await server.post('/prompt', { prompt: example('professional-masked-v2v.json', { video: 8 }) });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.type).toBe('prompt_outputs_failed_validation');
    expect(body.node_errors['6'].errors[0]).toMatchObject({ type: 'custom_validation_failed', details: MASK_MISMATCH, extra_info: { input_name: 'mask' } });
    expect((await (await server.get('/queue')).json()).queue_pending).toEqual([]);
  });
});
