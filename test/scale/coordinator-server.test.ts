// `limelight serve --redis`: the token requirement, the chunk routes behind the access guard, the
// connected workers in /system_stats, and Redis's health while it is away.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServeFlags } from '../../server/api/serve-command.ts';
import { CHUNK_ROUTE } from '../../server/scale/chunk-exchange.ts';
import { ChunkWorker } from '../../server/scale/chunk-worker.ts';
import { workerClass } from '../../server/scale/worker-class.ts';
import { modelIdentity } from '../../server/scale/worker-registry.ts';
import { startTestServer, type TestServer } from '../helpers/api-server.ts';
import { redisMissing, TestRedis } from '../helpers/redis-server.ts';

const TOKEN = 'coordinator-token-0123456789';

describe('serve --redis on the command line', () => {
  it('needs a token and a Redis URL', () => {
    expect(() => parseServeFlags({ redis: 'redis://127.0.0.1:6379' })).toThrow(/--redis needs an access token/);
    expect(() => parseServeFlags({ redis: 'http://127.0.0.1:6379', token: TOKEN })).toThrow(/must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(parseServeFlags({ redis: 'redis://:secret@127.0.0.1:6379', token: TOKEN }).redis).toBe('redis://:secret@127.0.0.1:6379');
  });
});

describe.skipIf(redisMissing !== null)(`a coordinating server${redisMissing ? ` (skipped: ${redisMissing})` : ''}`, () => {
  let redis: TestRedis;
  let server: TestServer;
  let worker: ChunkWorker;
  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };

  beforeAll(async () => {
    redis = await TestRedis.start('coordinator-secret');
    server = await startTestServer({ token: TOKEN, redis: redis.url });
    worker = new ChunkWorker({
      redis: redis.url,
      server: server.url,
      token: TOKEN,
      name: 'gpu-box-1',
      workerClass: workerClass('cpu', 'cpu', 'test', []),
      models: [modelIdentity('demo-sd', 'd'.repeat(64))],
      executor: pathToFileURL(path.resolve('test/helpers/frame-hash-executor.ts')).href,
      inputDir: mkdtempSync(path.join(tmpdir(), 'limelight-worker-')),
    });
    await worker.ready();
  });

  afterAll(async () => {
    await worker?.close();
    await server?.close();
    await redis?.dispose();
  });

  it('refuses to start without a token', async () => {
    await expect(startTestServer({ redis: redis.url })).rejects.toThrow(/--redis needs an access token/);
  });

  it('lists the connected workers in /system_stats', async () => {
    const stats = await (await server.get('/system_stats', auth)).json();
    expect(stats.workers).toEqual([{ name: 'gpu-box-1', device: 'cpu', models: [modelIdentity('demo-sd', 'd'.repeat(64))], busy: false, chunks_done: 0 }]);
    expect(stats.limelight.redis).toEqual({ connected: true, problem: null });
  });

  it('keeps the chunk routes behind the token', async () => {
    expect((await server.get(`${CHUNK_ROUTE}/p/0`)).status).toBe(401);
    expect((await server.get(`${CHUNK_ROUTE}/p/0`, { headers: { authorization: 'Bearer not-the-token-0123456789' } })).status).toBe(401);
    const gone = await server.get(`${CHUNK_ROUTE}/p/0`, auth);
    expect(gone.status).toBe(410);
    expect((await gone.json()).error.message).toMatch(/chunk 0 of prompt p is not running/);
  });

  it('stays up while Redis is away and says so, with no password in the message', async () => {
    await redis.stop();
    let stats: any;
    for (let i = 0; i < 200; i++) {
      stats = await (await server.get('/system_stats', auth)).json();
      if (!stats.limelight.redis.connected) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(stats.workers).toEqual([]);
    expect(stats.limelight.redis.problem).toMatch(/^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ is unreachable .*queued prompts wait/);
    expect(JSON.stringify(stats)).not.toContain('coordinator-secret');
    await redis.resume();
  }, 30_000);
});
