// ComfyUI node types Limelight reads as its own: the VideoHelperSuite loader and writer open as Load
// Video and Encode through an explicit mapping of their widgets, values and sockets, and are written
// back as the VHS types; and the ComfyUI names the node search also answers to. Pure: the editor and
// the prompt builder share it.
import type { Workflow, WorkflowLink, WorkflowNode } from './workflow.ts';

export interface ComfyNodeMapping {
  /** The ComfyUI (custom node) type. */
  type: string;
  /** The Limelight type it opens as. */
  as: string;
  /** ComfyUI widget → Limelight widget; ComfyUI's other widgets are kept in the file, unused. */
  widgets: Record<string, string>;
  /** Per Limelight widget, the values spelled differently: `[ComfyUI value, Limelight value]`. */
  values?: Record<string, [unknown, unknown][]>;
  /** ComfyUI socket → Limelight socket, by name; unmapped ComfyUI sockets stay on the node, unused. */
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

export const COMFY_NODE_MAPPINGS: readonly ComfyNodeMapping[] = [
  {
    type: 'VHS_LoadVideo',
    as: 'LoadVideo',
    widgets: {
      video: 'video',
      force_rate: 'force_rate',
      custom_width: 'width',
      custom_height: 'height',
      frame_load_cap: 'frame_load_cap',
      skip_first_frames: 'skip_first_frames',
      select_every_nth: 'select_every_nth',
    },
    inputs: {},
    outputs: { IMAGE: 'IMAGE', frame_count: 'frame_count' },
  },
  {
    type: 'VHS_VideoCombine',
    as: 'Encode',
    widgets: { frame_rate: 'fps', format: 'format', crf: 'crf', filename_prefix: 'filename_prefix' },
    values: {
      format: [
        ['video/h264-mp4', 'mp4-h264'],
        ['video/webm', 'webm-vp9'],
        ['image/gif', 'gif'],
      ],
    },
    inputs: { images: 'images' },
    outputs: {},
  },
];

/** ComfyUI's names for what Limelight's nodes do, which the node search also finds them by. */
export const COMFY_ALIASES: Readonly<Record<string, readonly string[]>> = {
  LoadModel: ['CheckpointLoaderSimple', 'CheckpointLoader', 'ImageOnlyCheckpointLoader'],
  TextEncode: ['CLIPTextEncode'],
  Sampler: ['KSampler', 'KSamplerAdvanced', 'SamplerCustom'],
  VAEEncode: ['VAEEncodeForInpaint'],
  LoadVideo: ['VHS_LoadVideo', 'LoadVideo'],
  LoadImageSequence: ['VHS_LoadImagesPath', 'LoadImagesFromDirectory'],
  MaskFromImage: ['ImageToMask'],
  InjectCrossAttention: ['ConditioningSetMask', 'AttentionCouple'],
  Encode: ['VHS_VideoCombine', 'SaveVideo', 'SaveAnimatedWEBP', 'SaveImage', 'CreateVideo'],
  Int: ['PrimitiveInt'],
  Float: ['PrimitiveFloat'],
  Text: ['PrimitiveString', 'PrimitiveStringMultiline'],
  SaveText: ['ShowText'],
};

export interface OutputSocket {
  name: string;
  type: string;
}

/** The outputs of a Limelight node type, in slot order (undefined for a type the server lacks). */
export type OutputsOf = (type: string) => readonly OutputSocket[] | undefined;

const BY_TYPE = new Map(COMFY_NODE_MAPPINGS.map((m) => [m.type, m]));

export function comfyMapping(type: string): ComfyNodeMapping | undefined {
  return BY_TYPE.get(type);
}

function linkOrigin(link: WorkflowLink): { id: string; slot: number } {
  return Array.isArray(link) ? { id: String(link[1]), slot: link[2] } : { id: String(link.origin_id), slot: link.origin_slot };
}

function withOriginSlot(link: WorkflowLink, slot: number): WorkflowLink {
  if (Array.isArray(link)) {
    const copy = [...link] as typeof link;
    copy[2] = slot;
    return copy;
  }
  return { ...link, origin_slot: slot };
}

/**
 * Where each ComfyUI output sits on the Limelight node: a mapped output (or a Limelight output saved
 * into the file by name) takes its Limelight slot, the others follow the Limelight outputs in order.
 */
function outputSlots(mapping: ComfyNodeMapping, comfyOutputs: readonly OutputSocket[], outputs: readonly OutputSocket[]): number[] {
  let next = outputs.length;
  return comfyOutputs.map(({ name }) => {
    const slot = outputs.findIndex((o) => o.name === (mapping.outputs[name] ?? name));
    return slot >= 0 ? slot : next++;
  });
}

function renameSocket<T extends { name: string; widget?: { name: string } }>(socket: T, names: Record<string, string>): T {
  const name = names[socket.name];
  if (name === undefined) return socket;
  return { ...socket, name, ...(socket.widget ? { widget: { name } } : {}) };
}

function invert(names: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(names).map(([a, b]) => [b, a]));
}

function socketNames(mapping: ComfyNodeMapping): Record<string, string> {
  return { ...mapping.widgets, ...mapping.inputs };
}

function toLimelightValue(mapping: ComfyNodeMapping, widget: string, value: unknown): unknown {
  return mapping.values?.[widget]?.find(([comfy]) => comfy === value)?.[1] ?? value;
}

function toComfyValue(mapping: ComfyNodeMapping, widget: string, value: unknown): unknown {
  return mapping.values?.[widget]?.find(([, limelight]) => limelight === value)?.[0] ?? value;
}

