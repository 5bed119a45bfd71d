// The editor's workflow format (litegraph `serialize()`, version 0.4, widget values stored by name)
// and its conversion to an API prompt. Pure: it reads only the object info it is given, so the
// browser client can use it as well.
import { Ajv } from 'ajv';
import { adoptComfyNodes, type OutputsOf } from './comfyui-nodes.ts';
import type { Prompt } from './prompt.ts';
import type { ObjectInfoEntry } from './object-info.ts';

export interface WorkflowInput {
  name: string;
  type: string;
  link: number | null;
  widget?: { name: string };
  [extra: string]: unknown;
}

export interface WorkflowNode {
  id: number | string;
  type: string;
  title?: string;
  pos?: unknown;
  size?: unknown;
  mode?: number;
  inputs?: WorkflowInput[];
  outputs?: { name: string; type: string; links?: number[] | null; [extra: string]: unknown }[];
  properties?: Record<string, unknown>;
  /** By name (ours); ComfyUI's positional arrays are read too. */
  widgets_values?: Record<string, unknown> | unknown[];
  [extra: string]: unknown;
}

/** `[id, origin_id, origin_slot, target_id, target_slot, type]`, or the object form of newer editors. */
export type WorkflowLink =
  | [number, number | string, number, number | string, number, string]
  | { id: number; origin_id: number | string; origin_slot: number; target_id: number | string; target_slot: number; type: string };

export interface Workflow {
  last_node_id?: number;
  last_link_id?: number;
  nodes: WorkflowNode[];
  links: WorkflowLink[];
  groups?: unknown[];
  config?: unknown;
  extra?: Record<string, unknown>;
  version?: number;
  [extra: string]: unknown;
}

export const NODE_MODE = { ALWAYS: 0, NEVER: 2, BYPASS: 4 } as const;

/** Editor-only node types: they never reach the engine. */
export const VIRTUAL_NODE_TYPES = ['Note', 'MarkdownNote', 'Reroute', 'PrimitiveNode'] as const;

export const WORKFLOW_SCHEMA = {
  type: 'object',
  required: ['nodes', 'links'],
  properties: {
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type'],
        properties: {
          id: { type: ['integer', 'string'] },
          type: { type: 'string' },
          mode: { type: 'integer' },
          inputs: {
            type: 'array',
            items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, link: { type: ['integer', 'null'] } } },
          },
          widgets_values: { type: ['object', 'array'] },
        },
      },
    },
    links: {
      type: 'array',
      items: {
        anyOf: [
          { type: 'array', minItems: 5 },
          { type: 'object', required: ['id', 'origin_id', 'origin_slot', 'target_id', 'target_slot'] },
        ],
      },
    },
  },
} as const;

const checkWorkflow = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(WORKFLOW_SCHEMA);

/** Is this a workflow (editor format) rather than an API prompt? */
export function isWorkflow(value: unknown): value is Workflow {
  return value !== null && typeof value === 'object' && Array.isArray((value as Workflow).nodes) && Array.isArray((value as Workflow).links);
}

export interface ConversionIssue {
  node_id?: string;
  message: string;
}

export interface ConversionResult {
  prompt: Prompt;
  errors: ConversionIssue[];
}

interface LinkInfo {
  originId: string;
  originSlot: number;
  type: string;
}

const SEED_CONTROL_VALUES = new Set(['fixed', 'increment', 'decrement', 'randomize']);

function isWidgetSpec(spec: ObjectInfoEntry['input']['required'][string]): boolean {
  const [type] = spec;
  return Array.isArray(type) || ['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'].includes(type);
}

/** A widget in the order of ComfyUI's positional `widgets_values`; `control` names the seed-control value that may follow it. */
export interface PositionalWidget {
  name: string;
  control?: string;
}

/** ComfyUI's name for the seed-control value that follows a seed in `widgets_values`. */
export const SEED_CONTROL_NAME = 'control_after_generate';

/**
 * The widget each position of a positional `widgets_values` list belongs to; undefined where no widget
 * of ours takes the value (ComfyUI's upload button, for one). A control value follows its seed only
 * where the list holds one: older files have none.
 */
export function widgetPositions(widgets: PositionalWidget[], values: unknown[]): (string | undefined)[] {
  const names: (string | undefined)[] = [];
  for (const { name, control } of widgets) {
    if (names.length >= values.length) break;
    names.push(name);
    const next = values[names.length];
    if (control && typeof next === 'string' && SEED_CONTROL_VALUES.has(next)) names.push(control);
  }
  while (names.length < values.length) names.push(undefined);
  return names;
}

/** Widget names in the order ComfyUI lists them, with the seed-control value that may follow each. */
function widgetOrder(info: ObjectInfoEntry): PositionalWidget[] {
  const names = [...info.input_order.required, ...info.input_order.optional];
  const specs = { ...info.input.required, ...info.input.optional };
  return names
    .filter((name) => specs[name] && isWidgetSpec(specs[name]) && !specs[name][1].forceInput)
    .map((name) => ({ name, control: specs[name][1].control_after_generate === true ? SEED_CONTROL_NAME : undefined }));
}

