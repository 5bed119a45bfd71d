// Every example workflow: it converts and validates, is stored exactly as its generator writes it
// (so the editor's by-name format is what is on disk), and runs to completion on each family's demo model.
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
import type { OutputFileRef } from '../../server/media/output-files.ts';
import { sidecarPath } from '../../server/media/workflow-metadata.ts';
import { exampleWorkflows } from '../../server/example-workflows.ts';
import { DEMO_MODELS } from '../../server/demo/demo-models.ts';

const dir = new URL('../../workflows/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const registry = new NodeRegistry(ALL_NODES);
const settings = resolveSettings({}, {}, mkdtempSync(path.join(tmpdir(), 'limelight-examples-')));
const engine = new Engine({ registry, folders: settings.folders, memoryBudgetBytes: 2 * 1024 ** 3 });

beforeAll(async () => {
  for (const folder of Object.values(settings.folders)) mkdirSync(folder, { recursive: true });
  await prepareFirstRun(settings, () => {}, { client: false });
}, 120_000);

describe.each(files)('workflows/%s', (file) => {
  const text = readFileSync(new URL(file, dir), 'utf8');
  const workflow = JSON.parse(text) as Workflow;

  it('is the editor format with widget values by name and a note saying what it is for', () => {
    expect(workflow.version).toBe(0.4);
    for (const node of workflow.nodes) expect(Array.isArray(node.widgets_values)).toBe(false);
    const note = workflow.nodes.find((n) => n.type === 'Note');
    expect(String((note?.widgets_values as { text?: string })?.text ?? '').length).toBeGreaterThan(20);
    expect(`${JSON.stringify(workflow, null, 2)}\n`).toBe(text); // round-trips byte for byte
  });

  it('is what workflows/make.ts writes today (regenerate with `npx tsx workflows/make.ts`)', () => {
    expect(text).toBe(`${JSON.stringify(exampleWorkflows()[file], null, 2)}\n`);
  });

  it.each(Object.keys(DEMO_MODELS))('converts and validates, then runs on %s (short settings)', async (model) => {
    const { prompt, errors } = workflowToPrompt(workflow, registry.objectInfo(engine.env));
    for (const node of Object.values(prompt).filter((n) => n.class_type === 'LoadModel')) node.inputs.model = model;
    expect(errors).toEqual([]);
    const validation = engine.validate(prompt);
    expect(validation.ok ? [] : validation.node_errors).toEqual([]);
    const sampler = Object.values(prompt).find((n) => n.class_type === 'Sampler')!;
    Object.assign(sampler.inputs, { steps: 2, batch_size: 16 });
    const result = await engine.run(prompt, { promptId: `${file}-${model}`, extraData: { workflow } });
    expect(result.error?.exception_message ?? result.status).toBe('success');
    const outputs = Object.values(result.outputs);
    const videos = outputs.flatMap((ui) => (ui.videos ?? []) as OutputFileRef[]);
    const metrics = outputs.flatMap((ui) => (ui.metrics ?? []) as unknown[]);
    expect([videos.length, metrics.length]).toEqual([1, 1]);
    // Encode stores the report in the sidecar, and the sidecar is still the workflow.
    const sidecar = JSON.parse(readFileSync(sidecarPath(path.join(settings.folders.output, videos[0]!.subfolder, videos[0]!.filename)), 'utf8')) as Workflow;
    expect(sidecar.extra?.limelight_stability).toEqual(metrics[0]);
    expect({ ...sidecar, extra: workflow.extra }).toEqual(workflow);
  }, 180_000);
});
