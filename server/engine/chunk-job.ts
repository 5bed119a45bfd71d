// The unit of work of a streamed run: "run this per-frame subgraph over frames [start, end)", as plain
// data (the subgraph, the range, the outside values it reads, which are plain data too — models are
// file descriptions — and each node's cache key, which names its input files' and models' content).
// `runChunk` executes one with no HTTP and no engine state, so a runner off the event loop, or on
// another machine, can take exactly these messages.
import type { Link } from '../../common/prompt.ts';
import type { FrameRange } from '../frame-axis.ts';
import type { ExecuteContext, NodeDefinition, NodeResult } from './node-contract.ts';
import type { NodeRegistry } from './node-registry.ts';

export interface ChunkNode {
  id: string;
  type: string;
  literals: Record<string, unknown>;
  links: Record<string, Link>;
  /** The node's cache key: its type, version, literals, input files' fingerprints and its ancestors' keys. */
  key: string;
}

export interface ChunkJob {
  /** The stream the chunk belongs to: state a node keeps between chunks (an open decoder) is filed under it. */
  stream: string;
  range: FrameRange;
  /** The per-frame nodes, in execution order. */
  nodes: ChunkNode[];
  /** Outputs of the nodes outside the subgraph that it reads, by node id. */
  external: Record<string, readonly unknown[]>;
  /** Nodes whose outputs come back (what the sinks read). */
  wanted: string[];
}

/** Chunk results of nodes that declare `persist` (the Sampler's latents), kept under key + range. */
export interface ChunkCache {
  get(key: string): Promise<unknown[] | undefined>;
  set(key: string, outputs: unknown[]): Promise<void>;
}

export interface ChunkEnv {
  registry: NodeRegistry;
  cache?: ChunkCache;
  /** The context a node runs with (progress, interrupt signal, folders, state kept for `job.stream`). */
  context(node: ChunkNode, job: ChunkJob): ExecuteContext;
  /** Before a node runs (the engine's `executing` event). */
  onNode?(node: ChunkNode): void;
}

export function chunkKey(key: string, range: FrameRange): string {
  return `${key}.${range.start}-${range.end}`;
}

/** A node's result, refused when it does not match the declaration. */
export function checkedResult(definition: NodeDefinition, result: NodeResult | undefined): NodeResult {
  if (!result || !Array.isArray(result.outputs) || result.outputs.length !== definition.outputs.length) {
    throw new Error(`${definition.type} returned ${result?.outputs?.length ?? 'no'} outputs but declares ${definition.outputs.length}`);
  }
  return result;
}

/**
 * Runs the chunk: only the nodes a wanted output needs, skipping any whose chunk result is kept (and
 * then what only it needed). Returns the wanted nodes' outputs.
 */
export async function runChunk(job: ChunkJob, env: ChunkEnv): Promise<Record<string, unknown[]>> {
  const values = new Map<string, unknown[]>();
  const needed = new Set(job.wanted);
  const byId = new Map(job.nodes.map((node) => [node.id, node]));
  for (const node of [...job.nodes].reverse()) {
    if (!needed.has(node.id)) continue;
    const kept = env.registry.get(node.type)!.persist ? await env.cache?.get(chunkKey(node.key, job.range)) : undefined;
    if (kept) values.set(node.id, kept);
    else for (const [source] of Object.values(node.links)) if (byId.has(source)) needed.add(source);
  }
  for (const node of job.nodes) {
    if (!needed.has(node.id) || values.has(node.id)) continue;
    const definition = env.registry.get(node.type)!;
    const inputs: Record<string, unknown> = { ...node.literals };
    for (const [name, [source, slot]] of Object.entries(node.links)) inputs[name] = (values.get(source) ?? job.external[source])![slot];
    env.onNode?.(node);
    const { outputs } = checkedResult(definition, await definition.execute(inputs, env.context(node, job)));
    values.set(node.id, outputs);
    if (definition.persist) await env.cache?.set(chunkKey(node.key, job.range), outputs);
  }
  return Object.fromEntries(job.wanted.map((id) => [id, values.get(id)!]));
}