function objectValues(node: WorkflowNode): Record<string, unknown> | null {
  const values = node.widgets_values ?? {};
  return Array.isArray(values) ? null : values;
}

/** The mapping a node opens through: a mapped type with by-name values whose Limelight type exists. */
function adoptable(node: WorkflowNode, outputsOf: OutputsOf): { mapping: ComfyNodeMapping; outputs: readonly OutputSocket[] } | null {
  const mapping = comfyMapping(node.type);
  const outputs = mapping && outputsOf(mapping.as);
  return mapping && outputs && objectValues(node) ? { mapping, outputs } : null;
}

/** One mapped ComfyUI node as its Limelight node (its links are moved by {@link adoptComfyNodes}). */
function adoptNode(node: WorkflowNode, mapping: ComfyNodeMapping, outputs: readonly OutputSocket[]): WorkflowNode {
  const comfyValues = objectValues(node) ?? {};
  const values: Record<string, unknown> = {};
  for (const [comfy, limelight] of Object.entries(mapping.widgets)) {
    if (comfy in comfyValues) values[limelight] = toLimelightValue(mapping, limelight, comfyValues[comfy]);
  }
  const comfyOutputs = node.outputs ?? [];
  const slots = outputSlots(mapping, comfyOutputs, outputs);
  const adoptedOutputs: NonNullable<WorkflowNode['outputs']> = outputs.map((o) => ({ name: o.name, type: o.type, links: null }));
  comfyOutputs.forEach((output, i) => {
    adoptedOutputs[slots[i]] = renameSocket(output, mapping.outputs);
  });
  return {
    ...node,
    type: mapping.as,
    inputs: node.inputs?.map((input) => renameSocket(input, socketNames(mapping))),
    outputs: adoptedOutputs,
    widgets_values: values,
  };
}

/** Moves the origin slots of the links leaving `moved` nodes (node id → new slot of each old slot). */
function moveOrigins(links: WorkflowLink[], moved: Map<string, (slot: number) => number>): WorkflowLink[] {
  return links.map((link) => {
    const origin = linkOrigin(link);
    const move = moved.get(origin.id);
    return move ? withOriginSlot(link, move(origin.slot)) : link;
  });
}

/** The workflow with each mapped ComfyUI node (VHS Load Video, Video Combine) as the Limelight node it maps to. */
export function adoptComfyNodes(workflow: Workflow, outputsOf: OutputsOf): Workflow {
  const moved = new Map<string, (slot: number) => number>();
  const nodes = workflow.nodes.map((node) => {
    const found = adoptable(node, outputsOf);
    if (!found) return node;
    const slots = outputSlots(found.mapping, node.outputs ?? [], found.outputs);
    moved.set(String(node.id), (slot) => slots[slot] ?? slot);
    return adoptNode(node, found.mapping, found.outputs);
  });
  return moved.size === 0 ? workflow : { ...workflow, nodes, links: moveOrigins(workflow.links, moved) };
}

/**
 * A node the editor holds as a Limelight node back as the ComfyUI node it was opened from: the ComfyUI
 * type, its widget values (a value is rewritten only where the Limelight value changed), its sockets'
 * names and its outputs in ComfyUI's order; a Limelight-only output that is linked follows them.
 * Returns the node and, for each editor output slot, its slot in the file.
 */
function restoreNode(node: WorkflowNode, source: WorkflowNode, mapping: ComfyNodeMapping, outputs: readonly OutputSocket[]): { node: WorkflowNode; slots: number[] } {
  const current = objectValues(node) ?? {};
  const values: Record<string, unknown> = { ...objectValues(source) };
  for (const [comfy, limelight] of Object.entries(mapping.widgets)) {
    if (!(limelight in current)) continue;
    const unchanged = comfy in values && toLimelightValue(mapping, limelight, values[comfy]) === current[limelight];
    if (!unchanged) values[comfy] = toComfyValue(mapping, limelight, current[limelight]);
  }
  const editorOutputs = node.outputs ?? [];
  const comfyOutputs = source.outputs ?? [];
  const fromComfy = outputSlots(mapping, comfyOutputs, outputs);
  const slots: number[] = [];
  const restoredOutputs = comfyOutputs.map((output, i) => {
    slots[fromComfy[i]] = i;
    const held = editorOutputs[fromComfy[i]];
    return held ? { ...held, name: output.name, type: output.type } : output;
  });
  editorOutputs.forEach((output, slot) => {
    if (slots[slot] !== undefined || !output.links?.length) return;
    slots[slot] = restoredOutputs.length;
    restoredOutputs.push(output);
  });
  const inputNames = invert(socketNames(mapping));
  return {
    node: {
      ...node,
      type: source.type,
      inputs: node.inputs?.map((input) => renameSocket(input, inputNames)),
      outputs: restoredOutputs,
      widgets_values: values,
    },
    slots,
  };
}

/** The editor's workflow with each node opened through a mapping (per `sources`, by id) back as its ComfyUI node. */
export function restoreComfyNodes(workflow: Workflow, sources: ReadonlyMap<string, WorkflowNode>, outputsOf: OutputsOf): Workflow {
  const moved = new Map<string, (slot: number) => number>();
  const nodes = workflow.nodes.map((node) => {
    const source = sources.get(String(node.id));
    const found = source && adoptable(source, outputsOf);
    if (!source || !found || found.mapping.as !== node.type) return node;
    const restored = restoreNode(node, source, found.mapping, found.outputs);
    moved.set(String(node.id), (slot) => restored.slots[slot] ?? slot);
    return restored.node;
  });
  return moved.size === 0 ? workflow : { ...workflow, nodes, links: moveOrigins(workflow.links, moved) };
}
