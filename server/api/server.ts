// Starts the Limelight server: ComfyUI's HTTP API and WebSocket on one port, a persistent queue and
// history, and a worker handing one prompt at a time to the engine runner (a thread of its own, so this
// thread stays free to answer while a prompt runs).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger, Settings } from '../config.ts';
import { Engine } from '../engine/engine.ts';
import { ensureFolders } from '../create-engine.ts';
import { EngineRunner, RunnerStoppedError } from '../runner/engine-runner.ts';
import { LIMELIGHT_NODES, loadNodeSet, type NodeSetRef } from '../runner/node-set.ts';
import { UsageError } from '../errors.ts';
import { ChunkDispatcher } from '../scale/chunk-dispatcher.ts';
import { ChunkExchange } from '../scale/chunk-exchange.ts';
import { createApp } from './app.ts';
import type { ApiContext, RuntimeHooks } from './context.ts';
import { EventHub } from './event-hub.ts';
import { accessPolicy, accessProblem } from './origin-guard.ts';
import { MAX_JSON_BYTES } from './json-limits.ts';
import { PromptStore } from './prompt-store.ts';
import { PromptWorker } from './prompt-worker.ts';
import { pathRedactor, redactDeep } from './redact-paths.ts';
import { submitPrompt } from './submit-prompt.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WEBSOCKET_PATHS = new Set(['/ws', '/api/ws']);
export const DEFAULT_UPLOAD_LIMIT_BYTES = 2 * 1024 ** 3;
export const DEFAULT_HOST = '127.0.0.1';
/** How long stopping waits for an interrupted prompt to end before the runner thread is terminated. */
const STOP_GRACE_MS = 5000;

export interface ServerOptions {
  /** The node types, loaded here (validation, object_info) and in the runner (default: Limelight's). */
  nodes?: NodeSetRef;
  settings: Settings;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  allowOrigins?: string[];
  /** Host names requests may be addressed to (against DNS rebinding), besides loopback names and IP addresses. */
  allowHosts?: string[];
  /** The access token every request must carry (see access-token.ts). */
  token?: string;
  uploadLimitBytes?: number;
  /** Every WebSocket client sees every prompt's events. */
  watchAll?: boolean;
  /** The SQLite file of the queue and history (default `<cache dir>/server.sqlite`). */
  databaseFile?: string;
  clientDist?: string;
  workflowsDir?: string;
  /** `redis://…`: also coordinate `limelight worker` processes through BullMQ on this Redis (needs `token`). */
  redis?: string;
  /** Stands in for the runner's stats and free (tests). */
  runtime?: RuntimeHooks;
  log?: Logger;
}

export interface LimelightServer {
  url: string;
  host: string;
  port: number;
  /** Validates prompts; they run in `runner`. */
  engine: Engine;
  runner: EngineRunner;
  store: PromptStore;
  worker: PromptWorker;
  hub: EventHub;
  close(): Promise<void>;
}

const quietLog: Logger = { info: () => {}, warn: (m) => process.stderr.write(`warning: ${m}\n`) };

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new Error(`port ${port} on ${host} is already in use: stop the other server or choose another --port`));
      else if (error.code === 'EADDRNOTAVAIL') reject(new Error(`cannot listen on ${host}: this machine has no such address; check --host`));
      else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
}

