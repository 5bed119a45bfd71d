// What the routes share: the engine (for validation), the queue and history, the worker, the socket hub,
// the runner's stats and settings.
import type { ChunkDispatcher } from '../scale/chunk-dispatcher.ts';
import type { NodeRegistry } from '../engine/node-registry.ts';
import type { Engine } from '../engine/engine.ts';
import type { EventHub } from './event-hub.ts';
import type { PromptStore } from './prompt-store.ts';
import type { PromptWorker } from './prompt-worker.ts';
import type { Redactor } from './redact-paths.ts';
import type { SubmitResult } from './submit-prompt.ts';
import type { Folders } from '../config.ts';
import type { RunnerStats } from '../runner/protocol.ts';

/** What the engine runner tells the server (sessions, provider, memory cache) and lets it do (free them). */
export interface RuntimeHooks {
  stats(): Promise<RunnerStats>;
  free(what: { memory: boolean; models: boolean }): Promise<void>;
}

export interface ApiContext {
  /** Validates prompts on the server's thread; they run in the runner. */
  engine: Engine;
  registry: NodeRegistry;
  store: PromptStore;
  worker: PromptWorker;
  hub: EventHub;
  folders: Folders;
  uploadLimitBytes: number;
  workflowsDir: string;
  clientDist: string;
  runtime: RuntimeHooks;
  /** With `--redis`: the connected workers, Redis's health and the chunk routes workers call. */
  scale?: ChunkDispatcher;
  /** Takes server paths out of text sent to clients. */
  redact: Redactor;
  submit(body: unknown): Promise<SubmitResult>;
}
