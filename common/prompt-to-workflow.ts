// Rebuilds an editor workflow from an API prompt (the fallback when a dropped file carries only the
// prompt): nodes laid out left to right by depth, links from `[source, slot]` inputs, literal inputs as
// widget values by name.
import type { Prompt } from './prompt.ts';
import { asLink } from './prompt.ts';
import type { Workflow, WorkflowInput, WorkflowLink, WorkflowNode } from './workflow.ts';
import { describeNodeClass, type NodeClassDescription } from './node-defs.ts';
import type { ObjectInfoEntry } from './object-info.ts';

const COLUMN_WIDTH = 340;
const GAP = 60;
const MARGIN = 40;

/** Room an output node takes for its preview after a run. */
const PREVIEW_ROOM = 240;

/** Roughly how tall the editor draws a node: its title, socket rows, widget rows and preview. */
function estimatedHeight(description: NodeClassDescription | null, inputCount: number): number {
  if (!description) return 60 + 20 * inputCount;
  const sockets = description.inputs.filter((i) => 'socket' in i).length;
  const widgetRows = description.inputs.reduce((rows, i) => {
    if (!('widget' in i)) return rows;
    return rows + 1 + (i.widget.control ? 1 : 0) + (i.widget.uploads.length > 0 ? 1 : 0) + (i.widget.uploads.includes('image') ? 1 : 0);
  }, 0);
  return 40 + 20 * Math.max(sockets, description.outputs.length) + 24 * widgetRows + (description.outputNode ? PREVIEW_ROOM : 0);
}

function unwrapLiteral(value: unknown): unknown {
  return value && typeof value === 'object' && '__value__' in value ? (value as { __value__: unknown }).__value__ : value;
}

/** Column of each node: 0 for sources, else one more than its deepest input. */
function depths(prompt: Prompt): Map<string, number> {
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id) || !prompt[id]) return 0;
    visiting.add(id);
    let d = 0;
    for (const value of Object.values(prompt[id].inputs)) {
      const link = asLink(value);
      if (link && prompt[link[0]]) d = Math.max(d, visit(link[0]) + 1);
    }
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const id of Object.keys(prompt)) visit(id);
  return depth;
}

/**
 * The output a link leaves an unknown node from: the prompt says only its slot, so it is made (and any
 * slots before it), typed by the input it feeds, so the link can be drawn.
 */
function placeholderOutput(node: WorkflowNode, slot: number, type: string): NonNullable<WorkflowNode['outputs']>[number] {
  const outputs = (node.outputs ??= []);
  while (outputs.length <= slot) outputs.push({ name: `output ${outputs.length}`, type: '*', links: [] });
  const output = outputs[slot];
  if (output.type === '*' && type !== '*') Object.assign(output, { name: type, type });
  return output;
}

export function promptToWorkflow(prompt: Prompt, objectInfo: Record<string, ObjectInfoEntry>): Workflow {
  const ids = Object.keys(prompt);
  const numeric = ids.every((id) => /^\d+$/.test(id));
  const nodeId = new Map(ids.map((id, i) => [id, numeric ? Number(id) : i + 1]));
  const depth = depths(prompt);
  /** The next free y of each column. */
  const columnBottoms = new Map<number, number>();
  const nodes = new Map<string, WorkflowNode>();

  for (const id of ids) {
    const entry = prompt[id];
    const info = objectInfo[entry.class_type];
    const description = info ? describeNodeClass(info) : null;
    const column = depth.get(id) ?? 0;
    const y = columnBottoms.get(column) ?? MARGIN;
    columnBottoms.set(column, y + estimatedHeight(description, Object.keys(entry.inputs).length) + GAP);
    const inputs: WorkflowInput[] = description
      ? description.inputs.map((input) =>
          'widget' in input
            ? { name: input.widget.name, type: input.widget.socketType, link: null, widget: { name: input.widget.name } }
            : { name: input.socket.name, type: input.socket.type, link: null },
        )
      : Object.entries(entry.inputs)
          .filter(([, value]) => asLink(value))
          .map(([name]) => ({ name, type: '*', link: null }));
    const widgetValues: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(entry.inputs)) if (!asLink(value)) widgetValues[name] = unwrapLiteral(value);
    nodes.set(id, {
      id: nodeId.get(id)!,
      type: entry.class_type,
      ...(entry._meta?.title && entry._meta.title !== description?.title ? { title: entry._meta.title } : {}),
      pos: [MARGIN + column * COLUMN_WIDTH, y],
      mode: 0,
      inputs,
      outputs: (description?.outputs ?? []).map((o) => ({ name: o.name, type: o.type, links: [] })),
      properties: {},
      widgets_values: widgetValues,
    });
  }

  const unknown = new Set(ids.filter((id) => !objectInfo[prompt[id].class_type]));
  const links: WorkflowLink[] = [];
  for (const id of ids) {
    const target = nodes.get(id)!;
    for (const [name, value] of Object.entries(prompt[id].inputs)) {
      const link = asLink(value);
      const source = link && nodes.get(link[0]);
      if (!link || !source) continue;
      const slot = target.inputs!.findIndex((input) => input.name === name);
      if (slot < 0) continue;
      const output = source.outputs?.[link[1]] ?? (unknown.has(link[0]) ? placeholderOutput(source, link[1], target.inputs![slot].type) : undefined);
      const linkId = links.length + 1;
      const type = output?.type ?? target.inputs![slot].type;
      links.push([linkId, source.id as number, link[1], target.id as number, slot, type]);
      target.inputs![slot].link = linkId;
      output?.links?.push(linkId);
    }
  }

  return {
    last_node_id: Math.max(0, ...[...nodes.values()].map((n) => n.id as number)),
    last_link_id: links.length,
    nodes: [...nodes.values()],
    links,
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  };
}
