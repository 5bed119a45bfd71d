// The execution engine: validates a prompt, works out what is cached, runs the rest in order and
// emits ComfyUI's events. It knows nothing of HTTP or WebSockets.
import type { ComboEnvironment, ExecuteContext, NodeDefinition, NodeResult } from './node-contract.ts';
import type { NodeRegistry } from './node-registry.ts';
import { keyParts, nodeCacheKey } from './cache-key.ts';
import { DiskCache } from './disk-cache.ts';
import type { EngineEvent, EventSink, ExecutionErrorData } from '../../common/events.ts';
import { executionError } from './execution-error.ts';
import { MemoryCache, type CacheEntry } from './memory-cache.ts';
import { makePlan, PlanMemo, type Plan } from './plan.ts';
import { NotPersistableError } from './serialize.ts';
import { countFrames, type FrameCounts } from './frame-counts.ts';
import type { ChunkCache } from './chunk-job.ts';
import { checkedResult } from './chunk-job.ts';
import { planStreams, type StreamRegion } from './stream-plan.ts';
import { runStream, type KeptState } from './stream-run.ts';
import type { FrameRange } from '../frame-axis.ts';
import type { ClipProgress } from '../../common/events.ts';
import { checkLinkedValue, frameCountRefusal, validatePrompt, type ValidationResult, type ValidNode } from './validate.ts';
import { byteSize, deepFreeze, MutationGuard } from './cached-values.ts';
import type { Folders, Logger } from '../config.ts';
import { InternalError, LimelightError, NodeInputError } from '../errors.ts';

export interface EngineOptions {
  registry: NodeRegistry;
  folders: Folders;
  /** Byte budget of the in-memory cache of node outputs. */
  memoryBudgetBytes: number;
  /** Disk tier for outputs of nodes that declare `persist`; omitted = memory only. */
  disk?: { dir: string; capBytes: number };
  log?: Logger;
  /** Memory a streamed chunk's values may take: sets the default chunk size (default 64 MB). */
  chunkBudgetBytes?: number;
}

export interface RunOptions {
  promptId: string;
  signal?: AbortSignal;
  onEvent?: EventSink;
  extraData?: { workflow?: unknown; [key: string]: unknown };
  /** Run only these output nodes and their ancestors. */
  outputs?: string[];
  /** Someone shows nodes' preview images (the server's editor clients): nodes get ctx.preview. */
  previews?: boolean;
  /** Stream clips through the graph in chunks where the graph allows it (default true); false = one pass. */
  stream?: boolean;
  /** Frames per chunk (rounded up to a multiple of the Sampler's batch and the VAE's frames per call); default from the chunk budget. */
  chunkFrames?: number;
  /**
   * Polled at every progress report and node boundary: an interrupt requested from another thread (a
   * shared flag), seen even while this thread is too busy to receive a message. True aborts the run.
   */
  interrupted?: () => boolean;
}

export type RunStatus = 'success' | 'error' | 'interrupted' | 'invalid';

export interface RunResult {
  status: RunStatus;
  /** UI payload of every output node that ran or was cached. */
  outputs: Record<string, Record<string, unknown>>;
  executed: string[];
  cached: string[];
  error?: ExecutionErrorData;
  validation?: Extract<ValidationResult, { ok: false }>;
}

class InterruptedError extends LimelightError {}

/** Error for a node that wrote into one of its (shared, cached) inputs. */
class InputMutatedError extends NodeInputError {}

/**
 * A linked value its input does not accept. Named by validation's error type (e.g. value_not_in_list)
 * rather than its class, so it reads as the same refusal a literal value gets.
 */
const silentLog: Logger = { info: () => {}, warn: () => {} };

export class Engine {
  readonly memory: MemoryCache;
  readonly disk?: DiskCache;
  private readonly log: Logger;
  private readonly plans = new PlanMemo();
  private running = false;

  constructor(private readonly options: EngineOptions) {
    this.memory = new MemoryCache(options.memoryBudgetBytes);
    this.disk = options.disk ? new DiskCache(options.disk.dir, options.disk.capBytes) : undefined;
    this.log = options.log ?? silentLog;
  }

  get env(): ComboEnvironment {
    return { folders: this.options.folders };
  }

  validate(prompt: unknown, outputs?: string[]): ValidationResult {
    try {
      return validatePrompt(prompt, this.options.registry, this.env, { outputs });
    } catch (error) {
      // Validation must never throw out of the engine, whatever the prompt holds.
      const message = `the prompt could not be read: ${(error as Error).message}`;
      return { ok: false, error: { type: 'invalid_prompt', message: 'Invalid prompt', details: message, extra_info: {} }, node_errors: {} };
    }
  }

