// What the routes share: the engine, the queue and history, the worker, the socket hub, the settings.
import type { NodeRegistry } from '../engine/node-registry.ts';
import type { Engine } from '../engine/engine.ts';
import type { EventHub } from './event-hub.ts';
import type { PromptStore } from './prompt-store.ts';
import type { PromptWorker } from './prompt-worker.ts';
import type { SubmitResult } from './submit-prompt.ts';
import type { Folders } from '../config.ts';

/** What the model runtime tells the server (onnxruntime's provider) and lets it do (unload sessions). */
export interface RuntimeHooks {
  /** The execution provider sessions run on (`cpu`, `cuda`, `webgpu`), or null before a model was loaded. */
  provider(): string | null;
  unloadModels(): void | Promise<void>;
}

export interface ApiContext {
  engine: Engine;
  registry: NodeRegistry;
  store: PromptStore;
  worker: PromptWorker;
  hub: EventHub;
  folders: Folders;
  uploadLimitBytes: number;
  workflowsDir: string;
  clientDist: string;
  runtime?: RuntimeHooks;
  submit(body: unknown): Promise<SubmitResult>;
}
