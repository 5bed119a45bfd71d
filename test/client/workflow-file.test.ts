// Opening and saving ComfyUI workflow files: through the editor's real node classes on litegraph (no
// canvas), a file opened and saved without edits comes back equal except for the view (`extra.ds`);
// edits land in the file's own form; VHS nodes open as Load Video / Encode and are saved back as VHS.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LGraph, LiteGraph } from '@comfyorg/litegraph';
import { describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { COMFY_NODE_MAPPINGS } from '../../common/comfyui-nodes.ts';
import { workflowToPrompt, type Workflow, type WorkflowNode } from '../../common/workflow.ts';
import { describeNodeClasses } from '../../common/node-defs.ts';
import { nodeCatalog, openWorkflowFile, saveWorkflowFile } from '../../client/src/model/workflow-file.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'comfyui');
const dir = mkdtempSync(path.join(tmpdir(), 'limelight-wf-file-'));
const objectInfo = new NodeRegistry(ALL_NODES).objectInfo({ folders: { input: dir, output: dir, temp: dir, models: dir } });
const descriptions = describeNodeClasses(objectInfo);
// The editor's node classes type-check against the DOM, which this Node program leaves out: loaded untyped.
const editorModule = (name: string) => import(`../../client/src/graph/${name}.ts`);
const { registerNodeClasses } = await editorModule('node-classes');
const { registerPlaceholders } = await editorModule('placeholder-node');
const { registerVirtualNodes } = await editorModule('virtual-nodes');
registerNodeClasses(descriptions);
registerVirtualNodes();
const catalog = nodeCatalog(descriptions);

function fixture(name: string): Workflow {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
}

function withoutView(workflow: Workflow): Workflow {
  const { ds: _view, ...extra } = workflow.extra ?? {};
  return { ...workflow, extra };
}

/** Opens the file as the editor does, lets `edit` change the graph, and saves it as the editor does. */
function roundTrip(file: Workflow, edit: (graph: LGraph) => void = () => {}): Workflow {
  const opened = openWorkflowFile(structuredClone(file), catalog);
  registerPlaceholders(opened.nodes.map((n) => n.type));
  const graph = new LGraph();
  graph.configure(opened as never);
  edit(graph);
  const serialized = JSON.parse(JSON.stringify(graph.serialize({ sortNodes: true }))) as Workflow;
  return JSON.parse(JSON.stringify(saveWorkflowFile(serialized, file, catalog)));
}

/** An editor node (a LimelightNode): what the tests call on it. */
interface EditorNode {
  inputs: { name: string }[];
  outputs: { name: string }[];
  setWidgetValue(name: string, value: unknown): void;
  connect(slot: number, target: EditorNode, targetSlot: number): unknown;
}

function node(graph: LGraph, id: number): EditorNode {
  return graph.getNodeById(id) as unknown as EditorNode;
}

function saved(workflow: Workflow, id: number): WorkflowNode {
  return workflow.nodes.find((n) => n.id === id)!;
}

const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));

describe('ComfyUI workflow files', () => {
  it('has the fixture files', () => {
    expect(files).toEqual(expect.arrayContaining(['default-txt2img.json', 'vhs-v2v.json']));
  });

  it.each(files)('%s opened and saved without edits is equal except for the view', (file) => {
    expect(withoutView(roundTrip(fixture(file)))).toEqual(withoutView(fixture(file)));
  });

  it('writes edits of nodes with positional values back into their lists', () => {
    const file = fixture('default-txt2img.json');
    const result = roundTrip(file, (graph) => {
      node(graph, 11).setWidgetValue('image', 'other.png');
      node(graph, 10).setWidgetValue('max_frames', 3);
      node(graph, 12).setWidgetValue('text', 'edited');
    });
    // LoadImage keeps ComfyUI's upload value after the image; PreviewImage gains the one value changed.
    expect(saved(result, 11).widgets_values).toEqual(['other.png', 'image']);
    expect(saved(result, 10).widgets_values).toEqual([3]);
    expect(saved(result, 12).widgets_values).toEqual(['edited']);
    expect(saved(result, 10).inputs).toEqual(saved(file, 10).inputs);
    // Unknown nodes (KSampler) keep their values as loaded.
    expect(saved(result, 3).widgets_values).toEqual(saved(file, 3).widgets_values);
  });

  it('saves a widget socket the file did not list once a link drives it, and a new node after the file’s nodes', () => {
    const file = fixture('default-txt2img.json');
    const result = roundTrip(file, (graph) => {
      const int = LiteGraph.createNode('Int')!;
      graph.add(int);
      const preview = node(graph, 10);
      (int as unknown as EditorNode).connect(0, preview, preview.inputs.findIndex((i) => i.name === 'max_frames'));
    });
    expect(saved(result, 10).inputs!.map((i) => [i.name, i.link !== null])).toEqual([['images', true], ['max_frames', true]]);
    const added = result.nodes.at(-1)!;
    expect(added.type).toBe('Int');
    expect(added.widgets_values).toEqual({ value: 0 });
    expect(result.nodes.slice(0, -1).map((n) => n.id)).toEqual(file.nodes.map((n) => n.id));
  });
});

