// Runs queued prompts one at a time in the engine runner (off this thread), forwards the engine's events
// to the submitting client, and moves each prompt into the history with its outputs, status and messages.
import type { EngineEvent, RunResult } from '../engine/engine.ts';
import { RunnerCrashedError, RunnerStoppedError, type EngineRunner } from '../runner/engine-runner.ts';
import type { EventHub } from './event-hub.ts';
import type { Preview } from './preview-frames.ts';
import type { HistoryMessage, PromptStore, QueueItem } from './prompt-store.ts';
import { redactDeep, type Redactor } from './redact-paths.ts';
import type { Logger } from '../config.ts';
import { executionError } from '../engine/execution-error.ts';
import { InternalError, ValidationError } from '../errors.ts';

/** Events ComfyUI keeps in a history entry's `status.messages`. */
const HISTORY_EVENTS = new Set(['execution_start', 'execution_cached', 'execution_success', 'execution_error', 'execution_interrupted']);

interface Running {
  item: QueueItem;
  clientId: string | null;
  controller: AbortController;
}

export class PromptWorker {
  private running: Running | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly runner: Pick<EngineRunner, 'run'>,
    private readonly store: PromptStore,
    private readonly hub: EventHub,
    private readonly log: Logger,
    /** Error events go to clients and the history without server paths. */
    private readonly redact: Redactor,
  ) {}

  get runningPromptId(): string | null {
    return this.running?.item.promptId ?? null;
  }

  status(): { status: { exec_info: { queue_remaining: number } } } {
    return { status: { exec_info: { queue_remaining: this.store.remaining() } } };
  }

  broadcastStatus(): void {
    this.hub.broadcast('status', this.status());
  }

  /** Starts working through the queue unless already doing so. */
  kick(): void {
    if (this.loop || this.stopped) return;
    this.loop = this.drain()
      .catch((error: Error) => this.log.warn(`the queue stopped: ${error.message}; it resumes with the next prompt queued`))
      .finally(() => {
        this.loop = null;
      });
  }

  /** Interrupts the running prompt (only if it is `promptId`, when given). Returns whether one was interrupted. */
  interrupt(promptId?: string): boolean {
    if (!this.running || (promptId !== undefined && promptId !== this.running.item.promptId)) return false;
    this.running.controller.abort();
    return true;
  }

  /**
   * Sends a preview image of a node of `promptId` to the clients watching it, while that prompt runs: a
   * preview finished after its prompt ended (images are encoded off the sampling loop) is dropped.
   */
  preview(promptId: string, nodeId: string, image: Pick<Preview, 'format' | 'image'>): void {
    if (this.running?.item.promptId !== promptId) return;
    this.hub.sendPreview({ ...image, nodeId, promptId }, this.running.clientId);
  }

  /** Interrupts the running prompt and waits until the worker has stopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.running?.controller.abort();
    await this.loop;
  }

  private async drain(): Promise<void> {
    // Yield once, so a request that queued the prompt is answered before the run starts.
    await new Promise((resolve) => setImmediate(resolve));
    while (!this.stopped) {
      const item = this.store.takeNext();
      if (!item) return;
      const clientId = typeof item.extraData.client_id === 'string' ? item.extraData.client_id : null;
      this.running = { item, clientId, controller: new AbortController() };
      this.broadcastStatus();
      try {
        await this.execute(this.running);
      } catch (error) {
        this.log.warn(`prompt ${item.promptId}: could not record its result (${(error as Error).message}); it is marked failed on the next start`);
      } finally {
        this.running = null;
      }
      this.broadcastStatus();
    }
  }

  private async execute({ item, clientId, controller }: Running): Promise<void> {
    const messages: HistoryMessage[] = [];
    let started = false;
    /** Nodes that began executing, in order (the last one is running), for a runner that dies without saying. */
    const begun: string[] = [];
    /** The prompt's last events, sent once its history entry is written: clients read the history when they see them. */
    const closing: [string, unknown][] = [];
    const emit = (event: EngineEvent) => {
      if (event.type === 'preview') {
        this.preview(item.promptId, event.data.node, { format: event.data.format, image: event.data.bytes });
        return;
      }
      started ||= event.type === 'execution_start';
      if (event.type === 'executing' && event.data.node !== null) begun.push(event.data.node);
      const data = event.type === 'execution_error' ? redactDeep(event.data, this.redact) : event.data;
      if (HISTORY_EVENTS.has(event.type)) messages.push([event.type, data as Record<string, unknown>]);
      if (event.type === 'execution_success' || event.type === 'execution_error' || event.type === 'execution_interrupted' || (event.type === 'executing' && event.data.node === null)) {
        closing.push([event.type, data]);
      } else {
        this.hub.sendPromptEvent(clientId, event.type, data);
      }
    };
    const start = () => {
      if (!started) emit({ type: 'execution_start', data: { prompt_id: item.promptId, timestamp: Date.now() } });
    };
    const typeOf = (nodeId: string) => {
      const type = (item.prompt[nodeId] as { class_type?: unknown } | undefined)?.class_type;
      return typeof type === 'string' ? type : '';
    };
    const fail = (error: Error, nodeId?: string) => {
      start();
      const node = nodeId === undefined ? undefined : { id: nodeId, type: typeOf(nodeId) };
      emit({ type: 'execution_error', data: executionError({ promptId: item.promptId, error, node, executed: begun.slice(0, -1) }) });
    };

    const pnginfo = item.extraData.extra_pnginfo as { workflow?: unknown } | undefined;
    let result: RunResult;
    try {
      result = await this.runner.run(
        { promptId: item.promptId, prompt: item.prompt, extraData: { prompt: item.prompt, workflow: pnginfo?.workflow }, outputs: item.outputsToExecute, previews: true },
        { signal: controller.signal, onEvent: emit },
      );
    } catch (error) {
      result = { status: 'error', outputs: {}, executed: [], cached: [] };
      const node = begun.at(-1);
      if (error instanceof RunnerStoppedError) {
        result.status = 'interrupted';
        start();
        emit({
          type: 'execution_interrupted',
          data: { prompt_id: item.promptId, node_id: node ?? null, node_type: node ? typeOf(node) : null, executed: begun.slice(0, -1), timestamp: Date.now() },
        });
      } else if (error instanceof RunnerCrashedError) {
        fail(new InternalError(`${error.message}; a fresh runner starts for the next prompt`), node);
      } else {
        fail(new InternalError(`the engine failed: ${(error as Error).message}`));
      }
    }
    if (result.status === 'invalid') {
      // The prompt was valid when queued; something it reads (a file, a model) changed since.
      const details = result.validation?.error.details ?? 'the prompt is no longer valid';
      fail(new ValidationError(`${details}. Fix the prompt and queue it again.`), Object.keys(result.validation?.node_errors ?? {})[0]);
    }
    if (result.status !== 'success') {
      // ComfyUI ends every prompt with `executing` for node null; scripts wait for it.
      closing.push(['executing', { node: null, display_node: null, prompt_id: item.promptId }]);
    }
    const success = result.status === 'success';
    const meta = Object.fromEntries(Object.keys(result.outputs).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }]));
    try {
      this.store.finish(item, { outputs: result.outputs, status: { status_str: success ? 'success' : 'error', completed: success, messages }, meta });
    } finally {
      for (const [type, data] of closing) this.hub.sendPromptEvent(clientId, type, data);
    }
  }
}
