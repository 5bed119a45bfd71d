// The WebSocket side: ComfyUI's `{type, data}` event stream per client id, plus Limelight's
// additions that ComfyUI clients ignore: every event carries `seq` (counting per client id), and a
// client reconnecting with `?clientId=ID&since=SEQ` first receives the events it missed.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { previewImageFrame, previewWithMetadataFrame, type Preview } from './preview-frames.ts';

export interface ClientMessage {
  type: string;
  data: unknown;
}

export interface HubOptions {
  /** Every client sees every prompt's events, not only those it submitted. */
  watchAll?: boolean;
  /** Events kept per client id for replay. */
  replayLimit?: number;
  /** Client ids with no socket are forgotten after this long, and beyond this many. */
  idleSessionMs?: number;
  maxSessions?: number;
  /** Announced to clients that send their `feature_flags`. */
  serverFeatures?: Record<string, unknown>;
  /** Largest message a client may send (a workflow). */
  maxMessageBytes?: number;
}

/** Previews are skipped for a socket with this much unsent data: a slow viewer must not pile up frames. */
const PREVIEW_BACKLOG_BYTES = 16 * 1024 * 1024;

interface Session {
  clientId: string;
  sockets: Set<WebSocket>;
  seq: number;
  buffer: { seq: number; frame: string }[];
  lastSeen: number;
}

type MessageHandler = (clientId: string, message: ClientMessage) => void | Promise<void>;

export class EventHub {
  private readonly sessions = new Map<string, Session>();
  private readonly previewMetadata = new WeakSet<WebSocket>();
  private readonly wss: WebSocketServer;
  private readonly replayLimit: number;
  private readonly idleSessionMs: number;
  private readonly maxSessions: number;
  private messageHandler: MessageHandler = () => {};
  private connectHandler: (clientId: string) => void = () => {};