  async clearCache(): Promise<void> {
    this.memory.clear();
    await this.disk?.clear();
  }

  /** Validation plus execution order (and keys for prompts that read no files), remembered per prompt text. */
  plan(prompt: unknown, outputs?: string[]): { plan: Plan } | { invalid: Extract<ValidationResult, { ok: false }> } {
    const memoKey = PlanMemo.keyOf(prompt, outputs);
    const remembered = this.plans.get(memoKey);
    if (remembered) return { plan: remembered };
    const validation = this.validate(prompt, outputs);
    if (!validation.ok) return { invalid: validation };
    const plan = makePlan(validation.nodes, validation.outputs);
    this.plans.remember(memoKey, plan);
    return { plan };
  }

  /** The frame-count pre-pass (probing the input files): what is known of each output, and the counts that cannot fit. */
  async checkFrames(plan: Plan, signal?: AbortSignal): Promise<{ known: FrameCounts['known']; refused?: Extract<ValidationResult, { ok: false }> }> {
    const { known, refusals } = await countFrames(plan.nodes, plan.order, this.options.folders, signal);
    return { known, refused: refusals.length > 0 ? frameCountRefusal(refusals, plan.nodes, plan.outputs) : undefined };
  }

  /** Everything that can refuse a prompt before it runs: validation, then the frame-count pre-pass. */
  async check(prompt: unknown, outputs?: string[]): Promise<ValidationResult> {
    const planned = this.plan(prompt, outputs);
    if ('invalid' in planned) return planned.invalid;
    const { nodes, outputs: targets } = planned.plan;
    return (await this.checkFrames(planned.plan)).refused ?? { ok: true, nodes, outputs: targets, node_errors: {} };
  }

  async run(prompt: unknown, options: RunOptions): Promise<RunResult> {
    const planned = this.plan(prompt, options.outputs);
    if ('invalid' in planned) return { status: 'invalid', outputs: {}, executed: [], cached: [], validation: planned.invalid };
    if (this.running) throw new Error('the engine runs one prompt at a time; queue the next one');
    this.running = true;
    try {
      const { known, refused } = await this.checkFrames(planned.plan, options.signal);
      if (refused) return { status: 'invalid', outputs: {}, executed: [], cached: [], validation: refused };
      const regions = options.stream === false ? [] : planStreams(planned.plan.nodes, planned.plan.order, known);
      return await new PromptRun(this, planned.plan, regions, options, this.options, this.log).execute();
    } finally {
      this.running = false;
    }
  }

  /** Stores a node's result in the memory tier, and on disk when the node declares `persist`. */
  async remember(key: string, definition: NodeDefinition, outputs: unknown[], ui: Record<string, unknown> | undefined): Promise<CacheEntry> {
    deepFreeze(outputs);
    if (ui) deepFreeze(ui);
    const entry: CacheEntry = { outputs, ui, bytes: byteSize(outputs), guard: new MutationGuard(outputs) };
    this.memory.set(key, entry);
    if (definition.persist && this.disk) {
      try {
        await this.disk.set(key, { outputs, ui });
      } catch (error) {
        const why = error instanceof NotPersistableError ? error.message : `disk cache write failed: ${(error as Error).message}`;
        this.log.warn(`${definition.type}: output not kept on disk (${why})`);
      }
    }
    return entry;
  }

  /** A cached entry from memory, else from disk (then promoted to memory). */
  async recall(key: string, definition: NodeDefinition): Promise<CacheEntry | undefined> {
    const inMemory = this.memory.get(key);
    if (inMemory) return inMemory;
    if (!definition.persist || !this.disk) return undefined;
    const stored = await this.disk.get(key);
    if (!stored) return undefined;
    deepFreeze(stored.outputs);
    const entry: CacheEntry = { outputs: stored.outputs, ui: stored.ui, bytes: byteSize(stored.outputs), guard: new MutationGuard(stored.outputs) };
    this.memory.set(key, entry);
    return entry;
  }

  /** Chunk results of streamed nodes that declare `persist` (the Sampler's latents): on disk only, so they never fill memory. */
  get chunkCache(): ChunkCache | undefined {
    const disk = this.disk;
    if (!disk) return undefined;
    return {
      get: async (key) => (await disk.get(key))?.outputs,
      set: async (key, outputs) => {
        await disk.set(key, { outputs }).catch((error: Error) => this.log.warn(`a chunk was not kept on disk (${error.message})`));
      },
    };
  }

