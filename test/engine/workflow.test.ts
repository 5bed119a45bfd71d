import { describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { widgetValuesByName, workflowToPrompt, type Workflow, type WorkflowNode } from '../../common/workflow.ts';
import { makeFolders } from '../helpers/context.ts';

const objectInfo = new NodeRegistry(ALL_NODES).objectInfo({ folders: makeFolders() });

function node(id: number, type: string, extra: Partial<WorkflowNode> = {}): WorkflowNode {
  return { id, type, pos: [0, 0], size: [200, 80], flags: {}, order: id, mode: 0, inputs: [], outputs: [], properties: {}, ...extra };
}

/** Float(1) → Math(2) → SaveText(3), by-name widget values. */
function baseWorkflow(): Workflow {
  return {
    last_node_id: 3,
    last_link_id: 2,
    version: 0.4,
    nodes: [
      node(1, 'Float', { outputs: [{ name: 'FLOAT', type: 'FLOAT', links: [1] }], widgets_values: { value: 1.5 } }),
      node(2, 'Math', {
        inputs: [{ name: 'a', type: 'FLOAT', link: 1, widget: { name: 'a' } }],
        outputs: [{ name: 'FLOAT', type: 'FLOAT', links: [2] }],
        widgets_values: { a: 0, operation: 'multiply', b: 4 },
        title: 'Times four',
      }),
      node(3, 'SaveText', { inputs: [{ name: 'value', type: '*', link: 2 }], widgets_values: { filename_prefix: 'out/x' } }),
    ],
    links: [
      [1, 1, 0, 2, 0, 'FLOAT'],
      [2, 2, 0, 3, 0, 'FLOAT'],
    ],
    groups: [],
    config: {},
    extra: { ds: { scale: 1, offset: [0, 0] }, someEditorField: true },
  };
}

describe('workflow → prompt', () => {
  it('converts widgets by name and links, and a linked widget takes the link', () => {
    const { prompt, errors } = workflowToPrompt(baseWorkflow(), objectInfo);
    expect(errors).toEqual([]);
    expect(prompt).toEqual({
      '1': { class_type: 'Float', inputs: { value: 1.5 }, _meta: { title: 'Float' } },
      '2': { class_type: 'Math', inputs: { a: ['1', 0], operation: 'multiply', b: 4 }, _meta: { title: 'Times four' } },
      '3': { class_type: 'SaveText', inputs: { value: ['2', 0], filename_prefix: 'out/x' }, _meta: { title: 'Save Text' } },
    });
  });

  it('reads ComfyUI positional widget arrays, skipping seed-control values', () => {
    const math = node(2, 'Math', { widgets_values: [2, 'power', 3] });
    expect(widgetValuesByName(math, objectInfo.Math)).toEqual({ a: 2, operation: 'power', b: 3 });
    const seeded = { ...objectInfo.Int, input: { ...objectInfo.Int.input, required: { value: ['INT', { control_after_generate: true }] as [string, Record<string, unknown>], next: ['STRING', {}] as [string, Record<string, unknown>] } }, input_order: { required: ['value', 'next'], optional: [] } };
    expect(widgetValuesByName(node(1, 'Int', { widgets_values: [42, 'randomize', 'hello'] }), seeded)).toEqual({ value: 42, next: 'hello' });
  });

  it('drops muted nodes: their consumers lose the input', () => {
    const wf = baseWorkflow();
    wf.nodes[0].mode = 2;
    const { prompt } = workflowToPrompt(wf, objectInfo);
    expect(prompt['1']).toBeUndefined();
    expect(prompt['2'].inputs).toEqual({ operation: 'multiply', b: 4 });
  });

  it('passes a bypassed node through to its first input of the same type', () => {
    const wf = baseWorkflow();
    wf.nodes[1].mode = 4;
    const { prompt } = workflowToPrompt(wf, objectInfo);
    expect(prompt['2']).toBeUndefined();
    expect(prompt['3'].inputs.value).toEqual(['1', 0]);
  });

  it('follows reroutes and applies primitive nodes as literals', () => {
    const wf = baseWorkflow();
    wf.nodes.push(node(4, 'Reroute', { inputs: [{ name: '', type: '*', link: 2 }], outputs: [{ name: '', type: '*', links: [3] }] }));
    wf.nodes.push(node(5, 'PrimitiveNode', { outputs: [{ name: 'FLOAT', type: 'FLOAT', links: [4] }], widgets_values: [7] }));
    wf.nodes[2].inputs = [{ name: 'value', type: '*', link: 3 }];
    wf.nodes[1].inputs!.push({ name: 'b', type: 'FLOAT', link: 4, widget: { name: 'b' } });
    wf.links.push([3, 4, 0, 3, 0, '*'], [4, 5, 0, 2, 2, 'FLOAT']);
    const { prompt } = workflowToPrompt(wf, objectInfo);
    expect(prompt['3'].inputs.value).toEqual(['2', 0]);
    expect(prompt['2'].inputs.b).toBe(7);
    expect(prompt['4']).toBeUndefined();
    expect(prompt['5']).toBeUndefined();
  });

  it('skips notes and reports unknown node types without throwing', () => {
    const wf = baseWorkflow();
    wf.nodes.push(node(6, 'Note', { widgets_values: { text: 'what this is for' } }));
    wf.nodes.push(node(7, 'SomeCustomNode', { widgets_values: [1, 2] }));
    const { prompt, errors } = workflowToPrompt(wf, objectInfo);
    expect(prompt['6']).toBeUndefined();
    expect(errors).toEqual([{ node_id: '7', message: expect.stringContaining("'SomeCustomNode'") }]);
    expect(prompt['7'].class_type).toBe('SomeCustomNode');
  });

  it('accepts the object link form and ignores unknown widget names', () => {
    const wf = baseWorkflow();
    wf.links = wf.links.map((l) => (Array.isArray(l) ? { id: l[0], origin_id: l[1], origin_slot: l[2], target_id: l[3], target_slot: l[4], type: l[5] } : l));
    wf.nodes[2].widgets_values = { filename_prefix: 'y', obsolete_widget: 3 };
    const { prompt } = workflowToPrompt(wf, objectInfo);
    expect(prompt['3'].inputs).toEqual({ value: ['2', 0], filename_prefix: 'y' });
  });

  it('refuses what is not a workflow with a readable reason', () => {
    const { errors } = workflowToPrompt({ nodes: 'none' }, objectInfo);
    expect(errors[0].message).toMatch(/not a Limelight\/ComfyUI workflow/);
  });
});
