// Connected workers, as each one announces itself in Redis: a key per worker that expires unless the
// worker refreshes it, so a worker that died drops out of /system_stats within WORKER_TTL_MS.
import type { Redis } from 'ioredis';

export const WORKER_KEY_PREFIX = 'limelight:workers:';
export const WORKER_TTL_MS = 15_000;
/** The channel on which the coordinator tells workers to stop a prompt's chunks. */
export const CANCEL_CHANNEL = 'limelight:cancel';

export interface WorkerStatus {
  name: string;
  /** The worker class id (see worker-class.ts) and its device kind. */
  class: string;
  device: string;
  /** The models in the worker's models/ folder, each as `folder name:content hash` (see modelIdentity). */
  models: string[];
  busy: boolean;
  chunks_done: number;
}

export async function announceWorker(redis: Redis, status: WorkerStatus): Promise<void> {
  await redis.set(WORKER_KEY_PREFIX + status.name, JSON.stringify(status), 'PX', WORKER_TTL_MS);
}

export async function forgetWorker(redis: Redis, name: string): Promise<void> {
  await redis.del(WORKER_KEY_PREFIX + name);
}

export async function connectedWorkers(redis: Redis): Promise<WorkerStatus[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${WORKER_KEY_PREFIX}*`, 'COUNT', 200);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(keys);
  return values
    .filter((v): v is string => v !== null)
    .map((v) => JSON.parse(v) as WorkerStatus)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The class with the most connected workers that have every model (ties: the smaller id), if any. */
export function chooseClass(workers: WorkerStatus[], models: string[]): string | undefined {
  const able = new Map<string, number>();
  for (const w of workers) if (models.every((m) => w.models.includes(m))) able.set(w.class, (able.get(w.class) ?? 0) + 1);
  return [...able].sort(([a, n], [b, m]) => m - n || a.localeCompare(b))[0]?.[0];
}

/**
 * Why no connected worker of `classId` can run a chunk needing `models`, or null. Names the first model
 * no such worker has, so the user knows which folder to copy.
 */
export function placementProblem(workers: WorkerStatus[], classId: string | undefined, models: string[]): string | null {
  if (workers.length === 0) return 'no worker is connected; start one with: limelight worker --redis URL --server URL --token TOKEN';
  const sameClass = classId === undefined ? workers : workers.filter((w) => w.class === classId);
  if (sameClass.length === 0) {
    const classes = [...new Set(workers.map((w) => `${w.class} (${w.device})`))];
    return `no connected worker is of the class ${classId}; connected workers are of ${classes.join(', ')}`;
  }
  const missing = models.find((model) => !sameClass.some((w) => w.models.includes(model)));
  if (missing) {
    const [name, hash] = splitIdentity(missing);
    return `no connected worker has the model ${name} (content ${hash.slice(0, 12)}); copy that model folder into a worker's models/ folder, or restart the worker after changing it`;
  }
  if (classId === undefined) return `no connected worker has all of ${models.map((m) => splitIdentity(m)[0]).join(', ')}; give one worker every model the prompt loads`;
  return null;
}

/** A model's identity on the wire: its folder name and a hash of its files' content. */
export function modelIdentity(name: string, contentHash: string): string {
  return `${name}:${contentHash}`;
}

function splitIdentity(identity: string): [string, string] {
  const at = identity.lastIndexOf(':');
  return [identity.slice(0, at), identity.slice(at + 1)];
}
