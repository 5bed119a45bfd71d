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
import { CANCEL_CHANNEL, chooseClass, connectedWorkers, placementProblem, type WorkerStatus } from './worker-registry.ts';

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
  /** The worker class to run on; by default the class with the most connected workers that have the models. */
  classId?: string;
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

/** One worker class's queue, and its events (failed chunks). */
interface ClassQueue {
  queue: Queue;
  events: QueueEvents;
}

export class ChunkDispatcher {
  private readonly queues = new Map<string, ClassQueue>();
  private readonly redis: Redis;
  private readonly running = new Map<string, { fail: (error: Error) => void; delivered: Set<number> }>();
  private lastError: string | null = null;

  constructor(
    private readonly url: string,
    readonly exchange: ChunkExchange,
    private readonly options: DispatcherOptions = {},
  ) {
    this.redis = new Redis(redisOptions(url));
    this.redis.on('error', (error: Error) => (this.lastError = error.message));
    this.redis.on('ready', () => (this.lastError = null));
  }

  /** The class's queue, listening for failed chunks before any is added. */
  private async classQueue(classId: string): Promise<ClassQueue> {
    let found = this.queues.get(classId);
    if (!found) {
      const connection = redisOptions(this.url);
      found = { queue: new Queue(chunkQueueName(classId), { connection }), events: new QueueEvents(chunkQueueName(classId), { connection }) };
      found.queue.on('error', () => {});
      found.events.on('error', () => {});
      const { queue } = found;
      found.events.on('failed', ({ jobId, failedReason }) => void this.failed(queue, jobId, failedReason));
      this.queues.set(classId, found);
    }
    await Promise.all([found.queue.waitUntilReady(), found.events.waitUntilReady()]);
    return found;
  }

  /** Resolves once Redis answers. */
  async ready(): Promise<void> {
    await this.redis.ping();
  }

  health(): RedisHealth {
    const connected = this.redis.status === 'ready';
    return {
      connected,
      problem: connected ? null : `Redis at ${redactedRedisUrl(this.url)} is unreachable (${this.lastError ?? this.redis.status}); queued prompts wait in the queue until it is back`,
    };
  }

  /** The connected workers; none while Redis is unreachable (health() says why). */
  async workers(): Promise<WorkerStatus[]> {
    return this.redis.status === 'ready' ? connectedWorkers(this.redis) : [];
  }

  /** Runs the chunks on the workers; resolves once every result has gone to `onResult`. */
  async run(run: DistributedRun): Promise<void> {
    const { problem: unreachable } = this.health();
    if (unreachable) throw new Error(unreachable);
    const workers = await this.workers();
    const classId = run.classId ?? chooseClass(workers, run.models);
    const problem = placementProblem(workers, classId, run.models);
    if (problem) throw new Error(problem);
    const { queue } = await this.classQueue(classId!); // placementProblem refuses an undefined class
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
      queue
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
      await this.dropWaiting(queue, run.prompt, run.chunks.length);
    }
  }

  /** Drops the prompt's waiting chunks and tells every worker to stop its running ones. */
  async cancel(prompt: string): Promise<void> {
    this.running.get(prompt)?.fail(new Error('interrupted'));
    await this.redis.publish(CANCEL_CHANNEL, prompt);
  }

  /** Chunks of any prompt waiting for a worker, over every class this coordinator has used. */
  async waitingChunks(): Promise<number> {
    let waiting = 0;
    for (const { queue } of this.queues.values()) {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
      waiting += Object.values(counts).reduce((sum, n) => sum + n, 0);
    }
    return waiting;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].flatMap(({ queue, events }) => [events.close(), queue.close()]));
    this.redis.disconnect();
  }

  private async dropWaiting(queue: Queue, prompt: string, count: number): Promise<void> {
    // A running chunk is locked by its worker and not removed; the cancel message stops it.
    await Promise.allSettled(Array.from({ length: count }, (_, i) => queue.remove(ticketJobId(prompt, i))));
    await this.redis.publish(CANCEL_CHANNEL, prompt).catch(() => {});
  }

  /** A failed run of a chunk fails the prompt once BullMQ will not run it again. */
  private async failed(queue: Queue, jobId: string, reason: string): Promise<void> {
    const dot = jobId.lastIndexOf('.');
    const running = this.running.get(jobId.slice(0, dot));
    const index = Number(jobId.slice(dot + 1));
    if (!running || running.delivered.has(index)) return;
    const state = await queue.getJobState(jobId).catch(() => 'unknown');
    if (state === 'waiting' || state === 'delayed' || state === 'active' || state === 'prioritized') return;
    if (!running.delivered.has(index)) running.fail(new Error(`chunk ${index} failed: ${reason}`));
  }
}
