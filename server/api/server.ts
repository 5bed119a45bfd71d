// Starts the Limelight server: ComfyUI's HTTP API and WebSocket on one port, backed by the engine,
// a persistent queue and history, and a worker running one prompt at a time.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeRegistry } from '../engine/node-registry.ts';
import type { Logger, Settings } from '../config.ts';
import type { Engine } from '../engine/engine.ts';
import { createEngine } from '../create-engine.ts';
import { createApp } from './app.ts';
import type { ApiContext, RuntimeHooks } from './context.ts';
import { EventHub } from './event-hub.ts';
import { isLoopbackHost, originProblem, type OriginPolicy } from './origin-guard.ts';
import { PromptStore } from './prompt-store.ts';
import { PromptWorker } from './prompt-worker.ts';
import { submitPrompt } from './submit-prompt.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WEBSOCKET_PATHS = new Set(['/ws', '/api/ws']);
export const DEFAULT_UPLOAD_LIMIT_BYTES = 2 * 1024 ** 3;

export interface ServerOptions {
  registry: NodeRegistry;
  settings: Settings;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  allowOrigins?: string[];
  uploadLimitBytes?: number;
  /** Every WebSocket client sees every prompt's events. */
  watchAll?: boolean;
  /** The SQLite file of the queue and history (default `<cache dir>/server.sqlite`). */
  databaseFile?: string;
  clientDist?: string;
  workflowsDir?: string;
  runtime?: RuntimeHooks;
  log?: Logger;
}

export interface LimelightServer {
  url: string;
  host: string;
  port: number;
  engine: Engine;
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

export async function startServer(options: ServerOptions): Promise<LimelightServer> {
  const { settings, registry } = options;
  const log = options.log ?? quietLog;
  const host = options.host ?? '127.0.0.1';
  const uploadLimitBytes = options.uploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT_BYTES;
  const engine = createEngine(settings, registry, log);
  const store = new PromptStore(options.databaseFile ?? path.join(settings.cacheDir, 'server.sqlite'));
  const failed = store.failInterrupted('The server stopped while this prompt was running, so its outputs may be incomplete. Queue it again.');
  if (failed.length > 0) log.warn(`${failed.length} prompt(s) were running when the server stopped; marked failed in the history: ${failed.join(', ')}`);

  const hub = new EventHub({ watchAll: options.watchAll, serverFeatures: { supports_preview_metadata: true, max_upload_size: uploadLimitBytes } });
  const worker = new PromptWorker(engine, store, hub, log);
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
    runtime: options.runtime,
    submit: (body) =>
      submitPrompt(body, {
        engine,
        store,
        objectInfo: () => registry.objectInfo(engine.env),
        queued: () => {
          worker.broadcastStatus();
          worker.kick();
        },
      }),
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
      (error: Error) => hub.sendToClient(clientId, 'error', { message: `the prompt could not be queued: ${error.message}` }),
    );
  });

  const policy: OriginPolicy = { allowOrigins: options.allowOrigins ?? [], loopback: isLoopbackHost(host) };
  const server = http.createServer(createApp(ctx, policy, log));
  // Large video uploads may take longer than Node's default 5 minutes per request.
  server.requestTimeout = 0;
  server.on('upgrade', (request, socket, head) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    const problem = WEBSOCKET_PATHS.has(pathname) ? originProblem(request.headers, policy) : 'not found';
    if (problem) {
      const status = problem === 'not found' ? '404 Not Found' : '403 Forbidden';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${problem === 'not found' ? 'WebSocket endpoint is /ws?clientId=…' : problem}\n`);
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
  worker.kick();

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    engine,
    store,
    worker,
    hub,
    async close() {
      await worker.stop();
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.close();
    },
  };
}
