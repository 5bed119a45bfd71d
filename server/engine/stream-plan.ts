// Which part of a prompt streams. From the frame counts the pre-pass found, the nodes that can take the
// clip chunk by chunk (they declare `stream`) and whose frame values all have the clip's count (or one
// frame: "every frame") form a region; a region keeps only nodes whose outputs stay inside it (or reach
// its sinks as late inputs), and whose other inputs are ready before the stream starts. Everything else
// runs whole, as before, so a graph that cannot stream still runs, in one pass.
import type { KnownOutput } from './frame-counts.ts';
import type { NodeDefinition } from './node-contract.ts';
import type { ValidNode } from './validate.ts';

/** The socket types that hold frames. */
const FRAME_TYPES = new Set(['IMAGE', 'MASK', 'LATENT']);

export interface StreamRegion {
  /** The clip's frame count. */
  frames: number;
  /** The region's nodes in execution order (sinks included). */
  nodes: string[];
  /** Its sinks (output nodes that take chunks), in execution order. */
  sinks: string[];
  /** Chunks start at multiples of this: the least common multiple of the nodes' frames per call. */
  alignment: number;
}

function inputType(definition: NodeDefinition, input: string): string | undefined {
  return (definition.inputs.required[input] ?? definition.inputs.optional?.[input])?.type;
}

/** How the node reads the input: by frame, whole (keyframes), late (after the last frame), or not a frame value. */
export function inputRole(definition: NodeDefinition, input: string): 'frames' | 'whole' | 'late' | 'value' {
  const stream = definition.stream;
  if (stream?.kind === 'sink' && stream.late?.includes(input)) return 'late';
  if (!FRAME_TYPES.has(inputType(definition, input) ?? '')) return 'value';
  return stream?.kind === 'per-frame' && stream.whole?.includes(input) ? 'whole' : 'frames';
}

/** The clip length a streamable node would be streamed over, or undefined when it cannot stream. */
function clipLength(node: ValidNode, known: Map<string, (KnownOutput | undefined)[]>): number | undefined {
  const { definition } = node;
  if (!definition.stream) return undefined;
  const counts: (number | undefined)[] = [];
  for (const [input, [source, slot]] of Object.entries(node.links)) {
    if (inputRole(definition, input) === 'frames') counts.push(known.get(source)?.[slot]?.frames);
  }
  definition.outputs.forEach((output, slot) => {
    if (FRAME_TYPES.has(output.type)) counts.push(known.get(node.id)?.[slot]?.frames);
  });
  if (counts.some((count) => count === undefined)) return undefined;
  const frames = Math.max(0, ...(counts as number[]));
  if (frames <= 1 || counts.some((count) => count !== 1 && count !== frames)) return undefined;
  const stream = definition.stream;
  if (stream.kind === 'per-frame' && stream.batch && !(stream.batch(node.literals)! > 0)) return undefined;
  return frames;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function planStreams(nodes: Map<string, ValidNode>, order: string[], known: Map<string, (KnownOutput | undefined)[]>): StreamRegion[] {
  const clip = new Map<string, number>();
  for (const id of order) {
    const frames = clipLength(nodes.get(id)!, known);
    if (frames !== undefined) clip.set(id, frames);
  }
  const readers = new Map<string, { node: string; input: string }[]>();
  for (const id of order) {
    for (const [input, [source]] of Object.entries(nodes.get(id)!.links)) readers.set(source, [...(readers.get(source) ?? []), { node: id, input }]);
  }
  const staysInside = (id: string): boolean =>
    (readers.get(id) ?? []).every(({ node, input }) => {
      if (clip.get(node) !== clip.get(id)) return false;
      const role = inputRole(nodes.get(node)!.definition, input);
      return role !== 'whole' && (role !== 'late' || nodes.get(id)!.definition.stream?.kind === 'sink');
    });
  const removeWhere = (leaves: (id: string) => boolean) => {
    const leaving = order.filter((id) => clip.has(id) && leaves(id));
    for (const id of leaving) clip.delete(id);
    return leaving.length > 0;
  };
  // A node leaves when a reader is not in the stream with it; that can make its sources leave in turn. Once
  // settled, every reader of a streamed node streams too, so nothing outside a stream waits on its results.
  while (removeWhere((id) => !staysInside(id)));
  const regions = new Map<number, StreamRegion>();
  for (const id of order) {
    const frames = clip.get(id);
    if (frames === undefined) continue;
    const region = regions.get(frames) ?? { frames, nodes: [], sinks: [], alignment: 1 };
    regions.set(frames, region);
    region.nodes.push(id);
    const { stream } = nodes.get(id)!.definition;
    if (stream?.kind === 'sink') region.sinks.push(id);
    const batch = stream?.kind === 'per-frame' ? stream.batch?.(nodes.get(id)!.literals) : undefined;
    if (batch) region.alignment = (region.alignment * batch) / gcd(region.alignment, batch);
  }
  return [...regions.values()].filter((region) => region.sinks.length > 0);
}
