// A real server on a random port with temp folders, and a WebSocket client that records what it receives.
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startServer, type LimelightServer, type ServerOptions } from '../../server/api/server.ts';
import type { Settings } from '../../server/config.ts';
import { API_TEST_NODE_SET } from './api-nodes.ts';
import { makeFolders } from './context.ts';

export function testSettings(root = mkdtempSync(path.join(tmpdir(), 'limelight-api-'))): Settings & { root: string } {
  return { root, folders: makeFolders(root), cacheDir: path.join(root, '.cache'), memoryCacheBytes: 64 * 1024 * 1024, diskCacheBytes: 64 * 1024 * 1024 };
}

/** A fetch Response whose JSON the tests read loosely: their assertions check its shape. */
export type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };
export const fetchJson = fetch as (url: string, init?: RequestInit) => Promise<JsonResponse>;

export interface TestServer extends LimelightServer {
  settings: Settings & { root: string };
  get(route: string, init?: RequestInit): Promise<JsonResponse>;
  post(route: string, body?: unknown): Promise<JsonResponse>;
}

export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const settings = (options.settings as TestServer['settings']) ?? testSettings();
  const server = await startServer({
    nodes: API_TEST_NODE_SET,
    port: 0,
    clientDist: path.join(settings.root, 'no-client'),
    workflowsDir: path.join(settings.root, 'workflows'),
    ...options,
    settings,
  });
  return Object.assign(server, {
    settings,
    get: (route: string, init?: RequestInit) => fetchJson(server.url + route, init),
    post: (route: string, body?: unknown) =>
      fetchJson(server.url + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }),
  });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with exactly these headers (fetch rewrites Host and may add others). */
export function rawRequest(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface Message {
  type: string;
  data: Record<string, unknown> & { prompt_id?: string };
  seq?: number;
}

/** A WebSocket client recording every JSON message and binary frame, with waits on what arrived. */
export class EventClient {
  readonly messages: Message[] = [];
  readonly binary: Buffer[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw, isBinary) => {
      if (isBinary) this.binary.push(raw as Buffer);
      else this.messages.push(JSON.parse(raw.toString()));
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.on('close', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static connect(baseUrl: string, query: string, headers?: Record<string, string>): Promise<EventClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?${query}`, { headers });
    const client = new EventClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Resolves with the first message (after `from`) matching, waiting for it if needed. */
  async waitFor(match: (m: Message) => boolean, from = 0): Promise<Message> {
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      if (this.ws.readyState !== WebSocket.OPEN) throw new Error('socket closed while waiting');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  waitForBinary(count: number): Promise<Buffer[]> {
    return (async () => {
      while (this.binary.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
      return this.binary;
    })();
  }

  /** Messages about one prompt, in arrival order. */
  forPrompt(promptId: string): Message[] {
    return this.messages.filter((m) => m.data?.prompt_id === promptId);
  }

  done(promptId: string): Promise<Message> {
    return this.waitFor((m) => m.data?.prompt_id === promptId && ['execution_success', 'execution_error', 'execution_interrupted'].includes(m.type));
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** Text(1) → SaveText(2): writes `text` to the output folder. */
export function textPrompt(text: string, prefix = 'api/text'): Record<string, unknown> {
  return {
    '1': { class_type: 'Text', inputs: { text } },
    '2': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: prefix } },
  };
}

/** TestSource → TestSlow(steps) → TestSum: progress per step. */
export function slowPrompt(steps: number, start = 0): Record<string, unknown> {
  return {
    '1': { class_type: 'TestSource', inputs: { start, length: 4 } },
    '2': { class_type: 'TestSlow', inputs: { signal: ['1', 0], steps } },
    '3': { class_type: 'TestSum', inputs: { signal: ['2', 0] } },
  };
}

export function holdPrompt(label = ''): Record<string, unknown> {
  return { '1': { class_type: 'TestHold', inputs: { steps: 1_000_000, label } } };
}
