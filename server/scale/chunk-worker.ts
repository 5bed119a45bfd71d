// `limelight worker`: pulls chunk tickets of its class from Redis, fetches each chunk's spec from the
// coordinator (authenticated, checked against the ticket's hash), runs it on its inference thread and
// posts the result back. It announces itself (class, device, models, busy, chunks done) for the
// coordinator's placement check and /system_stats, and stops a prompt's running chunk when told to.
import { Worker as ThreadWorker } from 'node:worker_threads';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { ThreadConfig, ThreadReply } from './chunk-executor.ts';
import { CHUNK_ROUTE, sha256 } from './chunk-exchange.ts';
import { checkedTicket, chunkQueueName, type ChunkTicket } from './chunk-ticket.ts';
import { redisOptions } from './redis-url.ts';
import type { WorkerClass } from './worker-class.ts';
import { announceWorker, CANCEL_CHANNEL, forgetWorker, WORKER_TTL_MS, type WorkerStatus } from './worker-registry.ts';

export interface ChunkWorkerOptions {
  redis: string;
  /** The coordinator's address, `http://HOST:PORT`. */
  server: string;
  token: string;
  name: string;
  workerClass: WorkerClass;
  /** Identities of the models this worker has (modelIdentity). */
  models: string[];
  /** The executor module's file URL (see chunk-executor.ts). */
  executor: string;
  /** Where fetched input files are kept. */
  inputDir: string;
  /** BullMQ's lock on a running chunk and its stalled check, in ms (defaults 30 000 each). */
  lockDuration?: number;
  stalledInterval?: number;
}

const THREAD_ENTRY = new URL('./chunk-thread.js', import.meta.url);

export class ChunkWorker {
  private readonly thread: ThreadWorker;
  private readonly worker: Worker;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly status: WorkerStatus;
  private current?: { prompt: string; flag: Int32Array };
  private nextId = 0;
  private readonly waiting = new Map<number, (reply: ThreadReply) => void>();
  /** Why the inference thread is gone (then every chunk fails at once instead of waiting forever). */
  private threadDied?: string;

  constructor(private readonly options: ChunkWorkerOptions) {
    const connection = redisOptions(options.redis);
    const config: ThreadConfig = { executor: options.executor, server: options.server, token: options.token, inputDir: options.inputDir };
    this.thread = new ThreadWorker(THREAD_ENTRY, { workerData: config });
    this.thread.on('message', (reply: ThreadReply) => this.waiting.get(reply.id)?.(reply));
    this.thread.on('error', (error) => (this.threadDied = `the inference thread died: ${error.message}`));
    this.thread.on('exit', () => {
      this.threadDied ??= 'the inference thread stopped';
      for (const settle of this.waiting.values()) settle({ type: 'failed', id: -1, message: this.threadDied, interrupted: false });
    });
    this.status = { name: options.name, class: options.workerClass.id, device: options.workerClass.device, models: options.models, busy: false, chunks_done: 0 };
    this.redis = new Redis(connection);
    this.redis.on('error', () => {});
    this.subscriber = new Redis(connection);
    this.subscriber.on('error', () => {});
    void this.subscriber.subscribe(CANCEL_CHANNEL);
    this.subscriber.on('message', (_channel: string, prompt: string) => {
      if (this.current?.prompt === prompt) Atomics.store(this.current.flag, 0, 1);
    });
    this.worker = new Worker(chunkQueueName(options.workerClass.id), (job) => this.process(job), {
      connection,
      concurrency: 1,
      ...(options.lockDuration ? { lockDuration: options.lockDuration } : {}),
      ...(options.stalledInterval ? { stalledInterval: options.stalledInterval } : {}),
      maxStalledCount: 1,
    });
    this.worker.on('error', () => {});
    this.heartbeat = setInterval(() => void this.announce(), WORKER_TTL_MS / 3);
    void this.announce();
  }

  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
    await this.announce();
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.worker.close();
    await forgetWorker(this.redis, this.options.name).catch(() => {});
    await this.thread.terminate();
    this.redis.disconnect();
    this.subscriber.disconnect();
  }

  private announce(): Promise<void> {
    return announceWorker(this.redis, this.status).catch(() => {});
  }

  private async process(job: Job): Promise<void> {
    const ticket = checkedTicket(job.data);
    const missing = ticket.models.find((model) => !this.options.models.includes(model));
    if (missing) throw new Error(`${this.options.name} does not have the model ${missing}`);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    this.current = { prompt: ticket.prompt, flag };
    this.status.busy = true;
    await this.announce();
    try {
      const spec = await this.fetchSpec(ticket);
      const reply = await this.runOnThread(spec, flag);
      if (reply.type === 'failed') {
        if (reply.interrupted) throw new UnrecoverableError(`${this.options.name}: interrupted`);
        throw new Error(`${this.options.name}: ${reply.message}`);
      }
      await this.post(ticket, reply.result);
      this.status.chunks_done++;
    } finally {
      this.current = undefined;
      this.status.busy = false;
      await this.announce();
    }
  }

  private chunkUrl(ticket: ChunkTicket): string {
    return `${this.options.server}${CHUNK_ROUTE}/${encodeURIComponent(ticket.prompt)}/${ticket.index}`;
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.options.token}`, 'x-limelight-worker': this.options.name };
  }

  private async fetchSpec(ticket: ChunkTicket): Promise<Uint8Array> {
    const response = await fetch(this.chunkUrl(ticket), { headers: this.headers() });
    if (response.status === 410) throw new UnrecoverableError(`${this.options.name}: ${await refusal(response)}`);
    if (!response.ok) throw new Error(`${this.options.name}: the coordinator refused chunk ${ticket.index}: ${await refusal(response)}`);
    const spec = new Uint8Array(await response.arrayBuffer());
    if (sha256(spec) !== ticket.spec) throw new Error(`${this.options.name}: chunk ${ticket.index}'s spec does not match its ticket's hash`);
    return spec;
  }

  private async post(ticket: ChunkTicket, result: Uint8Array): Promise<void> {
    const response = await fetch(this.chunkUrl(ticket), {
      method: 'POST',
      headers: { ...this.headers(), 'content-type': 'application/octet-stream' },
      body: result,
    });
    if (response.status === 410) throw new UnrecoverableError(`${this.options.name}: ${await refusal(response)}`);
    if (!response.ok) throw new Error(`${this.options.name}: the coordinator refused chunk ${ticket.index}'s result: ${await refusal(response)}`);
  }

  private runOnThread(spec: Uint8Array, flag: Int32Array): Promise<ThreadReply> {
    if (this.threadDied) return Promise.resolve({ type: 'failed', id: -1, message: this.threadDied, interrupted: false });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, (reply) => {
        this.waiting.delete(id);
        resolve(reply);
      });
      this.thread.postMessage({ type: 'run', id, spec, flag });
    });
  }
}

async function refusal(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: { message?: string } };
    return `${response.status} ${body.error?.message ?? text}`;
  } catch {
    return `${response.status} ${text}`;
  }
}
