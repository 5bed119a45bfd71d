// The editor's workflow format (what the canvas serializes: widget values by name, a socket for every
// widget) to the API prompt and back.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { workflowToPrompt, type Workflow } from '../../common/workflow.ts';
import { promptToWorkflow } from '../../common/prompt-to-workflow.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'limelight-wf-'));
const objectInfo = new NodeRegistry(ALL_NODES).objectInfo({ folders: { input: dir, output: dir, temp: dir, models: dir } });

/** Float → Math.a, Math → SaveText, as the editor serializes it (captured from the canvas). */
const editorWorkflow: Workflow = {
  last_node_id: 3,
  last_link_id: 2,
  nodes: [
    {
      id: 1, type: 'Float', pos: [60, 80], size: [240, 58], flags: {}, order: 0, mode: 0,
      inputs: [{ name: 'value', type: 'FLOAT', widget: { name: 'value' }, link: null }],
      outputs: [{ name: 'FLOAT', type: 'FLOAT', links: [1] }],
      properties: {}, widgets_values: { value: 10 },
    },
    {
      id: 2, type: 'Math', title: 'times', pos: [380, 80], size: [240, 126], flags: {}, order: 1, mode: 0,
      inputs: [
        { name: 'a', type: 'FLOAT', widget: { name: 'a' }, link: 1 },
        { name: 'operation', type: 'COMBO', widget: { name: 'operation' }, link: null },
        { name: 'b', type: 'FLOAT', widget: { name: 'b' }, link: null },
      ],
      outputs: [{ name: 'FLOAT', type: 'FLOAT', links: [2] }, { name: 'INT', type: 'INT', links: null }],
      properties: {}, widgets_values: { a: 0, operation: 'multiply', b: 3 },
    },
    {
      id: 3, type: 'SaveText', pos: [700, 80], size: [240, 58], flags: {}, order: 2, mode: 0,
      inputs: [
        { name: 'value', type: '*', link: 2 },
        { name: 'filename_prefix', type: 'STRING', widget: { name: 'filename_prefix' }, link: null },
      ],
      outputs: [], properties: {}, widgets_values: { filename_prefix: 'limelight/text' },
    },
  ],
  links: [
    [1, 1, 0, 2, 0, 'FLOAT'],
    [2, 2, 0, 3, 0, 'FLOAT'],
  ],
  groups: [], config: {}, extra: {}, version: 0.4,
};

const expectedPrompt = {
  '1': { class_type: 'Float', inputs: { value: 10 }, _meta: { title: 'Float' } },
  '2': { class_type: 'Math', inputs: { a: ['1', 0], operation: 'multiply', b: 3 }, _meta: { title: 'times' } },
  '3': { class_type: 'SaveText', inputs: { value: ['2', 0], filename_prefix: 'limelight/text' }, _meta: { title: 'Save Text' } },
};

describe('editor workflow → API prompt', () => {
  it('turns widget values by name into literals and links into [source, slot]', () => {
    expect(workflowToPrompt(editorWorkflow, objectInfo)).toEqual({ prompt: expectedPrompt, errors: [] });
  });

  it('reads ComfyUI positional widget values, skipping the seed control value', () => {
    const sampler = {
      id: 5, type: 'Sampler', mode: 0, inputs: [],
      widgets_values: [42, 'randomize', 4, 1.5, 'euler', 0, 0.6, 1, false],
    };
    const { prompt } = workflowToPrompt({ nodes: [sampler], links: [] }, objectInfo);
    expect(prompt['5'].inputs).toMatchObject({ seed: 42, steps: 4, cfg: 1.5, sampler: 'euler', temperature: 0, denoise: 0.6 });
  });

  it('leaves out muted nodes and notes', () => {
    const muted = structuredClone(editorWorkflow);
    muted.nodes[0].mode = 2;
    muted.nodes.push({ id: 9, type: 'Note', widgets_values: { text: 'what this graph is for' } });
    const { prompt } = workflowToPrompt(muted, objectInfo);
    expect(Object.keys(prompt)).toEqual(['2', '3']);
    expect(prompt['2'].inputs.a).toBeUndefined();
  });
});

