// The scale-out queue end to end: a real redis-server, a coordinator's exchange behind the server's access
// guard, and `limelight worker` processes, running chunks of a deterministic executor.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkDispatcher, type DistributedRun } from '../../server/scale/chunk-dispatcher.ts';
import { CHUNK_ROUTE, sha256 } from '../../server/scale/chunk-exchange.ts';
import { workerClass } from '../../server/scale/worker-class.ts';
import { modelIdentity } from '../../server/scale/worker-registry.ts';
import frameHashes, { frameHashSpec, type FrameHashSpec } from '../helpers/frame-hash-executor.ts';
import { redisMissing, TestRedis } from '../helpers/redis-server.ts';
import { CLUSTER_CLASS, CLUSTER_MODEL, CLUSTER_TOKEN, TestCluster } from '../helpers/scale-cluster.ts';

const CLASS_ID = CLUSTER_CLASS.id;

describe.skipIf(redisMissing !== null)(`distributed chunks${redisMissing ? ` (skipped: ${redisMissing})` : ''}`, () => {
  let redis: TestRedis;
  let cluster: TestCluster;
  let dispatcher: ChunkDispatcher;
  const root = mkdtempSync(path.join(tmpdir(), 'limelight-scale-'));

  function specs(prompt: string, chunks: number, frames: number, extra: Partial<FrameHashSpec> = {}): DistributedRun['chunks'] {
    return Array.from({ length: chunks }, (_, i) => {
      const range = { start: i * frames, end: (i + 1) * frames, frames: chunks * frames };
      return { range, spec: frameHashSpec({ start: range.start, end: range.end, seed: prompt, msPerFrame: 25, ...extra }) };
    });
  }

  /** Runs the chunks on the workers; the results in the order they reached onResult. */
  async function runDistributed(prompt: string, chunks: DistributedRun['chunks'], signal?: AbortSignal) {
    const results: { index: number; bytes: Uint8Array; worker: string }[] = [];
    await dispatcher.run({ prompt, chunks, models: [CLUSTER_MODEL], signal, onResult: async (index, bytes, worker) => void results.push({ index, bytes, worker }) });
    return results;
  }

  async function inOneProcess(chunks: DistributedRun['chunks']): Promise<Uint8Array[]> {
    const files = new Map([[sha256(INPUT), inputPath]]);
    return Promise.all(chunks.map((c) => frameHashes(c.spec, { interrupted: () => false, inputFile: async (hash) => files.get(hash)! })));
  }

  const INPUT = new TextEncoder().encode('the source clip');
  const inputPath = path.join(root, 'clip.bin');

  beforeAll(async () => {
    redis = await TestRedis.start('p@ss/word');
    cluster = await TestCluster.start(redis.url);
    writeFileSync(inputPath, INPUT);
    cluster.exchange.shareFile(sha256(INPUT), inputPath);
    dispatcher = new ChunkDispatcher(redis.url, cluster.exchange, { attempts: 2 });
    await dispatcher.ready();
    await Promise.all([cluster.startWorker('w1'), cluster.startWorker('w2')]);
  });

  afterAll(async () => {
    await cluster?.close();
    await dispatcher?.close();
    await redis?.dispose();
  });

  it('lists the connected workers with their class, models and chunk counts', async () => {
    const listed = await dispatcher.workers();
    expect(listed.map((w) => w.name)).toEqual(['w1', 'w2']);
    expect(listed[0]).toMatchObject({ class: CLASS_ID, device: 'cpu', models: [CLUSTER_MODEL], busy: false, chunks_done: 0 });
  });

  it('two workers give the bytes of one process, fed in frame order, with inputs fetched from the coordinator', async () => {
    const chunks = specs('p-two', 8, 4, { input: sha256(INPUT) });
    const results = await runDistributed('p-two', chunks);
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(results.map((r) => Buffer.from(r.bytes).toString('hex'))).toEqual((await inOneProcess(chunks)).map((b) => Buffer.from(b).toString('hex')));
    expect(new Set(results.map((r) => r.worker))).toEqual(new Set(['w1', 'w2']));
    expect(await chunksDone(dispatcher)).toBe(8);
  });

  it('refuses a wrong token on the chunk routes, and a worker holding one fails the prompt with its error', async () => {
    const refused = await fetch(`${cluster.url}${CHUNK_ROUTE}/p-x/0`, { headers: { authorization: 'Bearer wrong-token-0123456789' } });
    expect(refused.status).toBe(401);
    const badClass = workerClass('cpu', 'cpu', 'test', ['bad-token-class']);
    await cluster.startWorker('intruder', { token: 'wrong-token-0123456789', workerClass: badClass });
    try {
      const run = dispatcher.run({ prompt: 'p-bad', classId: badClass.id, chunks: specs('p-bad', 2, 2), models: [CLUSTER_MODEL], onResult: async () => {} });
      await expect(run).rejects.toThrow(/intruder: the coordinator refused chunk \d: 401 .*access token/);
    } finally {
      await cluster.stopWorker('intruder');
    }
  });

  it('a chunk that keeps failing fails the prompt with the worker\'s error, once its attempts are spent', async () => {
    const run = runDistributed('p-fail', specs('p-fail', 2, 2, { fail: 'the VAE ran out of memory' }));
    await expect(run).rejects.toThrow(/chunk \d failed: w\d: the VAE ran out of memory/);
  });

  it('a worker whose inference thread died fails its chunks at once with that reason, not forever', async () => {
    const crashClass = workerClass('cpu', 'cpu', 'test', ['crash-class']);
    await cluster.startWorker('fragile', { workerClass: crashClass });
    try {
      const run = dispatcher.run({ prompt: 'p-crash', classId: crashClass.id, chunks: specs('p-crash', 1, 1, { exitThread: true }), models: [CLUSTER_MODEL], onResult: async () => {} });
      await expect(run).rejects.toThrow(/chunk 0 failed: fragile: the inference thread stopped/);
    } finally {
      await cluster.stopWorker('fragile');
    }
  });

  it('names the model when no connected worker has it', async () => {
    const run = dispatcher.run({ prompt: 'p-model', chunks: specs('p-model', 1, 1), models: [modelIdentity('sdxl-turbo', 'b'.repeat(64))], onResult: async () => {} });
    await expect(run).rejects.toThrow(/no connected worker has the model sdxl-turbo \(content bbbbbbbbbbbb\)/);
  });

  it('interrupt drops the waiting chunks and stops the running ones on every worker', async () => {
    const controller = new AbortController();
    const chunks = specs('p-stop', 12, 20);
    const run = runDistributed('p-stop', chunks, controller.signal);
    await waitFor(async () => (await dispatcher.workers()).every((w) => w.busy));
    const doneBefore = await chunksDone(dispatcher);
    await dispatcher.cancel('p-stop');
    await expect(run).rejects.toThrow(/interrupted/);
    expect(await dispatcher.waitingChunks()).toBe(0);
    await waitFor(async () => (await dispatcher.workers()).every((w) => !w.busy));
    // Both running chunks (20 frames × 25 ms) stopped at a frame boundary instead of finishing.
    expect(await chunksDone(dispatcher)).toBe(doneBefore);
  });

  it('reruns the chunk of a worker killed with -9 on another worker, and the output is the same', async () => {
    const chunks = specs('p-kill', 6, 10, { input: sha256(INPUT) });
    const run = runDistributed('p-kill', chunks);
    await waitFor(async () => (await dispatcher.workers()).some((w) => w.name === 'w1' && w.busy));
    cluster.workers.get('w1')!.kill('SIGKILL');
    const results = await run;
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results.map((r) => Buffer.from(r.bytes).toString('hex'))).toEqual((await inOneProcess(chunks)).map((b) => Buffer.from(b).toString('hex')));
    cluster.workers.delete('w1');
  }, 60_000);

  it('says what is wrong while Redis is down, and is back once it returns', async () => {
    expect(dispatcher.health()).toEqual({ connected: true, problem: null });
    await redis.stop();
    await waitFor(async () => !dispatcher.health().connected);
    expect(dispatcher.health().problem).toMatch(/^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ is unreachable/);
    await redis.resume();
    await waitFor(async () => dispatcher.health().connected, 20_000);
    // Redis came back empty: the remaining worker shows up again at its next heartbeat.
    await waitFor(async () => (await dispatcher.workers()).length > 0, 20_000);
    const results = await runDistributed('p-back', specs('p-back', 2, 2));
    expect(results.map((r) => r.index)).toEqual([0, 1]);
  }, 60_000);
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function chunksDone(dispatcher: ChunkDispatcher): Promise<number> {
  return (await dispatcher.workers()).reduce((sum, w) => sum + w.chunks_done, 0);
}