  /** Whether the key is cached: answered synchronously from memory when possible (the common case). */
  isCached(key: string, definition: NodeDefinition): boolean | Promise<boolean> {
    if (this.memory.has(key)) return true;
    return definition.persist === true && this.disk !== undefined && this.disk.has(key);
  }
}

const DEFAULT_CHUNK_BUDGET_BYTES = 64 * 1024 ** 2;

/** One execution of a validated prompt. */
class PromptRun {
  private readonly keys: Map<string, string>;
  private readonly nodes: Map<string, ValidNode>;
  private readonly entries = new Map<string, CacheEntry>();
  private readonly executed: string[] = [];
  private readonly uiOutputs: Record<string, Record<string, unknown>> = {};
  /** Aborted by the caller's signal or by the `interrupted` poll; what the nodes see as ctx.signal. */
  private readonly signal: AbortSignal;
  private readonly interruption = new AbortController();
  private readonly emit: EventSink;
  private readonly folders: Folders;
  /** The node running (or taking frames), named if it fails. */
  private current: ValidNode | null = null;
  /** While a clip streams: its progress, added to every progress event. */
  private clip?: ClipProgress;

  constructor(
    private readonly engine: Engine,
    private readonly plan: Plan,
    private readonly regions: StreamRegion[],
    private readonly options: RunOptions,
    private readonly engineOptions: EngineOptions,
    private readonly log: Logger,
  ) {
    this.nodes = plan.nodes;
    this.keys = plan.keys ?? new Map();
    this.folders = engineOptions.folders;
    this.signal = options.signal ? AbortSignal.any([options.signal, this.interruption.signal]) : this.interruption.signal;
    this.emit = options.onEvent ?? (() => {});
  }

  private get promptId(): string {
    return this.options.promptId;
  }

  async execute(): Promise<RunResult> {
    const { order } = this.plan;
    this.emit({ type: 'execution_start', data: { prompt_id: this.promptId, timestamp: Date.now() } });
    let cached: string[] = [];
    try {
      for (const id of this.plan.keys ? [] : order) {
        this.current = this.nodes.get(id)!;
        this.keys.set(id, await this.keyOf(this.current));
      }
      this.current = null;
      // A streamed region's per-frame nodes run only inside its stream, which runs when one of its sinks is not cached.
      const perFrame = new Set(this.regions.flatMap((region) => region.nodes.filter((id) => !region.sinks.includes(id))));
      const toRun = await this.nodesToRun(order.filter((id) => !perFrame.has(id)));
      const streams = this.regions.filter((region) => region.sinks.some((id) => toRun.has(id)));
      const streamed = new Set(streams.flatMap((region) => region.nodes));
      cached = order.filter((id) => !toRun.has(id) && !streamed.has(id));
      this.emit({ type: 'execution_cached', data: { nodes: cached, prompt_id: this.promptId, timestamp: Date.now() } });
      await this.reportCachedOutputs(cached);
      const running = new Set([...toRun, ...streamed]);
      const consumers = this.countConsumers(order, running);
      // Hold the cached values this run reads now, so filling the cache during the run cannot evict them.
      for (const id of cached) if (consumers.has(id)) await this.entryFor(id);
      // Whole-clip nodes first: no node outside a stream reads its results (planStreams keeps readers inside).
      for (const id of order.filter((id) => toRun.has(id) && !streamed.has(id))) await this.runWhole(id, consumers);
      for (const region of streams) {
        await runStream(region, region.sinks.filter((id) => toRun.has(id)), this.streamHost(region), this.streamOptions(), `${this.promptId}/${region.nodes[0]}`);
        this.clip = undefined;
        for (const id of region.nodes) this.release(this.nodes.get(id)!, consumers);
      }
      this.current = null;
      this.emit({ type: 'executing', data: { node: null, display_node: null, prompt_id: this.promptId } });
      this.emit({ type: 'execution_success', data: { prompt_id: this.promptId, timestamp: Date.now() } });
      return { status: 'success', outputs: this.uiOutputs, executed: this.executed, cached };
    } catch (error) {
      return this.failure(error, this.current, cached);
    }
  }

  private async runWhole(id: string, consumers: Map<string, number>): Promise<void> {
    this.stopIfInterrupted();
    this.current = this.nodes.get(id)!;
    await this.runNode(this.current);
    this.release(this.current, consumers);
  }

  private streamOptions() {
    return { chunkFrames: this.options.chunkFrames, chunkBudgetBytes: this.engineOptions.chunkBudgetBytes ?? DEFAULT_CHUNK_BUDGET_BYTES };
  }

