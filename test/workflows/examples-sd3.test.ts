// Every example workflow runs on the SD3 demo model too (its LoadModel switched to limelight-demo-sd3,
// short settings): the Sampler picks flow matching from the model, InjectCrossAttention biases the
// joint attention, and the outputs are what the SD demo run gives (a video and a stability report).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { resolveSettings } from '../../server/config.ts';
import { Engine } from '../../server/engine/engine.ts';
import { workflowToPrompt, type Workflow } from '../../common/workflow.ts';
import { prepareFirstRun } from '../../server/first-run.ts';
import { SD3_DEMO_MODEL_NAME } from '../../server/demo/demo-sd3.ts';

const dir = new URL('../../workflows/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const registry = new NodeRegistry(ALL_NODES);
const settings = resolveSettings({}, {}, mkdtempSync(path.join(tmpdir(), 'limelight-examples-sd3-')));
const engine = new Engine({ registry, folders: settings.folders, memoryBudgetBytes: 2 * 1024 ** 3 });

beforeAll(async () => {
  for (const folder of Object.values(settings.folders)) mkdirSync(folder, { recursive: true });
  await prepareFirstRun(settings, () => {}, { client: false });
}, 120_000);

describe.each(files)('workflows/%s on the SD3 demo model', (file) => {
  it('runs with LoadModel on limelight-demo-sd3 (short settings)', async () => {
    const workflow = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Workflow;
    const { prompt, errors } = workflowToPrompt(workflow, registry.objectInfo(engine.env));
    expect(errors).toEqual([]);
    const loaders = Object.values(prompt).filter((n) => n.class_type === 'LoadModel');
    expect(loaders.length).toBeGreaterThan(0);
    for (const loader of loaders) loader.inputs.model = SD3_DEMO_MODEL_NAME;
    const sampler = Object.values(prompt).find((n) => n.class_type === 'Sampler')!;
    Object.assign(sampler.inputs, { steps: 2, batch_size: 8 });
    const validation = engine.validate(prompt);
    expect(validation.ok ? [] : validation.node_errors).toEqual([]);
    const result = await engine.run(prompt, { promptId: `sd3-${file}` });
    expect(result.error?.exception_message ?? result.status).toBe('success');
    const outputs = Object.values(result.outputs);
    expect([outputs.flatMap((ui) => ui.videos ?? []).length, outputs.flatMap((ui) => ui.metrics ?? []).length]).toEqual([1, 1]);
  }, 240_000);
});