describe('API prompt → editor workflow (a dropped file that carries only the prompt)', () => {
  const rebuilt = promptToWorkflow(expectedPrompt, objectInfo);

  it('converts back to the same prompt', () => {
    expect(workflowToPrompt(rebuilt, objectInfo)).toEqual({ prompt: expectedPrompt, errors: [] });
  });

  it('gives every widget its socket, in the order the node declares them', () => {
    const math = rebuilt.nodes.find((n) => n.type === 'Math')!;
    expect(math.inputs).toEqual([
      { name: 'a', type: 'FLOAT', link: 1, widget: { name: 'a' } },
      { name: 'operation', type: 'COMBO', link: null, widget: { name: 'operation' } },
      { name: 'b', type: 'FLOAT', link: null, widget: { name: 'b' } },
    ]);
    expect(math.widgets_values).toEqual({ operation: 'multiply', b: 3 });
    expect(math.title).toBe('times');
  });

  it('types links by their output and lays nodes out left to right by depth', () => {
    expect(rebuilt.links).toEqual([
      [1, 1, 0, 2, 0, 'FLOAT'],
      [2, 2, 0, 3, 0, 'FLOAT'],
    ]);
    const x = rebuilt.nodes.map((n) => (n.pos as number[])[0]);
    expect(x[0]).toBeLessThan(x[1]);
    expect(x[1]).toBeLessThan(x[2]);
    expect(rebuilt.last_node_id).toBe(3);
    expect(rebuilt.last_link_id).toBe(2);
  });

  it('stacks the nodes of one column without overlap', () => {
    const workflow = promptToWorkflow(
      {
        '1': { class_type: 'Float', inputs: { value: 1 } },
        '2': { class_type: 'Math', inputs: { a: 1, operation: 'add', b: 2 } },
        '3': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: 'x' } },
      },
      objectInfo,
    );
    const [float, math] = workflow.nodes.map((n) => n.pos as number[]);
    expect(float[0]).toBe(math[0]);
    // Float is drawn about 90 px tall (title, socket row, widget row): Math starts below it and a gap.
    expect(math[1] - float[1]).toBeGreaterThanOrEqual(130);
  });

  it('keeps nodes of unknown types with their links and values, and wrapped lists unwrapped', () => {
    const workflow = promptToWorkflow(
      {
        a: { class_type: 'Float', inputs: { value: 1 } },
        b: { class_type: 'FancyCustomNode', inputs: { source: ['a', 0], sizes: { __value__: [1, 2] } } },
      },
      objectInfo,
    );
    const custom = workflow.nodes.find((n) => n.type === 'FancyCustomNode')!;
    expect(custom.id).toBe(2);
    expect(custom.inputs).toEqual([{ name: 'source', type: '*', link: 1 }]);
    expect(custom.widgets_values).toEqual({ sizes: [1, 2] });
    expect(workflowToPrompt(workflow, objectInfo).errors).toEqual([{ node_id: '2', message: expect.stringContaining('FancyCustomNode') }]);
  });

  it('gives unknown nodes the outputs their links leave from, typed by what they feed, so every link is drawn', () => {
    const workflow = promptToWorkflow(
      {
        '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5.safetensors' } },
        '3': { class_type: 'KSampler', inputs: { model: ['4', 0], seed: 1 } },
        '6': { class_type: 'TextEncode', inputs: { clip: ['4', 1], text: 'a cat' } },
        '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
      },
      objectInfo,
    );
    const checkpoint = workflow.nodes.find((n) => n.id === 4)!;
    expect(checkpoint.outputs!.map((o) => [o.name, o.type])).toEqual([['output 0', '*'], ['CLIP', 'CLIP'], ['VAE', 'VAE']]);
    expect(workflow.links).toHaveLength(4);
    for (const link of workflow.links as [number, number, number, number, number, string][]) {
      const [id, origin, slot, target, targetSlot] = link;
      expect(workflow.nodes.find((n) => n.id === origin)!.outputs![slot].links).toContain(id);
      expect(workflow.nodes.find((n) => n.id === target)!.inputs![targetSlot].link).toBe(id);
    }
  });
});