  private streamHost(region: StreamRegion) {
    const inRegion = new Set(region.nodes);
    const outside = [...new Set(region.nodes.flatMap((id) => Object.values(this.nodes.get(id)!.links).map(([source]) => source)))].filter((id) => !inRegion.has(id));
    return {
      registry: this.engineOptions.registry,
      env: { folders: this.folders },
      nodes: this.nodes,
      keys: this.keys,
      cache: this.engine.chunkCache,
      signal: this.signal,
      outputs: async (id: string) => (await this.entryFor(id)).outputs,
      context: (node: ValidNode, range: FrameRange | undefined, kept: KeptState) => this.contextFor(node, range, kept),
      executing: (id: string) => {
        if (this.current?.id === id) return;
        this.current = this.nodes.get(id)!;
        this.emit({ type: 'executing', data: { node: id, display_node: id, prompt_id: this.promptId } });
      },
      chunkDone: (clip: ClipProgress, sink: string) => {
        this.clip = clip;
        this.checkOutsideUnchanged(outside);
        this.emit({ type: 'progress', data: { value: clip.done, max: clip.total, prompt_id: this.promptId, node: sink, label: 'frames', clip } });
        this.stopIfInterrupted();
      },
      finished: async (id: string, result: NodeResult) => {
        const node = this.nodes.get(id)!;
        const entry = await this.engine.remember(this.keys.get(id)!, node.definition, result.outputs, result.ui);
        this.recordResult(node, entry, result.ui);
      },
    };
  }

  private stopIfInterrupted(): void {
    if (!this.signal.aborted && this.options.interrupted?.()) this.interruption.abort();
    if (this.signal.aborted) throw new InterruptedError('interrupted');
  }

  private async keyOf(node: ValidNode): Promise<string> {
    const fingerprint = node.definition.fingerprint ? await node.definition.fingerprint(node.literals, { folders: this.folders }) : undefined;
    return nodeCacheKey(keyParts(node, fingerprint), (source) => this.keys.get(source)!);
  }

  /** Nodes whose output is not cached; a cached node needs no work (its value is loaded only if a running node reads it). */
  private async nodesToRun(order: string[]): Promise<Set<string>> {
    const toRun = new Set<string>();
    for (const id of order) {
      const node = this.nodes.get(id)!;
      const cached = this.engine.isCached(this.keys.get(id)!, node.definition);
      if (!(cached === true || (cached !== false && (await cached)))) toRun.add(id);
    }
    return toRun;
  }

  private async reportCachedOutputs(cached: string[]): Promise<void> {
    for (const id of cached) {
      const node = this.nodes.get(id)!;
      if (!node.definition.output) continue;
      const entry = await this.entryFor(id);
      if (entry.ui) {
        this.uiOutputs[id] = entry.ui;
        this.emit({ type: 'executed', data: { node: id, display_node: id, output: entry.ui, prompt_id: this.promptId } });
      }
    }
  }

  private countConsumers(order: string[], running: Set<string>): Map<string, number> {
    const counts = new Map<string, number>();
    for (const id of order) {
      if (!running.has(id)) continue;
      for (const [source] of Object.values(this.nodes.get(id)!.links)) counts.set(source, (counts.get(source) ?? 0) + 1);
    }
    return counts;
  }

  /** Drops this run's reference to sources no remaining node reads (the caches keep what fits their budgets). */
  private release(node: ValidNode, consumers: Map<string, number>): void {
    for (const [source] of Object.values(node.links)) {
      const left = (consumers.get(source) ?? 1) - 1;
      consumers.set(source, left);
      if (left <= 0) this.entries.delete(source);
    }
  }

  private async entryFor(id: string): Promise<CacheEntry> {
    const held = this.entries.get(id);
    if (held) return held;
    const node = this.nodes.get(id)!;
    const entry = await this.engine.recall(this.keys.get(id)!, node.definition);
    if (!entry) throw new Error(`cached output of node ${id} (${node.type}) vanished; run the prompt again`);
    this.entries.set(id, entry);
    return entry;
  }

  private async runNode(node: ValidNode): Promise<void> {
    const inputs: Record<string, unknown> = { ...node.literals };
    const sources = new Map<string, CacheEntry>();
    for (const [name, [source, slot]] of Object.entries(node.links)) {
      const entry = await this.entryFor(source);
      sources.set(name, entry);
      inputs[name] = entry.outputs[slot];
      checkLinkedValue(node.definition, name, inputs[name], { folders: this.folders });
    }
    this.emit({ type: 'executing', data: { node: node.id, display_node: node.id, prompt_id: this.promptId } });
    const result = checkedResult(node.definition, await node.definition.execute(inputs, this.contextFor(node)));
    this.checkInputsUnchanged(node, sources);
    const entry = await this.engine.remember(this.keys.get(node.id)!, node.definition, result.outputs, result.ui);
    this.recordResult(node, entry, result.ui);
  }

