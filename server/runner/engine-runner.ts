// The host side of the engine runner: node work runs in a worker thread, off the server's event loop.
// It starts the thread, hands it one prompt at a time, relays its events, interrupts it through a
// shared flag (seen at the next progress report even while the thread is busy) and a message, and turns
// the thread's death into a clear error; the next prompt gets a fresh runner.
import { Worker } from 'node:worker_threads';
import type { Logger, Settings } from '../config.ts';
import type { RunResult } from '../engine/engine.ts';
import type { EventSink } from '../../common/events.ts';
import type { NodeSetRef } from './node-set.ts';
import { protocolProblem, RUNNER_PROTOCOL, versioned, type RunJob, type RunnerConfig, type RunnerReply, type RunnerRequest, type RunnerStats } from './protocol.ts';

import { LimelightError } from '../errors.ts';

const ENTRY = new URL('./runner-thread.js', import.meta.url);

/** The runner thread died (an uncaught error, a failed start): the running prompt fails with this. */
export class RunnerCrashedError extends LimelightError {}

/** The runner was stopped (the server shuts down) while a prompt ran. */
export class RunnerStoppedError extends LimelightError {}

export interface RunnerOptions {
  nodes: NodeSetRef;
  settings: Settings;
  log: Logger;
}

export interface RunnerRunOptions {
  signal?: AbortSignal;
  onEvent?: EventSink;
}

type Unversioned<T> = T extends unknown ? Omit<T, 'protocol'> : never;

interface PendingRun {
  promptId: string;
  onEvent: EventSink;
  resolve(result: RunResult): void;
  reject(error: Error): void;
}

/** One worker thread and the answers it owes. */
class RunnerThread {
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private current: PendingRun | null = null;
  private readonly requests = new Map<number, (stats: RunnerStats) => void>();
  private nextId = 1;
  private failure: Error | null = null;
  private stopping = false;
  private end!: (error: Error) => void;

  constructor(
    config: RunnerConfig,
    /** What the runner last reported (until it has: an empty one). */
    public lastStats: RunnerStats,
    log: Logger,
    onEnd: () => void,
  ) {
    this.worker = new Worker(ENTRY, { workerData: config, stdout: false, stderr: false });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (reply: RunnerReply) => {
        if (reply.type === 'ready') resolve();
        this.receive(reply, log);
      });
      this.end = (error) => {
        reject(error);
        this.current?.reject(error);
        this.current = null;
        for (const answer of this.requests.values()) answer(this.lastStats);
        this.requests.clear();
        onEnd();
      };
    });
    // Rejections of `ready` are seen by whoever awaits it; none must go unhandled when nobody does.
    this.ready.catch(() => {});
    this.worker.on('error', (error) => {
      this.failure = error;
    });
    this.worker.on('exit', (code) => {
      const why = this.failure ? this.failure.message : `it exited with code ${code}`;
      this.end(this.stopping ? new RunnerStoppedError('the runner was stopped') : new RunnerCrashedError(`the engine runner crashed (${why})`));
    });
  }

  run(job: RunJob, onEvent: EventSink): Promise<RunResult> {
    if (this.current) return Promise.reject(new Error('the runner runs one prompt at a time; queue the next one'));
    return new Promise((resolve, reject) => {
      this.current = { promptId: job.promptId, onEvent, resolve, reject };
      this.post({ type: 'run', job });
    });
  }

  interrupt(promptId: string): void {
    this.post({ type: 'interrupt', promptId });
  }

  /** Asks for the runner's stats (after freeing, for `free`); a busy runner answers between two node calls. */
  request(message: { type: 'stats' } | { type: 'free'; memory: boolean; models: boolean }): Promise<RunnerStats> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.requests.set(id, resolve);
      this.post({ ...message, id });
    });
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
  }

  private post(message: Unversioned<RunnerRequest>): void {
    this.worker.postMessage(versioned(message));
  }

  private receive(reply: RunnerReply, log: Logger): void {
    const problem = protocolProblem(reply);
    if (problem) {
      log.warn(problem);
      return;
    }
    switch (reply.type) {
      case 'ready':
        this.lastStats = reply.stats;
        return;
      case 'event':
        if (this.current?.promptId === reply.promptId) this.current.onEvent(reply.event);
        return;
      case 'result':
      case 'run_failed': {
        const current = this.current;
        if (current?.promptId !== reply.promptId) return;
        this.current = null;
        if (reply.type === 'result') {
          this.lastStats = reply.stats;
          current.resolve(reply.result);
        } else {
          current.reject(new Error(reply.message));
        }
        return;
      }
      case 'stats': {
        this.lastStats = reply.stats;
        this.requests.get(reply.id)?.(reply.stats);
        this.requests.delete(reply.id);
        return;
      }
      case 'log':
        log[reply.level](reply.message);
        return;
      case 'refused':
        log.warn(`the runner refused a message: ${reply.message}`);
    }
  }
}

export class EngineRunner {
  private thread: RunnerThread | null = null;
  /** Shared with every runner thread: 1 = interrupt the running prompt. */
  private readonly interruptFlag = new Int32Array(new SharedArrayBuffer(4));

  constructor(private readonly options: RunnerOptions) {}

  /** Starts the runner thread now (loading the nodes and onnxruntime takes a few seconds) rather than at the first prompt. */
  start(): Promise<void> {
    return this.live().ready;
  }

  async run(job: RunJob, { signal, onEvent = () => {} }: RunnerRunOptions = {}): Promise<RunResult> {
    const thread = this.live();
    await thread.ready;
    Atomics.store(this.interruptFlag, 0, 0);
    const running = thread.run(job, onEvent);
    const interrupt = () => {
      Atomics.store(this.interruptFlag, 0, 1);
      thread.interrupt(job.promptId);
    };
    if (signal?.aborted) interrupt();
    signal?.addEventListener('abort', interrupt, { once: true });
    try {
      return await running;
    } finally {
      signal?.removeEventListener('abort', interrupt);
    }
  }

  /** Model sessions and memory-cache use, from the runner; while it is deep in a model call, its last report. */
  async stats(): Promise<RunnerStats> {
    const thread = this.thread;
    if (!thread) return this.emptyStats();
    const last = new Promise<RunnerStats>((resolve) => setTimeout(() => resolve(thread.lastStats), 250).unref());
    return Promise.race([thread.ready.then(() => thread.request({ type: 'stats' })), last]).catch(() => thread.lastStats);
  }

  /** Clears the memory cache and/or unloads the model sessions (a running prompt keeps what it holds). */
  async free(what: { memory: boolean; models: boolean }): Promise<void> {
    const thread = this.thread;
    if (!thread || (!what.memory && !what.models)) return;
    await thread.ready.then(() => thread.request({ type: 'free', ...what })).catch(() => {});
  }

  /** Stops the runner thread; a prompt still running fails with RunnerStoppedError. */
  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = null;
    await thread?.terminate();
  }

  private emptyStats(): RunnerStats {
    return { provider: null, sessions: [], memoryCache: { entries: 0, bytes: 0, budgetBytes: this.options.settings.memoryCacheBytes } };
  }

  private live(): RunnerThread {
    if (!this.thread) {
      const config: RunnerConfig = { protocol: RUNNER_PROTOCOL, nodes: this.options.nodes, settings: this.options.settings, interruptFlag: this.interruptFlag.buffer as SharedArrayBuffer };
      const thread = new RunnerThread(config, this.emptyStats(), this.options.log, () => {
        if (this.thread === thread) this.thread = null;
      });
      this.thread = thread;
    }
    return this.thread;
  }
}