function refuseUpgrade(socket: Duplex, status: string, message: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${message}\n`);
}

export async function startServer(options: ServerOptions): Promise<LimelightServer> {
  const { settings } = options;
  const log = options.log ?? quietLog;
  const host = options.host ?? DEFAULT_HOST;
  const uploadLimitBytes = options.uploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT_BYTES;
  const policy = accessPolicy(host, options);
  if (options.redis !== undefined && !options.token) {
    throw new UsageError('--redis needs an access token (--token or LIMELIGHT_TOKEN): workers fetch inputs and post results with it');
  }
  const nodes = options.nodes ?? LIMELIGHT_NODES;
  const registry = await loadNodeSet(nodes);
  ensureFolders(settings);
  const engine = new Engine({ registry, folders: settings.folders, memoryBudgetBytes: 0, log });
  const store = new PromptStore(options.databaseFile ?? path.join(settings.cacheDir, 'server.sqlite'));
  const failed = store.failInterrupted('The server stopped while this prompt was running, so its outputs may be incomplete. Queue it again.');
  if (failed.length > 0) log.warn(`${failed.length} prompt(s) were running when the server stopped; marked failed in the history: ${failed.join(', ')}`);

  const hub = new EventHub({ watchAll: options.watchAll, maxMessageBytes: MAX_JSON_BYTES, serverFeatures: { supports_preview_metadata: true, max_upload_size: uploadLimitBytes } });
  const redact = pathRedactor(settings.folders);
  const runner = new EngineRunner({ nodes, settings, log });
  const worker = new PromptWorker(runner, store, hub, log, redact);
  const ctx: ApiContext = {
    engine,
    registry,
    store,
    worker,
    hub,
    folders: settings.folders,
    uploadLimitBytes,
    workflowsDir: options.workflowsDir ?? path.join(REPO_ROOT, 'workflows'),
    clientDist: options.clientDist ?? path.join(REPO_ROOT, 'client', 'dist'),
    runtime: options.runtime ?? runner,
    scale: options.redis === undefined ? undefined : new ChunkDispatcher(options.redis, new ChunkExchange()),
    redact,
    submit: async (body) =>
      redactDeep(
        await submitPrompt(body, {
          engine,
          store,
          objectInfo: () => registry.objectInfo(engine.env),
          queued: () => {
            worker.broadcastStatus();
            worker.kick();
          },
        }),
        redact,
      ),
  };

  hub.onConnect((clientId) => hub.sendToClient(clientId, 'status', { ...worker.status(), sid: clientId }));
  hub.onMessage((clientId, message) => {
    if (message.type !== 'queue_prompt') {
      hub.sendToClient(clientId, 'error', { message: `unknown message type "${message.type}"; the server accepts "queue_prompt" and "feature_flags"` });
      return;
    }
    const data = (message.data ?? {}) as Record<string, unknown>;
    ctx.submit({ client_id: clientId, ...data }).then(
      (result) => hub.sendToClient(clientId, 'queue_prompt_result', { request_id: data.request_id ?? null, status: result.status, ...result.body }),
      (error: Error) => hub.sendToClient(clientId, 'error', { message: redact(`the prompt could not be queued: ${error.message}`) }),
    );
  });

  const server = http.createServer(createApp(ctx, policy, log));
  // Large video uploads may take longer than Node's default 5 minutes per request.
  server.requestTimeout = 0;
  server.on('upgrade', (request, socket, head) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (!WEBSOCKET_PATHS.has(pathname)) {
      refuseUpgrade(socket, '404 Not Found', 'WebSocket endpoint is /ws?clientId=…');
      return;
    }
    const problem = accessProblem(request, policy);
    if (problem) {
      refuseUpgrade(socket, problem.status === 401 ? '401 Unauthorized' : '403 Forbidden', problem.message);
      return;
    }
    hub.handleUpgrade(request, socket, head);
  });

  try {
    await listen(server, options.port ?? 8188, host);
  } catch (error) {
    store.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  // Loading the nodes and onnxruntime in the runner takes seconds: begin now, not at the first prompt.
  runner.start().catch((error: Error) => {
    if (!(error instanceof RunnerStoppedError)) log.warn(`the engine runner did not start (${error.message}); it is tried again with the next prompt`);
  });
  worker.kick();

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    engine,
    runner,
    store,
    worker,
    hub,
    async close() {
      // The running prompt is interrupted; one stuck between progress reports is cut off with its thread.
      const stopped = worker.stop();
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
      await runner.close();
      await stopped;
      await ctx.scale?.close();
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.close();
    },
  };
}