  private recordResult(node: ValidNode, entry: CacheEntry, ui: Record<string, unknown> | undefined): void {
    this.entries.set(node.id, entry);
    this.executed.push(node.id);
    if (ui) {
      this.uiOutputs[node.id] = ui;
      this.emit({ type: 'executed', data: { node: node.id, display_node: node.id, output: ui, prompt_id: this.promptId } });
    }
  }

  private checkInputsUnchanged(node: ValidNode, sources: Map<string, CacheEntry>): void {
    for (const [name, entry] of sources) {
      const changed = entry.guard.firstChange();
      if (changed === null) continue;
      const [source] = node.links[name];
      this.dropDamaged(source);
      throw new InputMutatedError(
        name,
        `${node.type} wrote into its input '${name}' (output of node ${source}, at ${changed}). Inputs are shared with the cache: the node must copy an input before changing it. The damaged value was dropped from the cache.`,
      );
    }
  }

  /** The cached values a stream reads from outside it, checked after each chunk (the nodes of the chunk must not write into them). */
  private checkOutsideUnchanged(sources: string[]): void {
    for (const source of sources) {
      const changed = this.entries.get(source)?.guard.firstChange();
      if (!changed) continue;
      this.dropDamaged(source);
      throw new InternalError(
        `a node of the streamed clip wrote into the output of node ${source} (${this.nodes.get(source)!.type}, at ${changed}). Inputs are shared with the cache: nodes must copy an input before changing it. The damaged value was dropped from the cache.`,
      );
    }
  }

  private dropDamaged(source: string): void {
    this.engine.memory.delete(this.keys.get(source)!);
    this.entries.delete(source);
  }

  private contextFor(node: ValidNode, range?: FrameRange, kept?: KeptState): ExecuteContext {
    const prefix = `[${node.id} ${node.type}] `;
    return {
      nodeId: node.id,
      promptId: this.promptId,
      folders: this.folders,
      signal: this.signal,
      log: { info: (m) => this.log.info(prefix + m), warn: (m) => this.log.warn(prefix + m) },
      progress: (value, max, detail) => {
        this.stopIfInterrupted();
        this.emit({ type: 'progress', data: { value, max, prompt_id: this.promptId, node: node.id, ...detail, ...(this.clip && { clip: this.clip }) } });
      },
      preview: this.options.previews
        ? (format, bytes) => this.emit({ type: 'preview', data: { node: node.id, prompt_id: this.promptId, format, bytes } })
        : undefined,
      extraData: { prompt: this.options.extraData?.prompt, workflow: this.options.extraData?.workflow },
      ...(range && { range }),
      ...(kept && { keep: (name, open, close) => kept.keep(`${node.id}/${name}`, open, close) }),
    };
  }

  private failure(error: unknown, node: ValidNode | null, cached: string[]): RunResult {
    // Whatever an interrupt broke on its way (a killed ffmpeg, a closed pipe), the run was interrupted.
    const interrupted = error instanceof InterruptedError || this.signal.aborted;
    if (interrupted) {
      this.emit({
        type: 'execution_interrupted',
        data: { prompt_id: this.promptId, node_id: node?.id ?? null, node_type: node?.type ?? null, executed: this.executed, timestamp: Date.now() },
      });
      return { status: 'interrupted', outputs: this.uiOutputs, executed: this.executed, cached };
    }
    const err = error instanceof Error ? error : new Error(String(error));
    // An input error may name the upstream node whose input is at fault (an injected mask the Sampler refuses).
    const named = err instanceof NodeInputError && err.nodeId !== undefined ? this.nodes.get(err.nodeId) : undefined;
    const blamed = named ?? node ?? undefined;
    const data = executionError({
      promptId: this.promptId,
      error: err,
      node: blamed,
      executed: this.executed,
      currentInputs: blamed ? summariseInputs(blamed) : {},
      withTraceback: node !== null,
    });
    this.emit({ type: 'execution_error', data });
    return { status: 'error', outputs: this.uiOutputs, executed: this.executed, cached, error: data };
  }
}

function summariseInputs(node: ValidNode): Record<string, unknown> {
  const links = Object.fromEntries(Object.entries(node.links).map(([name, link]) => [name, `link from node ${link[0]}[${link[1]}]`]));
  return { ...node.literals, ...links };
}

export type { EngineEvent };
