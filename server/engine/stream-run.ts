// Streaming a region of the graph through the clip chunk by chunk: each chunk's per-frame subgraph runs
// as a ChunkJob, then its frames go to the sinks in order (an encoder, a report), before the next chunk
// starts — so the first frames reach the encoder early and peak memory follows the chunk, not the clip.
// When the stream ends, the sinks finish in order with their late inputs (a report's metrics).
import type { FrameRange } from '../frame-axis.ts';
import { byteSize } from './cached-values.ts';
import { checkedResult, runChunk, type ChunkCache, type ChunkJob, type ChunkNode } from './chunk-job.ts';
import type { ComboEnvironment, ExecuteContext, NodeResult, SinkStream, SinkWriter } from './node-contract.ts';
import type { NodeRegistry } from './node-registry.ts';
import { inputRole, type StreamRegion } from './stream-plan.ts';
import { checkLinkedValue, type ValidNode } from './validate.ts';
import type { ClipProgress } from '../../common/events.ts';

/** The first chunk is small, so the first frames are encoded (and previewed) early. */
const FIRST_CHUNK_FRAMES = 4;
const MAX_CHUNK_FRAMES = 1024;

/** State nodes keep from one chunk to the next of a stream (open decoders), closed when it ends. */
export class KeptState {
  private readonly held = new Map<string, { value: unknown; close: (value: unknown) => void | Promise<void> }>();

  keep<T>(name: string, open: () => T, close: (value: T) => void | Promise<void>): T {
    const found = this.held.get(name);
    if (found) return found.value as T;
    const value = open();
    this.held.set(name, { value, close: close as (value: unknown) => void | Promise<void> });
    return value;
  }

  async closeAll(): Promise<void> {
    const held = [...this.held.values()];
    this.held.clear();
    for (const { value, close } of held) await close(value);
  }
}

/** What the stream needs from the prompt run that hosts it. */
export interface StreamHost {
  registry: NodeRegistry;
  /** Where COMBO options come from, for checking linked values. */
  env: ComboEnvironment;
  nodes: Map<string, ValidNode>;
  keys: Map<string, string>;
  cache?: ChunkCache;
  signal: AbortSignal;
  /** Outputs of a node outside the region (it ran before the stream, or is cached). */
  outputs(id: string): Promise<readonly unknown[]>;
  context(node: ValidNode, range: FrameRange | undefined, kept: KeptState): ExecuteContext;
  /** A node of the stream is about to run (or take frames). */
  executing(id: string): void;
  /** After each chunk (the outside values are checked for writes here). */
  chunkDone(clip: ClipProgress, sink: string): void;
  finished(id: string, result: NodeResult): Promise<void>;
}

export interface StreamOptions {
  /** Frames per chunk (rounded up to the region's alignment); undefined = from the budget. */
  chunkFrames?: number;
  /** The memory a chunk's values may take, for the default chunk size. */
  chunkBudgetBytes: number;
}

const roundUp = (frames: number, alignment: number) => Math.max(alignment, Math.ceil(frames / alignment) * alignment);

