// The scale-out's parts without Redis: URLs, worker classes and models, tickets, placement, frame order.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderFingerprint } from '../../server/file-identity.ts';
import { checkedTicket, type ChunkTicket } from '../../server/scale/chunk-ticket.ts';
import { InOrder } from '../../server/scale/in-order.ts';
import { redactedRedisUrl, redisOptions } from '../../server/scale/redis-url.ts';
import { cpuFeatures, workerClass } from '../../server/scale/worker-class.ts';
import { modelIdentities } from '../../server/scale/worker-models.ts';
import { chooseClass, modelIdentity, placementProblem, type WorkerStatus } from '../../server/scale/worker-registry.ts';

describe('Redis URLs', () => {
  it('take a password (percent-encoded), a user and a database, and are shown without the password', () => {
    const url = 'redis://render:p%40ss%2Fword@10.0.0.5:6380/2';
    expect(redisOptions(url)).toMatchObject({ host: '10.0.0.5', port: 6380, username: 'render', password: 'p@ss/word', db: 2, maxRetriesPerRequest: null });
    expect(redactedRedisUrl(url)).toBe('redis://render:***@10.0.0.5:6380/2');
    expect(redisOptions('redis://127.0.0.1')).toMatchObject({ port: 6379, db: 0, password: undefined });
  });

  it('refuse what is not a Redis URL, saying what to give', () => {
    expect(() => redisOptions('127.0.0.1:6379')).toThrow(/redis:\/\//);
    expect(() => redisOptions('http://127.0.0.1:6379')).toThrow(/must be a redis:\/\/ or rediss:\/\/ URL, not http:/);
    expect(() => redisOptions('redis://127.0.0.1:6379/x')).toThrow(/database .* must be a number/);
  });
});

describe('worker classes', () => {
  it('read the CPU flags (x86 and ARM) and differ when any part differs', () => {
    expect(cpuFeatures('processor\t: 0\nflags\t\t: sse2 avx2 fma avx2\n\nprocessor\t: 1\nflags : sse2\n')).toEqual(['avx2', 'fma', 'sse2']);
    expect(cpuFeatures('Features\t: fp asimd\n')).toEqual(['asimd', 'fp']);
    const base = workerClass('cpu', 'cpu', '1.30.0', ['avx2', 'sse2']);
    expect(workerClass('cpu', 'cpu', '1.30.0', ['avx2', 'sse2']).id).toBe(base.id);
    for (const other of [workerClass('cuda', 'cuda', '1.30.0', ['avx2', 'sse2']), workerClass('cpu', 'cpu', '1.31.0', ['avx2', 'sse2']), workerClass('cpu', 'cpu', '1.30.0', ['sse2'])]) {
      expect(other.id).not.toBe(base.id);
    }
  });
});

describe('chunk tickets', () => {
  const ticket: ChunkTicket = { prompt: 'p-1', index: 0, start: 0, end: 8, frames: 16, spec: 'a'.repeat(64), models: [modelIdentity('demo', 'b'.repeat(64))] };

  it('accept ids, a range and hashes, and refuse anything more or malformed', () => {
    expect(checkedTicket(ticket)).toEqual(ticket);
    for (const bad of [{ ...ticket, code: 'process.exit()' }, { ...ticket, end: 20 }, { ...ticket, spec: 'x' }, { ...ticket, prompt: '../etc' }, { ...ticket, frames_data: [1, 2] }, null]) {
      expect(() => checkedTicket(bad)).toThrow(/not a Limelight chunk ticket/);
    }
  });
});

describe('placement', () => {
  const demo = modelIdentity('demo-sd', 'c'.repeat(64));
  const worker = (name: string, cls: string, models: string[]): WorkerStatus => ({ name, class: cls, device: 'cpu', models, busy: false, chunks_done: 0 });

  it('picks the class with the most workers that have the models', () => {
    const workers = [worker('a', 'gpu', [demo]), worker('b', 'cpu', [demo]), worker('c', 'cpu', [demo]), worker('d', 'cpu2', [])];
    expect(chooseClass(workers, [demo])).toBe('cpu');
    expect(placementProblem(workers, 'cpu', [demo])).toBeNull();
  });

  it('names the missing model, the missing class, or that no worker is connected', () => {
    expect(placementProblem([], undefined, [demo])).toMatch(/no worker is connected; start one with: limelight worker/);
    expect(placementProblem([worker('a', 'cpu', [])], chooseClass([worker('a', 'cpu', [])], [demo]), [demo])).toMatch(/no connected worker has the model demo-sd \(content cccccccccccc\)/);
    expect(placementProblem([worker('a', 'cpu', [demo])], 'cuda-class', [demo])).toMatch(/no connected worker is of the class cuda-class; connected workers are of cpu \(cpu\)/);
  });
});

describe('frame order', () => {
  it('hands results on in index order whatever order they arrive in, ignoring repeats', () => {
    const order = new InOrder<string>(4);
    expect(order.accept(2, 'c')).toEqual([]);
    expect(order.accept(0, 'a')).toEqual(['a']);
    expect(order.accept(0, 'a again')).toEqual([]);
    expect(order.accept(1, 'b')).toEqual(['b', 'c']);
    expect(order.done).toBe(false);
    expect(order.accept(3, 'd')).toEqual(['d']);
    expect(order.done).toBe(true);
    expect(() => order.accept(4, 'e')).toThrow(/not one of 0…3/);
  });
});

describe('worker models', () => {
  it('names each model folder by the content identity LoadModel keys its cache with', async () => {
    const models = mkdtempSync(path.join(tmpdir(), 'limelight-models-'));
    for (const [name, weights] of [['sd-a', 'weights a'], ['sd-b', 'weights b']]) {
      mkdirSync(path.join(models, name, 'unet'), { recursive: true });
      writeFileSync(path.join(models, name, 'unet', 'model.onnx'), weights);
    }
    writeFileSync(path.join(models, 'notes.txt'), 'not a model');
    const identities = await modelIdentities(models);
    expect(identities).toEqual([`sd-a:${await folderFingerprint(path.join(models, 'sd-a'))}`, `sd-b:${await folderFingerprint(path.join(models, 'sd-b'))}`]);
    writeFileSync(path.join(models, 'sd-b', 'unet', 'model.onnx'), 'other weights');
    expect((await modelIdentities(models))[1]).not.toBe(identities[1]);
    expect(await modelIdentities(path.join(models, 'absent'))).toEqual([]);
  });
});