describe('VideoHelperSuite nodes', () => {
  it('opens VHS Load Video and Video Combine as Load Video and Encode, values mapped by name', () => {
    const opened = openWorkflowFile(fixture('vhs-v2v.json'), catalog);
    expect(saved(opened, 1)).toMatchObject({
      type: 'LoadVideo',
      widgets_values: { video: 'street.mp4', force_rate: 0, width: 512, height: 0, frame_load_cap: 48, skip_first_frames: 0, select_every_nth: 1 },
    });
    expect(saved(opened, 4)).toMatchObject({ type: 'Encode', widgets_values: { fps: 24, format: 'mp4-h264', crf: 19, filename_prefix: 'restyled/street' } });
    // ComfyUI's outputs without a Limelight counterpart follow the Limelight ones, with their links moved.
    expect(saved(opened, 1).outputs!.map((o) => o.name)).toEqual(['IMAGE', 'frame_count', 'fps', 'audio', 'video_info']);
  });

  it('moves the links of outputs whose slots differ, and back on saving', () => {
    const file = fixture('vhs-v2v.json');
    // A link from VHS Load Video's `audio` (slot 2) into Video Combine's `audio` (input 1).
    file.nodes.find((n) => n.id === 1)!.outputs![2].links = [6];
    file.nodes.find((n) => n.id === 4)!.inputs![1].link = 6;
    file.links.push([6, 1, 2, 4, 1, 'AUDIO']);
    file.last_link_id = 6;
    const opened = openWorkflowFile(structuredClone(file), catalog);
    expect(opened.links.find((l) => Array.isArray(l) && l[0] === 6)).toEqual([6, 1, 3, 4, 1, 'AUDIO']);
    expect(withoutView(roundTrip(file))).toEqual(withoutView(file));
  });

  it('saves edits back as the VHS node, keeping the values Limelight has no counterpart for', () => {
    const file = fixture('vhs-v2v.json');
    const result = roundTrip(file, (graph) => {
      node(graph, 4).setWidgetValue('fps', 30);
      node(graph, 4).setWidgetValue('format', 'webm-vp9');
      node(graph, 1).setWidgetValue('width', 768);
    });
    expect(saved(result, 4)).toMatchObject({ type: 'VHS_VideoCombine' });
    expect(saved(result, 4).widgets_values).toEqual({ ...(saved(file, 4).widgets_values as object), frame_rate: 30, format: 'video/webm' });
    expect(saved(result, 1).widgets_values).toEqual({ ...(saved(file, 1).widgets_values as object), custom_width: 768 });
    expect(saved(result, 1).outputs).toEqual(saved(file, 1).outputs);
  });

  it('saves a linked Load Video output VHS lacks (fps) after VHS’s outputs, and reopens it in its place', () => {
    const file = fixture('vhs-v2v.json');
    const result = roundTrip(file, (graph) => {
      const [loader, encode] = [node(graph, 1), node(graph, 4)];
      loader.connect(loader.outputs.findIndex((o) => o.name === 'fps'), encode, encode.inputs.findIndex((i) => i.name === 'fps'));
    });
    const loader = saved(result, 1);
    expect(loader.outputs!.map((o) => o.name)).toEqual(['IMAGE', 'frame_count', 'audio', 'video_info', 'fps']);
    const link = result.links.find((l) => Array.isArray(l) && l[1] === 1 && l[3] === 4)!;
    expect(link).toEqual([6, 1, 4, 4, expect.any(Number), 'FLOAT']);
    expect(saved(result, 4).inputs!.find((i) => i.name === 'frame_rate')?.link).toBe(6);
    expect(roundTrip(result)).toEqual(result);
    const { prompt } = workflowToPrompt(result, objectInfo);
    expect(prompt['4'].inputs.fps).toEqual(['1', 2]);
  });

  it('builds the prompt from the VHS file: Limelight types and values, the primitive and the reroute followed', () => {
    const { prompt } = workflowToPrompt(fixture('vhs-v2v.json'), objectInfo);
    expect(prompt['1']).toMatchObject({
      class_type: 'LoadVideo',
      inputs: { video: 'street.mp4', force_rate: 0, width: 512, height: 0, frame_load_cap: 48, skip_first_frames: 0, select_every_nth: 1 },
    });
    expect(prompt['4']).toMatchObject({ class_type: 'Encode', inputs: { images: ['2', 0], fps: 24, format: 'mp4-h264', crf: 19, filename_prefix: 'restyled/street' } });
  });

  it('maps only widgets, values and outputs the Limelight nodes have', () => {
    for (const mapping of COMFY_NODE_MAPPINGS) {
      const info = objectInfo[mapping.as];
      const inputs = { ...info.input.required, ...info.input.optional };
      for (const widget of [...Object.values(mapping.widgets), ...Object.values(mapping.inputs)]) expect(inputs[widget], `${mapping.type} → ${mapping.as}.${widget}`).toBeDefined();
      for (const [widget, pairs] of Object.entries(mapping.values ?? {})) {
        for (const [, value] of pairs) expect(inputs[widget][0]).toContain(value);
      }
      for (const output of Object.values(mapping.outputs)) expect(info.output_name).toContain(output);
    }
  });
});
