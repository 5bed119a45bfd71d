// The engine runner's messages: plain, structured-cloneable data (no functions), versioned, and free of
// HTTP, so the same messages serve a worker thread now and a runner on another machine later. Binary
// payloads (preview images; frames, once chunks are sent) travel as ArrayBuffers in the transfer list.
import type { Settings } from '../config.ts';
import type { RunResult } from '../engine/engine.ts';
import type { EngineEvent } from '../../common/events.ts';
import type { SessionInfo } from '../runtime/sessions.ts';
import type { NodeSetRef } from './node-set.ts';

export const RUNNER_PROTOCOL = 1;

/** What a runner is started with. */
export interface RunnerConfig {
  protocol: typeof RUNNER_PROTOCOL;
  nodes: NodeSetRef;
  settings: Settings;
  /** One Int32: the host stores 1 to interrupt the running prompt; the runner polls it at every progress report. */
  interruptFlag: SharedArrayBuffer;
}

/** One prompt to execute: what `Engine.run` takes, minus the callbacks. */
export interface RunJob {
  promptId: string;
  prompt: Record<string, unknown>;
  extraData: { prompt?: unknown; workflow?: unknown };
  /** Output nodes to execute (with their ancestors); all when absent. */
  outputs?: string[];
  /** Nodes make preview images (someone watches). */
  previews: boolean;
}

export interface RunnerStats {
  /** The execution provider of the most recent loaded session, or null before any model was loaded. */
  provider: string | null;
  sessions: SessionInfo[];
  memoryCache: { entries: number; bytes: number; budgetBytes: number };
}

type Versioned<T> = T & { protocol: typeof RUNNER_PROTOCOL };

export type RunnerRequest = Versioned<
  | { type: 'run'; job: RunJob }
  | { type: 'interrupt'; promptId: string }
  | { type: 'stats'; id: number }
  | { type: 'free'; id: number; memory: boolean; models: boolean }
>;

export type RunnerReply = Versioned<
  | { type: 'ready'; stats: RunnerStats }
  | { type: 'event'; promptId: string; event: EngineEvent }
  | { type: 'result'; promptId: string; result: RunResult; stats: RunnerStats }
  /** `Engine.run` itself threw (a fault of ours, not a node's error). */
  | { type: 'run_failed'; promptId: string; message: string }
  | { type: 'stats'; id: number; stats: RunnerStats }
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | { type: 'refused'; message: string }
>;

/** Adds the protocol version to a message. */
export function versioned<T extends object>(message: T): Versioned<T> {
  return { ...message, protocol: RUNNER_PROTOCOL };
}

/** Why a message cannot be read by this side, or null when it can. */
export function protocolProblem(message: unknown): string | null {
  const version = (message as { protocol?: unknown } | null)?.protocol;
  return version === RUNNER_PROTOCOL ? null : `runner protocol ${String(version)} received, this side speaks ${RUNNER_PROTOCOL}: run the same Limelight version on both sides`;
}

/**
 * The buffers a reply hands over instead of copying: a preview's image bytes, which nothing on the
 * runner's side reads once sent. Only a buffer the view covers whole is moved (a Buffer may be a slice of
 * a shared pool); the caller copies the rest.
 */
export function transferablesOf(reply: RunnerReply): ArrayBuffer[] {
  if (reply.type !== 'event' || reply.event.type !== 'preview') return [];
  const { bytes } = reply.event.data;
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? [bytes.buffer] : [];
}