/** Streams the region through the clip; `sinks` are the region's sinks that are not cached. */
export async function runStream(region: StreamRegion, sinks: string[], host: StreamHost, options: StreamOptions, streamId: string): Promise<void> {
  const { nodes } = host;
  const kept = new KeptState();
  const inRegion = new Set(region.nodes);
  const perFrame = region.nodes.filter((id) => !region.sinks.includes(id));
  const external: Record<string, readonly unknown[]> = {};
  for (const id of [...perFrame, ...sinks]) {
    const node = nodes.get(id)!;
    for (const [input, [source, slot]] of Object.entries(node.links)) {
      if (inRegion.has(source)) continue;
      external[source] ??= await host.outputs(source);
      // Values from outside the stream are the same for every chunk: checked once. Frames never feed a COMBO.
      checkLinkedValue(node.definition, input, external[source][slot], host.env, id);
    }
  }
  const wanted = [...new Set(sinks.flatMap((id) => Object.entries(nodes.get(id)!.links).filter(([input]) => inputRole(nodes.get(id)!.definition, input) !== 'late').map(([, [source]]) => source)))].filter(
    (source) => inRegion.has(source),
  );
  const jobNodes: ChunkNode[] = perFrame.map((id) => {
    const node = nodes.get(id)!;
    return { id, type: node.type, literals: node.literals, links: node.links, key: host.keys.get(id)! };
  });
  const writers = new Map<string, SinkWriter>();
  const lastInputs = new Map<string, Record<string, unknown>>();
  const started = performance.now();
  let chunk = options.chunkFrames ? roundUp(options.chunkFrames, region.alignment) : roundUp(FIRST_CHUNK_FRAMES, region.alignment);
  try {
    for (let start = 0; start < region.frames; ) {
      if (host.signal.aborted) throw host.signal.reason ?? new Error('interrupted');
      const range: FrameRange = { start, end: Math.min(region.frames, start + chunk), frames: region.frames };
      const job: ChunkJob = { stream: streamId, range, nodes: jobNodes, external, wanted };
      const values = await runChunk(job, {
        registry: host.registry,
        cache: host.cache,
        context: (node) => host.context(nodes.get(node.id)!, range, kept),
        onNode: (node) => host.executing(node.id),
      });
      for (const id of sinks) {
        const node = nodes.get(id)!;
        const inputs: Record<string, unknown> = { ...node.literals };
        for (const [input, [source, slot]] of Object.entries(node.links)) {
          if (inputRole(node.definition, input) !== 'late') inputs[input] = (values[source] ?? external[source])![slot];
        }
        host.executing(id);
        let writer = writers.get(id);
        if (!writer) writers.set(id, (writer = (node.definition.stream as SinkStream).open(host.context(node, undefined, kept))));
        await writer.write(inputs, range);
        lastInputs.set(id, inputs);
      }
      if (start === 0 && !options.chunkFrames) chunk = budgetedChunk(values, range, region, options.chunkBudgetBytes);
      start = range.end;
      const seconds = (performance.now() - started) / 1000;
      host.chunkDone({ done: start, total: region.frames, eta_seconds: (seconds / start) * (region.frames - start) }, sinks[0]!);
    }
    const results = new Map<string, readonly unknown[]>();
    for (const id of sinks) {
      const node = nodes.get(id)!;
      const late: Record<string, unknown> = {};
      for (const [input, [source, slot]] of Object.entries(node.links)) {
        if (inputRole(node.definition, input) === 'late') late[input] = (results.get(source) ?? external[source] ?? (await host.outputs(source)))[slot];
      }
      host.executing(id);
      const result = checkedResult(node.definition, await writers.get(id)!.finish({ ...lastInputs.get(id), ...late }));
      writers.delete(id);
      results.set(id, result.outputs);
      await host.finished(id, result);
    }
  } catch (error) {
    for (const writer of writers.values()) await writer.abort().catch(() => {});
    throw error;
  } finally {
    await kept.closeAll();
  }
}

/**
 * Frames per chunk after the first: the chunk budget over an estimate of a frame's bytes across the
 * region (the largest frame the sinks take, once per node). It depends only on the graph and the frame
 * sizes, so every run of the same prompt chunks the clip the same way (and finds its kept chunks).
 */
function budgetedChunk(values: Record<string, unknown[]>, range: FrameRange, region: StreamRegion, budget: number): number {
  const frames = range.end - range.start;
  const largest = Math.max(1, ...Object.values(values).flatMap((outputs) => outputs.map((value) => byteSize(value) / frames)));
  const fits = Math.floor(budget / (largest * region.nodes.length) / region.alignment) * region.alignment;
  return Math.min(Math.max(region.alignment, fits), roundUp(MAX_CHUNK_FRAMES, region.alignment));
}