  constructor(private readonly options: HubOptions = {}) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes ?? 64 * 1024 * 1024 });
    this.replayLimit = options.replayLimit ?? 2000;
    this.idleSessionMs = options.idleSessionMs ?? 10 * 60_000;
    this.maxSessions = options.maxSessions ?? 256;
  }

  /** Called for every JSON message a client sends other than `feature_flags`. */
  onMessage(handler: MessageHandler): void {
    this.messageHandler = handler;
  }

  /** Called after a socket connects and its missed events were replayed (the server sends `status`). */
  onConnect(handler: (clientId: string) => void): void {
    this.connectHandler = handler;
  }

  get connectedClients(): number {
    let count = 0;
    for (const session of this.sessions.values()) count += session.sockets.size;
    return count;
  }

  /** Takes over an HTTP upgrade request that was already checked (path and origin). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request));
  }

  /** An event of a prompt: to the client that submitted it, or to everyone when there is none or when watching all. */
  sendPromptEvent(clientId: string | null, type: string, data: unknown): void {
    if (clientId === null || this.options.watchAll) this.broadcast(type, data);
    else this.sendToClient(clientId, type, data);
  }

  sendToClient(clientId: string, type: string, data: unknown): void {
    this.deliver(this.session(clientId), type, data);
  }

  broadcast(type: string, data: unknown): void {
    for (const session of this.sessions.values()) this.deliver(session, type, data);
  }

  /** A preview image as a binary frame; not replayed (the next preview supersedes it). */
  sendPreview(preview: Preview, clientId: string | null): void {
    const owner = clientId === null ? undefined : this.sessions.get(clientId);
    const targets = clientId === null || this.options.watchAll ? [...this.sessions.values()] : owner ? [owner] : [];
    let plain: Buffer | undefined;
    let withMetadata: Buffer | undefined;
    for (const session of targets) {
      for (const ws of session.sockets) {
        if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > PREVIEW_BACKLOG_BYTES) continue;
        if (this.previewMetadata.has(ws)) ws.send((withMetadata ??= previewWithMetadataFrame(preview)));
        else ws.send((plain ??= previewImageFrame(preview)));
      }
    }
  }

  close(): void {
    for (const session of this.sessions.values()) for (const ws of session.sockets) ws.terminate();
    this.sessions.clear();
    this.wss.close();
  }

  private accept(ws: WebSocket, request: IncomingMessage): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const clientId = url.searchParams.get('clientId') || randomUUID().replace(/-/g, '');
    const session = this.session(clientId);
    session.sockets.add(ws);
    ws.on('close', () => {
      session.sockets.delete(ws);
      session.lastSeen = Date.now();
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (raw, isBinary) => this.receive(ws, clientId, raw, isBinary));
    const since = url.searchParams.get('since');
    if (since !== null) this.replay(ws, session, Number(since));
    try {
      this.connectHandler(clientId);
    } catch (error) {
      ws.close(1011, `server error: ${(error as Error).message}`.slice(0, 120));
    }
  }

  private replay(ws: WebSocket, session: Session, since: number): void {
    if (!Number.isInteger(since) || since < 0) {
      sendJson(ws, { type: 'replay', data: { since, complete: false, message: '"since" must be the last seq a client received (an integer ≥ 0)' } });
      return;
    }
    const missed = session.buffer.filter((entry) => entry.seq > since);
    const firstKept = session.buffer[0]?.seq ?? session.seq + 1;
    // Complete when nothing after `since` has been dropped from the buffer.
    const complete = since >= firstKept - 1 && since <= session.seq;
    sendJson(ws, { type: 'replay', data: { since, last_seq: session.seq, replayed: missed.length, complete } });
    for (const entry of missed) ws.send(entry.frame);
  }

  private receive(ws: WebSocket, clientId: string, raw: RawData, isBinary: boolean): void {
    let message: ClientMessage;
    try {
      if (isBinary) throw new Error('binary messages are not accepted');
      message = JSON.parse(raw.toString());
      if (!message || typeof message !== 'object' || typeof message.type !== 'string') throw new Error('a message is {"type": string, "data": …}');
    } catch (error) {
      sendJson(ws, { type: 'error', data: { message: `unreadable message: ${(error as Error).message}` } });
      return;
    }
    if (message.type === 'feature_flags') {
      const flags = message.data as { supports_preview_metadata?: unknown } | null;
      if (flags?.supports_preview_metadata === true) this.previewMetadata.add(ws);
      sendJson(ws, { type: 'feature_flags', data: this.options.serverFeatures ?? {} });
      return;
    }
    Promise.resolve()
      .then(() => this.messageHandler(clientId, message))
      .catch((error: Error) => sendJson(ws, { type: 'error', data: { message: `could not handle "${message.type}": ${error.message}` } }));
  }

  private deliver(session: Session, type: string, data: unknown): void {
    const seq = ++session.seq;
    const frame = JSON.stringify({ type, data, seq });
    session.buffer.push({ seq, frame });
    if (session.buffer.length > this.replayLimit) session.buffer.splice(0, session.buffer.length - this.replayLimit);
    for (const ws of session.sockets) if (ws.readyState === WebSocket.OPEN) ws.send(frame);
  }

  private session(clientId: string): Session {
    let session = this.sessions.get(clientId);
    if (!session) {
      this.forgetIdleSessions();
      session = { clientId, sockets: new Set(), seq: 0, buffer: [], lastSeen: Date.now() };
      this.sessions.set(clientId, session);
    }
    return session;
  }

  private forgetIdleSessions(): void {
    const now = Date.now();
    const idle = [...this.sessions.values()].filter((s) => s.sockets.size === 0).sort((a, b) => a.lastSeen - b.lastSeen);
    let excess = this.sessions.size + 1 - this.maxSessions;
    for (const session of idle) {
      if (excess <= 0 && now - session.lastSeen < this.idleSessionMs) break;
      this.sessions.delete(session.clientId);
      excess--;
    }
  }
}

function sendJson(ws: WebSocket, message: unknown): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}
