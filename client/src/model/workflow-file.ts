// Opening and saving workflow files so that a file opened and saved without edits comes back as it
// was (ComfyUI's files included): the editor works on its own form (widget values by name, a socket for
// every widget, VHS nodes as Limelight nodes) and saving writes each node back in its file's form —
// positional `widgets_values` stay lists, sockets the editor added stay out unless linked, the file's
// node order, `order` fields and unknown top-level keys (`models`, …) are kept. Pure: no litegraph.
import { adoptComfyNodes, restoreComfyNodes, type OutputsOf } from '../../../common/comfyui-nodes.ts';
import { widgetPositions, type PositionalWidget, type Workflow, type WorkflowNode } from '../../../common/workflow.ts';
import type { NodeClassDescription } from '../../../common/node-defs.ts';

/** A widget in positional order, with the value a node starts with. */
export interface FileWidget extends PositionalWidget {
  default: unknown;
  controlDefault?: unknown;
}

/** What the file conversion needs to know about node types. */
export interface NodeCatalog {
  /** A type's widgets in ComfyUI's positional order; undefined for types the editor keeps as loaded. */
  widgets(type: string): readonly FileWidget[] | undefined;
  outputs: OutputsOf;
}

/** Editor-only node types and their widgets (ComfyUI's Note keeps its text as `widgets_values[0]`). */
const EDITOR_ONLY_WIDGETS: Record<string, FileWidget[]> = {
  Note: [{ name: 'text', default: '' }],
  MarkdownNote: [{ name: 'text', default: '' }],
};

/** Keys litegraph writes on every graph that a file without them should not gain. */
const GENERATED_KEYS = ['id', 'revision'];

export function nodeCatalog(descriptions: readonly NodeClassDescription[]): NodeCatalog {
  const byType = new Map(descriptions.map((d) => [d.type, d]));
  return {
    widgets(type) {
      const description = byType.get(type);
      if (!description) return EDITOR_ONLY_WIDGETS[type];
      return description.inputs.flatMap((input) =>
        'widget' in input ? [{ name: input.widget.name, control: input.widget.control, default: input.widget.value, controlDefault: 'fixed' }] : [],
      );
    },
    outputs: (type) => byType.get(type)?.outputs,
  };
}

/** A positional `widgets_values` list by widget name (values no widget of ours takes are left out). */
function valuesByName(values: unknown[], widgets: readonly FileWidget[]): Record<string, unknown> {
  const named: Record<string, unknown> = {};
  widgetPositions([...widgets], values).forEach((name, i) => {
    if (name !== undefined) named[name] = values[i];
  });
  return named;
}

/** The workflow as the editor loads it: mapped ComfyUI nodes as Limelight nodes, widget values by name. */
export function openWorkflowFile(file: Workflow, catalog: NodeCatalog): Workflow {
  const adopted = adoptComfyNodes(file, catalog.outputs);
  return {
    ...adopted,
    nodes: adopted.nodes.map((node) => {
      const widgets = catalog.widgets(node.type);
      return widgets && Array.isArray(node.widgets_values) ? { ...node, widgets_values: valuesByName(node.widgets_values, widgets) } : node;
    }),
  };
}

/**
 * The editor's values written into the file's positional list: each value at its widget's position;
 * widgets past the end of the list are appended only up to the last one changed from its default.
 */
function positionalValues(current: Record<string, unknown>, list: unknown[], widgets: readonly FileWidget[]): unknown[] {
  const names = widgetPositions([...widgets], list);
  const values = names.map((name, i) => (name !== undefined && name in current ? current[name] : list[i]));
  const listed = new Set(names);
  const tail = widgets
    .filter((w) => !listed.has(w.name))
    .flatMap((w) => [
      { name: w.name, fallback: w.default },
      ...(w.control ? [{ name: w.control, fallback: w.controlDefault }] : []),
    ]);
  let end = 0;
  tail.forEach(({ name, fallback }, i) => {
    if (name in current && current[name] !== fallback) end = i + 1;
  });
  return [...values, ...tail.slice(0, end).map(({ name }) => current[name])];
}

function savedValues(node: WorkflowNode, source: WorkflowNode, catalog: NodeCatalog): WorkflowNode['widgets_values'] {
  const current = node.widgets_values;
  const before = source.widgets_values;
  if (!current || Array.isArray(current)) return current;
  if (before && !Array.isArray(before)) return { ...before, ...current };
  const widgets = catalog.widgets(node.type);
  return widgets ? positionalValues(current, before ?? [], widgets) : current;
}

/** Sockets the editor added past the file's own (a socket for every widget), while nothing links them. */
function trimAdded<T extends { name: string }>(sockets: T[] | undefined, fileSockets: { name: string }[] | undefined, linked: (socket: T) => boolean): T[] | undefined {
  if (!sockets) return sockets;
  const known = new Set((fileSockets ?? []).map((s) => s.name));
  let end = sockets.length;
  while (end > 0 && !known.has(sockets[end - 1].name) && !linked(sockets[end - 1])) end--;
  return sockets.slice(0, end);
}

/** One node as the file had it, with what the editor changed. */
function saveNode(node: WorkflowNode, source: WorkflowNode, catalog: NodeCatalog): WorkflowNode {
  const saved: WorkflowNode = {
    ...node,
    inputs: trimAdded(node.inputs, source.inputs, (input) => input.link !== null && input.link !== undefined),
    outputs: trimAdded(node.outputs, source.outputs, (output) => (output.links?.length ?? 0) > 0),
  };
  if ('order' in source) saved.order = source.order;
  const values = savedValues(node, source, catalog);
  if (values === undefined || (!('widgets_values' in source) && Array.isArray(values) && values.length === 0)) delete saved.widgets_values;
  else saved.widgets_values = values;
  return saved;
}

/** The editor's workflow written back in the form of the file it was opened from (`file`; null for a new one). */
export function saveWorkflowFile(workflow: Workflow, file: Workflow | null, catalog: NodeCatalog): Workflow {
  if (!file) return workflow;
  const sources = new Map(file.nodes.map((n) => [String(n.id), n]));
  const restored = restoreComfyNodes(workflow, sources, catalog.outputs);
  const position = new Map(file.nodes.map((n, i) => [String(n.id), i]));
  const rank = (node: WorkflowNode) => position.get(String(node.id)) ?? file.nodes.length + Number(node.id);
  const nodes = restored.nodes
    .map((node) => {
      const source = sources.get(String(node.id));
      return source && source.type === node.type ? saveNode(node, source, catalog) : node;
    })
    .sort((a, b) => rank(a) - rank(b));
  const saved: Workflow = { ...file, ...restored, nodes };
  for (const key of GENERATED_KEYS) if (!(key in file)) delete saved[key];
  return saved;
}
