// The execution engine: validates a prompt, works out what is cached, runs the rest in order and
// emits ComfyUI's events. It knows nothing of HTTP or WebSockets.
import type { ComboEnvironment, ExecuteContext, NodeDefinition } from './node-contract.ts';
import type { NodeRegistry } from './node-registry.ts';
import { nodeCacheKey } from './cache-key.ts';
import { DiskCache } from './disk-cache.ts';
import type { EngineEvent, EventSink, ExecutionErrorData } from '../../common/events.ts';
import { executionError } from './execution-error.ts';
import { MemoryCache, type CacheEntry } from './memory-cache.ts';
import { makePlan, PlanMemo, type Plan } from './plan.ts';
import { NotPersistableError } from './serialize.ts';
import { countFrames } from './frame-counts.ts';
import { frameCountRefusal, validatePrompt, type ValidationResult, type ValidNode } from './validate.ts';
import { byteSize, deepFreeze, MutationGuard } from './cached-values.ts';
import type { Folders, Logger } from '../config.ts';
import { LimelightError, NodeInputError } from '../errors.ts';

export interface EngineOptions {
  registry: NodeRegistry;
  folders: Folders;
  /** Byte budget of the in-memory cache of node outputs. */
  memoryBudgetBytes: number;
  /** Disk tier for outputs of nodes that declare `persist`; omitted = memory only. */
  disk?: { dir: string; capBytes: number };
  log?: Logger;
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

  /** Frame counts that cannot fit, found before anything runs (probing the input files); undefined when none. */
  async checkFrames(plan: Plan, signal?: AbortSignal): Promise<Extract<ValidationResult, { ok: false }> | undefined> {
    const { refusals } = await countFrames(plan.nodes, plan.order, this.options.folders, signal);
    return refusals.length > 0 ? frameCountRefusal(refusals, plan.nodes, plan.outputs) : undefined;
  }

  /** Everything that can refuse a prompt before it runs: validation, then the frame-count pre-pass. */
  async check(prompt: unknown, outputs?: string[]): Promise<ValidationResult> {
    const planned = this.plan(prompt, outputs);
    if ('invalid' in planned) return planned.invalid;
    const { nodes, outputs: targets } = planned.plan;
    return (await this.checkFrames(planned.plan)) ?? { ok: true, nodes, outputs: targets, node_errors: {} };
  }

