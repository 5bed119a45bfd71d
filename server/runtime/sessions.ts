// onnxruntime sessions: provider choice with an honest fallback, created from the file path (so external
// weight files resolve), cached by content identity + provider, released under a memory budget.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { folderIdentity } from '../file-identity.ts';

export const DEVICES = ['auto', 'cuda', 'webgpu', 'cpu'] as const;
export type Device = (typeof DEVICES)[number];
export type Provider = 'cuda' | 'webgpu' | 'cpu';

const MB = 1024 * 1024;
const DEFAULT_BUDGET_MB = 8192;

/** The CUDA provider is a separate download (`--onnxruntime-node-install=cuda12`); look for its library. */
export function cudaProviderInstalled(): boolean {
  const binding = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
  const binDir = path.join(binding, '..', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(path.join(binDir, 'libonnxruntime_providers_cuda.so')) || existsSync(path.join(binDir, 'onnxruntime_providers_cuda.dll'));
}

/** The provider a device setting asks for: `auto` is CUDA when its libraries are installed, else CPU. */
export function requestedProvider(device: Device): Provider {
  if (device === 'auto') return cudaProviderInstalled() ? 'cuda' : 'cpu';
  return device;
}

export interface CreatedSession {
  session: ort.InferenceSession;
  /** The provider actually running the model. */
  provider: Provider;
  /** Why the requested provider was not used, when it was not. */
  warning?: string;
}

function sessionOptions(provider: Provider): ort.InferenceSession.SessionOptions {
  // No spinning: idle pool threads would compete with the sampler's JavaScript between runs (2-core machines).
  return { executionProviders: [provider], graphOptimizationLevel: 'all', logSeverityLevel: 3, extra: { session: { intra_op: { allow_spinning: '0' } } } };
}

/** Providers that failed to load in this process, with the reason (so later parts skip the retry). */
const failedProviders = new Map<Provider, string>();

/**
 * Creates a session from a model file. onnxruntime throws (rather than falling back) when a provider's
 * libraries or device are missing, so an unavailable GPU provider is retried on CPU with a warning.
 */
export async function createSession(file: string, device: Device): Promise<CreatedSession> {
  const provider = requestedProvider(device);
  const fallback = async (reason: string): Promise<CreatedSession> => ({
    session: await ort.InferenceSession.create(file, sessionOptions('cpu')),
    provider: 'cpu',
    warning: `the ${provider} provider could not load (${reason}); running on CPU`,
  });
  const knownFailure = failedProviders.get(provider);
  if (knownFailure) return fallback(knownFailure);
  try {
    return { session: await ort.InferenceSession.create(file, sessionOptions(provider)), provider };
  } catch (error) {
    if (provider === 'cpu') throw error;
    const reason = (error as Error).message.split('\n')[0];
    failedProviders.set(provider, reason);
    return fallback(reason);
  }
}

export interface SessionLease extends CreatedSession {
  /** Lets the cache release the session again when memory is needed. */
  release(): void;
}

interface Entry {
  key: string;
  file: string;
  created: Promise<CreatedSession>;
  bytes: number;
  leases: number;
  lastUsed: number;
}

/** What `/system_stats` and the CLI report about loaded sessions. */
export interface SessionInfo {
  file: string;
  provider: Provider | 'loading';
  bytes: number;
  inUse: boolean;
}

export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly settled = new Map<string, CreatedSession>();
  private clock = 0;

  constructor(private budgetBytes: number) {}

  setBudget(bytes: number): void {
    this.budgetBytes = bytes;
    this.evict();
  }

  /**
   * A session for `file` (a model.onnx whose folder holds its external weights) on `device`. Sessions are
   * shared while the folder's contents and the device are the same; hold the lease while running.
   */
  async acquire(file: string, device: Device): Promise<SessionLease> {
    const dir = path.dirname(file);
    const { fingerprint, bytes } = await folderIdentity(dir);
    const key = `${fingerprint}|${path.basename(file)}|${device}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { key, file, created: createSession(file, device), bytes, leases: 0, lastUsed: 0 };
      this.entries.set(key, entry);
      entry.created.then(
        (created) => this.settled.set(key, created),
        () => this.entries.delete(key),
      );
    }
    entry.leases++;
    entry.lastUsed = ++this.clock;
    let created: CreatedSession;
    try {
      created = await entry.created;
    } catch (error) {
      entry.leases--;
      throw error;
    }
    this.evict();
    let released = false;
    const owner = entry;
    return {
      ...created,
      release: () => {
        if (released) return;
        released = true;
        owner.leases--;
        this.evict();
      },
    };
  }

  list(): SessionInfo[] {
    return [...this.entries.values()].map((entry) => ({
      file: entry.file,
      provider: this.settled.get(entry.key)?.provider ?? 'loading',
      bytes: entry.bytes,
      inUse: entry.leases > 0,
    }));
  }

  /** Releases every session not in use (e.g. `POST /free`). */
  async clear(): Promise<void> {
    await this.releaseWhile(() => true);
  }

  private evict(): void {
    void this.releaseWhile(() => this.totalBytes() > this.budgetBytes);
  }

  private totalBytes(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.bytes;
    return total;
  }

  /** Releases idle sessions, least recently used first, while `condition` holds. */
  private async releaseWhile(condition: () => boolean): Promise<void> {
    const idle = [...this.entries.values()].filter((e) => e.leases === 0 && this.settled.has(e.key)).sort((a, b) => a.lastUsed - b.lastUsed);
    const releasing: Promise<void>[] = [];
    for (const entry of idle) {
      if (!condition()) break;
      this.entries.delete(entry.key);
      const created = this.settled.get(entry.key)!;
      this.settled.delete(entry.key);
      releasing.push(created.session.release());
    }
    await Promise.all(releasing);
  }
}

function budgetFromEnvironment(): number {
  const text = process.env.LIMELIGHT_SESSION_MEMORY_MB;
  const mb = text ? Number(text) : DEFAULT_BUDGET_MB;
  return (Number.isFinite(mb) && mb > 0 ? mb : DEFAULT_BUDGET_MB) * MB;
}

/** The process-wide session cache (budget: LIMELIGHT_SESSION_MEMORY_MB, default 8 GiB). */
export const sessions = new SessionCache(budgetFromEnvironment());