/** Widget values keyed by name, from either our by-name object or ComfyUI's positional array. */
export function widgetValuesByName(node: WorkflowNode, info: ObjectInfoEntry): Record<string, unknown> {
  const values = node.widgets_values;
  if (!values) return {};
  if (!Array.isArray(values)) return { ...values };
  const order = widgetOrder(info);
  const widgets = new Set(order.map((w) => w.name));
  const named: Record<string, unknown> = {};
  widgetPositions(order, values).forEach((name, i) => {
    if (name !== undefined && widgets.has(name)) named[name] = values[i];
  });
  return named;
}

/** Each type's outputs as the object info names them. */
function outputsOf(objectInfo: Record<string, ObjectInfoEntry>): OutputsOf {
  return (type) => {
    const info = objectInfo[type];
    return info?.output.map((output, i) => ({ name: info.output_name?.[i] ?? output, type: output }));
  };
}

function readLinks(links: WorkflowLink[]): Map<number, LinkInfo> {
  const map = new Map<number, LinkInfo>();
  for (const link of links) {
    if (Array.isArray(link)) map.set(link[0], { originId: String(link[1]), originSlot: link[2], type: String(link[5] ?? '*') });
    else map.set(link.id, { originId: String(link.origin_id), originSlot: link.origin_slot, type: String(link.type ?? '*') });
  }
  return map;
}

/** A literal list would read as a link: the prompt format wraps it. */
function asLiteral(value: unknown): unknown {
  return Array.isArray(value) ? { __value__: value } : value;
}

type Resolved = { kind: 'link'; value: [string, number] } | { kind: 'literal'; value: unknown } | { kind: 'none' };

export function workflowToPrompt(workflow: unknown, objectInfo: Record<string, ObjectInfoEntry>): ConversionResult {
  const errors: ConversionIssue[] = [];
  if (!checkWorkflow(workflow)) {
    const lines = (checkWorkflow.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || 'workflow'} ${e.message}`);
    return { prompt: {}, errors: [{ message: `not a Limelight/ComfyUI workflow: ${lines.join('; ')}` }] };
  }
  const wf = adoptComfyNodes(workflow as unknown as Workflow, outputsOf(objectInfo));
  const nodes = new Map(wf.nodes.map((n) => [String(n.id), n]));
  const links = readLinks(wf.links);

  // Follows a link back through reroutes and bypassed nodes to the node that really produces the value.
  const resolve = (linkId: number | null | undefined): Resolved => {
    let link = linkId === null || linkId === undefined ? undefined : links.get(linkId);
    for (let hops = 0; link && hops <= nodes.size; hops++) {
      const origin = nodes.get(link.originId);
      if (!origin || origin.mode === NODE_MODE.NEVER) return { kind: 'none' };
      if (origin.type === 'PrimitiveNode') {
        const values = origin.widgets_values;
        return { kind: 'literal', value: Array.isArray(values) ? values[0] : values?.value };
      }
      if (origin.type === 'Reroute') {
        link = links.get(origin.inputs?.[0]?.link ?? -1);
        continue;
      }
      if (origin.mode === NODE_MODE.BYPASS) {
        // As in ComfyUI: a bypassed node passes on its first input of the same type as the output used.
        const outputType = origin.outputs?.[link.originSlot]?.type ?? link.type;
        const through = origin.inputs?.find((i) => i.link !== null && i.link !== undefined && i.type?.toUpperCase() === outputType.toUpperCase());
        link = through ? links.get(through.link!) : undefined;
        continue;
      }
      return { kind: 'link', value: [link.originId, link.originSlot] };
    }
    return { kind: 'none' };
  };

  const prompt: Prompt = {};
  for (const node of wf.nodes) {
    const id = String(node.id);
    if ((VIRTUAL_NODE_TYPES as readonly string[]).includes(node.type)) continue;
    if (node.mode === NODE_MODE.NEVER || node.mode === NODE_MODE.BYPASS) continue;
    const info = objectInfo[node.type];
    if (!info) {
      errors.push({ node_id: id, message: `node ${id} has type '${node.type}', which this server does not know` });
      prompt[id] = { class_type: node.type, inputs: {}, _meta: { title: node.title ?? node.type } };
      continue;
    }
    const inputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(widgetValuesByName(node, info))) {
      if (name in info.input.required || name in info.input.optional) inputs[name] = asLiteral(value);
    }
    for (const input of node.inputs ?? []) {
      if (input.link === null || input.link === undefined) continue;
      const name = input.widget?.name ?? input.name;
      const resolved = resolve(input.link);
      if (resolved.kind === 'none') delete inputs[name];
      else inputs[name] = resolved.kind === 'link' ? resolved.value : asLiteral(resolved.value);
    }
    prompt[id] = { class_type: node.type, inputs, _meta: { title: node.title ?? info.display_name } };
  }
  return { prompt, errors };
}