  async run(prompt: unknown, options: RunOptions): Promise<RunResult> {
    const planned = this.plan(prompt, options.outputs);
    if ('invalid' in planned) return { status: 'invalid', outputs: {}, executed: [], cached: [], validation: planned.invalid };
    if (this.running) throw new Error('the engine runs one prompt at a time; queue the next one');
    this.running = true;
    try {
      const refused = await this.checkFrames(planned.plan, options.signal);
      if (refused) return { status: 'invalid', outputs: {}, executed: [], cached: [], validation: refused };
      return await new PromptRun(this, planned.plan, options, this.options.folders, this.log).execute();
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

  /** Whether the key is cached: answered synchronously from memory when possible (the common case). */
  isCached(key: string, definition: NodeDefinition): boolean | Promise<boolean> {
    if (this.memory.has(key)) return true;
    return definition.persist === true && this.disk !== undefined && this.disk.has(key);
  }
}

/** One execution of a validated prompt. */
class PromptRun {
  private readonly keys: Map<string, string>;
  private readonly nodes: Map<string, ValidNode>;
  private readonly entries = new Map<string, CacheEntry>();
  private readonly executed: string[] = [];
  private readonly uiOutputs: Record<string, Record<string, unknown>> = {};
  private readonly signal: AbortSignal;
  private readonly emit: EventSink;

  constructor(
    private readonly engine: Engine,
    private readonly plan: Plan,
    private readonly options: RunOptions,
    private readonly folders: Folders,
    private readonly log: Logger,
  ) {
    this.nodes = plan.nodes;
    this.keys = plan.keys ?? new Map();
    this.signal = options.signal ?? new AbortController().signal;
    this.emit = options.onEvent ?? (() => {});
  }

  private get promptId(): string {
    return this.options.promptId;
  }

  async execute(): Promise<RunResult> {
    const { order } = this.plan;
    this.emit({ type: 'execution_start', data: { prompt_id: this.promptId, timestamp: Date.now() } });
    let current: ValidNode | null = null;
    let cached: string[] = [];
    try {
      for (const id of this.plan.keys ? [] : order) {
        current = this.nodes.get(id)!;
        this.keys.set(id, await this.keyOf(current));
      }
      current = null;
      const toRun = await this.nodesToRun(order);
      cached = order.filter((id) => !toRun.has(id));
      this.emit({ type: 'execution_cached', data: { nodes: cached, prompt_id: this.promptId, timestamp: Date.now() } });
      await this.reportCachedOutputs(cached);
      const consumers = this.countConsumers(order, toRun);
      // Hold the cached values this run reads now, so filling the cache during the run cannot evict them.
      for (const id of cached) if (consumers.has(id)) await this.entryFor(id);
      for (const id of order) {
        if (!toRun.has(id)) continue;
        if (this.signal.aborted) throw new InterruptedError('interrupted');
        current = this.nodes.get(id)!;
        await this.runNode(current);
        this.release(current, consumers);
      }
      current = null;
      this.emit({ type: 'executing', data: { node: null, display_node: null, prompt_id: this.promptId } });
      this.emit({ type: 'execution_success', data: { prompt_id: this.promptId, timestamp: Date.now() } });
      return { status: 'success', outputs: this.uiOutputs, executed: this.executed, cached };
    } catch (error) {
      return this.failure(error, current, cached);
    }
  }

  private async keyOf(node: ValidNode): Promise<string> {
    const fingerprint = node.definition.fingerprint ? await node.definition.fingerprint(node.literals, { folders: this.folders }) : undefined;
    return nodeCacheKey(
      { type: node.type, version: node.definition.version, literals: node.literals, fingerprint, links: node.links },
      (source) => this.keys.get(source)!,
    );
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

  private countConsumers(order: string[], toRun: Set<string>): Map<string, number> {
    const counts = new Map<string, number>();
    for (const id of order) {
      if (!toRun.has(id)) continue;
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
    }
    this.emit({ type: 'executing', data: { node: node.id, display_node: node.id, prompt_id: this.promptId } });
    const result = await node.definition.execute(inputs, this.contextFor(node));
    this.checkInputsUnchanged(node, sources);
    if (!result || !Array.isArray(result.outputs) || result.outputs.length !== node.definition.outputs.length) {
      throw new Error(`${node.type} returned ${result?.outputs?.length ?? 'no'} outputs but declares ${node.definition.outputs.length}`);
    }
    const entry = await this.engine.remember(this.keys.get(node.id)!, node.definition, result.outputs, result.ui);
    this.entries.set(node.id, entry);
    this.executed.push(node.id);
    if (result.ui) {
      this.uiOutputs[node.id] = result.ui;
      this.emit({ type: 'executed', data: { node: node.id, display_node: node.id, output: result.ui, prompt_id: this.promptId } });
    }
  }

  private checkInputsUnchanged(node: ValidNode, sources: Map<string, CacheEntry>): void {
    for (const [name, entry] of sources) {
      const changed = entry.guard.firstChange();
      if (changed === null) continue;
      const [source] = node.links[name];
      this.engine.memory.delete(this.keys.get(source)!);
      this.entries.delete(source);
      throw new InputMutatedError(
        name,
        `${node.type} wrote into its input '${name}' (output of node ${source}, at ${changed}). Inputs are shared with the cache: the node must copy an input before changing it. The damaged value was dropped from the cache.`,
      );
    }
  }

  private contextFor(node: ValidNode): ExecuteContext {
    const prefix = `[${node.id} ${node.type}] `;
    return {
      nodeId: node.id,
      promptId: this.promptId,
      folders: this.folders,
      signal: this.signal,
      log: { info: (m) => this.log.info(prefix + m), warn: (m) => this.log.warn(prefix + m) },
      progress: (value, max, detail) => {
        if (this.signal.aborted) throw new InterruptedError('interrupted');
        this.emit({ type: 'progress', data: { value, max, prompt_id: this.promptId, node: node.id, ...detail } });
      },
      preview: this.options.previews
        ? (format, bytes) => this.emit({ type: 'preview', data: { node: node.id, prompt_id: this.promptId, format, bytes } })
        : undefined,
      extraData: { prompt: this.options.extraData?.prompt, workflow: this.options.extraData?.workflow },
    };
  }

  private failure(error: unknown, node: ValidNode | null, cached: string[]): RunResult {
    const interrupted = error instanceof InterruptedError || (this.signal.aborted && (error as Error)?.name === 'AbortError');
    if (interrupted) {
      this.emit({
        type: 'execution_interrupted',
        data: { prompt_id: this.promptId, node_id: node?.id ?? null, node_type: node?.type ?? null, executed: this.executed, timestamp: Date.now() },
      });
      return { status: 'interrupted', outputs: this.uiOutputs, executed: this.executed, cached };
    }
    const err = error instanceof Error ? error : new Error(String(error));
    const data = executionError({
      promptId: this.promptId,
      error: err,
      node: node ?? undefined,
      executed: this.executed,
      currentInputs: node ? summariseInputs(node) : {},
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
