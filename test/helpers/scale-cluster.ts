// A coordinator's chunk exchange behind the server's access guard, and `limelight worker` processes
// running the frame-hash executor: what the scale-out tests and bench/scale.ts drive.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import express from 'express';
import { guard } from '../../server/api/app.ts';
import { ChunkExchange } from '../../server/scale/chunk-exchange.ts';
import type { ChunkWorkerOptions } from '../../server/scale/chunk-worker.ts';
import { workerClass } from '../../server/scale/worker-class.ts';
import { modelIdentity } from '../../server/scale/worker-registry.ts';

export const CLUSTER_TOKEN = 'scale-test-token-0123456789';
export const CLUSTER_MODEL = modelIdentity('demo-sd', 'a'.repeat(64));
export const CLUSTER_CLASS = workerClass('cpu', 'cpu', 'test', ['sse2']);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXECUTOR = pathToFileURL(path.join(HERE, 'frame-hash-executor.ts')).href;
const WORKER_ENTRY = path.join(HERE, 'scale-worker-process.ts');

export class TestCluster {
  readonly exchange = new ChunkExchange();
  readonly workers = new Map<string, ChildProcess>();
  private readonly root = mkdtempSync(path.join(tmpdir(), 'limelight-scale-'));

  private constructor(private readonly server: http.Server, readonly url: string, private readonly redisUrl: string) {}

  static async start(redisUrl: string): Promise<TestCluster> {
    const app = express();
    app.use(guard({ allowOrigins: [], loopback: true, allowHosts: [], token: CLUSTER_TOKEN }));
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const cluster = new TestCluster(server, `http://127.0.0.1:${(server.address() as { port: number }).port}`, redisUrl);
    app.use(cluster.exchange.router());
    return cluster;
  }

  /** Starts a worker process and waits until it listens for chunks. */
  async startWorker(name: string, overrides: Partial<ChunkWorkerOptions> = {}): Promise<ChildProcess> {
    const options: ChunkWorkerOptions = {
      redis: this.redisUrl,
      server: this.url,
      token: CLUSTER_TOKEN,
      name,
      workerClass: CLUSTER_CLASS,
      models: [CLUSTER_MODEL],
      executor: EXECUTOR,
      inputDir: path.join(this.root, name),
      lockDuration: 2000,
      stalledInterval: 1000,
      ...overrides,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER_ENTRY], {
      env: { ...process.env, LIMELIGHT_TEST_WORKER: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.workers.set(name, child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (data: Buffer) => data.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`worker ${name} exited (${code})`)));
    });
    return child;
  }

  async stopWorker(name: string): Promise<void> {
    const child = this.workers.get(name);
    this.workers.delete(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.on('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async close(): Promise<void> {
    for (const name of [...this.workers.keys()]) await this.stopWorker(name);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
