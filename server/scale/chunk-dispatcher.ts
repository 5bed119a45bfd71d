// The coordinator's side of the queue: a prompt's chunks become tickets on its worker class's BullMQ
// queue; results come back through the ChunkExchange and reach the sinks in frame order, whatever order
// workers finish in. A chunk whose worker died (kill -9) is found by BullMQ's stalled check and run
// again elsewhere; a chunk that keeps failing fails the prompt with the worker's own error.
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { ChunkExchange } from './chunk-exchange.ts';
import { chunkQueueName, ticketJobId, type ChunkTicket } from './chunk-ticket.ts';
import { InOrder } from './in-order.ts';
import { redactedRedisUrl, redisOptions } from './redis-url.ts';
import { CANCEL_CHANNEL, connectedWorkers, placementProblem, type WorkerStatus } from './worker-registry.ts';

export interface ChunkRange {
  start: number;
  end: number;
  frames: number;
}

export interface DistributedRun {
  prompt: string;
  /** Each chunk's spec (the serialized chunk job) and frame range, in frame order. */
  chunks: { spec: Uint8Array; range: ChunkRange }[];
  /** Identities of the models the chunks load (modelIdentity). */
  models: string[];
  /** Called with each chunk's result in frame order, one at a time. */
  onResult(index: number, result: Uint8Array, worker: string): Promise<void>;
  signal?: AbortSignal;
}

export interface DispatcherOptions {
  /** Runs of a chunk before its error fails the prompt (a stall counts as one). */
  attempts?: number;
}

export interface RedisHealth {
  connected: boolean;
  /** What is wrong, for the status line, when not connected. */
  problem: string | null;
}

export class ChunkDispatcher {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly running = new Map<string, { fail: (error: Error) => void; delivered: Set<number> }>();
  private lastError: string | null = null;

  constructor(
    private readonly url: string,
    readonly classId: string,
    readonly exchange: ChunkExchange,
    private readonly options: DispatcherOptions = {},
  ) {
    const connection = redisOptions(url);
    this.redis = new Redis(connection);
    this.queue = new Queue(chunkQueueName(classId), { connection });
    this.events = new QueueEvents(chunkQueueName(classId), { connection });
    this.redis.on('error', (error: Error) => (this.lastError = error.message));
    this.redis.on('ready', () => (this.lastError = null));
    this.queue.on('error', () => {});
    this.events.on('error', () => {});
    this.events.on('failed', ({ jobId, failedReason }) => void this.failed(jobId, failedReason));
  }

  async ready(): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
  }

  health(): RedisHealth {
    const connected = this.redis.status === 'ready';
    return {
      connected,
      problem: connected ? null : `Redis at ${redactedRedisUrl(this.url)} is unreachable (${this.lastError ?? this.redis.status}); queued prompts wait in the queue until it is back`,
    };
  }

  workers(): Promise<WorkerStatus[]> {
    return connectedWorkers(this.redis);
  }

  /** Runs the chunks on the workers; resolves once every result has gone to `onResult`. */
  async run(run: DistributedRun): Promise<void> {
    const problem = placementProblem(await this.workers(), this.classId, run.models);
    if (problem) throw new Error(problem);
    const order = new InOrder<{ index: number; result: Uint8Array; worker: string }>(run.chunks.length);
    let fed = Promise.resolve();
    let index = 0;
    const finished = new Promise<void>((resolve, reject) => {
      const delivered = new Set<number>();
      this.running.set(run.prompt, { fail: reject, delivered });
      const specs = this.exchange.open(run.prompt, run.chunks.map((c) => c.spec), (i, result, worker) => {
        delivered.add(i);
        for (const due of order.accept(i, { index: i, result, worker })) {
          fed = fed.then(() => run.onResult(due.index, due.result, due.worker)).then(() => {
            if (++index === run.chunks.length) resolve();
          });
          fed.catch(reject);
        }
      });
      run.signal?.addEventListener('abort', () => reject(run.signal!.reason ?? new Error('interrupted')), { once: true });
      const tickets = run.chunks.map(({ range }, i): ChunkTicket => ({ prompt: run.prompt, index: i, ...range, spec: specs[i]!, models: run.models }));
      this.queue
        .addBulk(
          tickets.map((ticket) => ({
            name: 'chunk',
            data: ticket,
            opts: { jobId: ticketJobId(run.prompt, ticket.index), attempts: this.options.attempts ?? 2, removeOnComplete: true, removeOnFail: true },
          })),
        )
        .catch(reject);
    });
    try {
      await finished;
    } finally {
      this.running.delete(run.prompt);
      this.exchange.close(run.prompt);
      await this.dropWaiting(run.prompt, run.chunks.length);
    }
  }

  /** Drops the prompt's waiting chunks and tells every worker to stop its running ones. */
  async cancel(prompt: string): Promise<void> {
    this.running.get(prompt)?.fail(new Error('interrupted'));
    await this.redis.publish(CANCEL_CHANNEL, prompt);
  }

  /** Chunks of any prompt waiting for a worker of this class. */
  async waitingChunks(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.redis.disconnect();
  }

  private async dropWaiting(prompt: string, count: number): Promise<void> {
    // A running chunk is locked by its worker and not removed; the cancel message stops it.
    await Promise.allSettled(Array.from({ length: count }, (_, i) => this.queue.remove(ticketJobId(prompt, i))));
    await this.redis.publish(CANCEL_CHANNEL, prompt).catch(() => {});
  }

  /** A failed run of a chunk fails the prompt once BullMQ will not run it again. */
  private async failed(jobId: string, reason: string): Promise<void> {
    const dot = jobId.lastIndexOf('.');
    const running = this.running.get(jobId.slice(0, dot));
    const index = Number(jobId.slice(dot + 1));
    if (!running || running.delivered.has(index)) return;
    const state = await this.queue.getJobState(jobId).catch(() => 'unknown');
    if (state === 'waiting' || state === 'delayed' || state === 'active' || state === 'prioritized') return;
    if (!running.delivered.has(index)) running.fail(new Error(`chunk ${index} failed: ${reason}`));
  }
}
