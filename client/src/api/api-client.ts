// The editor's side of the server protocol (ComfyUI's HTTP routes and WebSocket events, plus
// Limelight's additions): a WebSocket that reconnects and asks for the events it missed, prompts sent
// over the socket with POST /prompt as the fallback, and the HTTP routes the editor uses.
import type { Prompt } from '../../../common/prompt.ts';
import type { Workflow } from '../../../common/workflow.ts';
import type { PromptRefusal } from '../model/run-state.ts';
import { WORKFLOW_NAME_KEY } from '../model/run-summary.ts';
import { parsePreviewFrame } from './preview-frame.ts';
import type { ObjectInfoEntry } from '../../../common/object-info.ts';
import type { FileRef, HistoryEntry, QueueItem } from './protocol-types.ts';

export type { FileRef, HistoryEntry, QueueItem };

export type ConnectionState = 'connecting' | 'open' | 'closed';

export type QueueResult = { ok: true; promptId: string; number: number } | { ok: false; refusal: PromptRefusal };

export interface ExampleWorkflow {
  name: string;
  file: string;
  title: string;
}

interface PendingSocketPrompt {
  resolve: (result: QueueResult) => void;
  timer: ReturnType<typeof setTimeout>;
}

const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000];
/** How long a prompt sent over the socket may go unanswered before POST /prompt is tried. */
const SOCKET_ANSWER_TIMEOUT_MS = 10_000;

export class ApiClient extends EventTarget {
  readonly clientId: string;
  connection: ConnectionState = 'closed';
  #socket: WebSocket | null = null;
  #lastSeq: number | null = null;
  #attempt = 0;
  #requestCounter = 0;
  readonly #pending = new Map<string, PendingSocketPrompt>();
  /**
   * The access token the page was opened with (`?token=`), sent with every request. The server usually
   * keeps it in an HttpOnly cookie instead and takes it out of the address; this covers a page it did not
   * serve itself (a dev server, a proxy), where that cookie is not set.
   */
  readonly #token = new URLSearchParams(location.search).get('token');

  constructor(readonly base: string = location.origin) {
    super();
    // Kept per tab across reloads, so the server can route a reloaded page's events to it.
    this.clientId = sessionStorage.getItem('limelight.clientId') ?? randomHex(16);
    sessionStorage.setItem('limelight.clientId', this.clientId);
  }

  // ---- WebSocket ----

  connect(): void {
    const url = new URL(`/ws?clientId=${encodeURIComponent(this.clientId)}`, this.base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.#lastSeq !== null) url.searchParams.set('since', String(this.#lastSeq));
    if (this.#token) url.searchParams.set('token', this.#token);
    this.#setConnection('connecting');
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    socket.addEventListener('open', () => {
      this.#attempt = 0;
      // Previews then come with the id of the node they belong to.
      socket.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      this.#setConnection('open');
    });
    socket.addEventListener('message', (event) => {
      if (typeof event.data === 'string') this.#receive(event.data);
      else if (event.data instanceof ArrayBuffer) {
        const preview = parsePreviewFrame(event.data);
        if (preview) this.dispatchEvent(new CustomEvent('preview', { detail: preview }));
      }
    });
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#setConnection('closed');
      const delay = RECONNECT_DELAYS_MS[Math.min(this.#attempt++, RECONNECT_DELAYS_MS.length - 1)];
      setTimeout(() => this.connect(), delay);
    });
  }

  #setConnection(state: ConnectionState): void {
    this.connection = state;
    this.dispatchEvent(new CustomEvent('connection', { detail: state }));
  }

  #receive(text: string): void {
    let message: { type?: unknown; data?: unknown; seq?: unknown };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message.seq === 'number') this.#lastSeq = message.seq;
    if (typeof message.type !== 'string') return;
    const data = (message.data ?? {}) as Record<string, unknown>;
    if (this.#answerSocketPrompt(message.type, data)) return;
    this.dispatchEvent(new CustomEvent(message.type, { detail: data }));
  }

  /** The server answers `queue_prompt` with the body POST /prompt would return, tagged with our request id. */
  #answerSocketPrompt(type: string, data: Record<string, unknown>): boolean {
    const requestId = typeof data.request_id === 'string' ? data.request_id : null;
    const pending = requestId === null ? undefined : this.#pending.get(requestId);
    if (!pending || !requestId) return false;
    clearTimeout(pending.timer);
    this.#pending.delete(requestId);
    const accepted = typeof data.prompt_id === 'string' && type !== 'error' && !data.error;
    pending.resolve(
      accepted
        ? { ok: true, promptId: data.prompt_id as string, number: Number(data.number ?? 0) }
        : { ok: false, refusal: data as PromptRefusal },
    );
    return true;
  }

  // ---- Queueing ----

  /** Sends the workflow over the socket (the server converts it); falls back to POST /prompt with the prompt. */
  async queueWorkflow(workflow: Workflow, prompt: Prompt, name: string): Promise<QueueResult> {
    const extra_data = { extra_pnginfo: { workflow }, [WORKFLOW_NAME_KEY]: name };
    const socket = this.#socket;
    if (socket && socket.readyState === WebSocket.OPEN) {
      const answer = await this.#queueOverSocket(socket, { workflow, client_id: this.clientId, extra_data });
      if (answer) return answer;
    }
    return this.queuePrompt(prompt, extra_data);
  }

  #queueOverSocket(socket: WebSocket, data: Record<string, unknown>): Promise<QueueResult | null> {
    const requestId = `q${++this.#requestCounter}-${Date.now()}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        resolve(null);
      }, SOCKET_ANSWER_TIMEOUT_MS);
      this.#pending.set(requestId, { resolve, timer });
      socket.send(JSON.stringify({ type: 'queue_prompt', data: { ...data, request_id: requestId } }));
    });
  }

  async queuePrompt(prompt: Prompt, extraData: Record<string, unknown>): Promise<QueueResult> {
    const response = await this.fetchApi('/prompt', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt, client_id: this.clientId, extra_data: extraData }),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.ok && typeof body.prompt_id === 'string') return { ok: true, promptId: body.prompt_id, number: Number(body.number ?? 0) };
    return { ok: false, refusal: response.ok ? { error: 'the server did not return a prompt id' } : (body as PromptRefusal) };
  }

  // ---- HTTP ----

  fetchApi(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#token) headers.set('Authorization', `Bearer ${this.#token}`);
    return fetch(new URL(`/api${path}`, this.base), { ...init, headers });
  }

  async #json<T>(path: string, init?: RequestInit): Promise<T> {
    const response = await this.fetchApi(path, init);
    if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  #post(path: string, body: unknown): Promise<Response> {
    return this.fetchApi(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  }

  getObjectInfo(): Promise<Record<string, ObjectInfoEntry>> {
    return this.#json('/object_info');
  }

  getQueue(): Promise<{ queue_running: QueueItem[]; queue_pending: QueueItem[] }> {
    return this.#json('/queue');
  }

  getHistory(maxItems = 50): Promise<Record<string, HistoryEntry>> {
    return this.#json(`/history?max_items=${maxItems}`);
  }

  async deleteQueued(promptIds: string[]): Promise<void> {
    await this.#post('/queue', { delete: promptIds });
  }

  /** Removes every prompt still waiting (not the running one). */
  async clearQueue(): Promise<void> {
    await this.#post('/queue', { clear: true });
  }

  async clearHistory(): Promise<void> {
    await this.#post('/history', { clear: true });
  }

  async interrupt(): Promise<void> {
    await this.#post('/interrupt', {});
  }

  /** The example workflows in the server's `workflows/` folder. */
  async getExampleWorkflows(): Promise<ExampleWorkflow[]> {
    const list = await this.#json<{ name: string; file: string }[]>('/workflows');
    return list.map(({ name, file }) => ({ name, file, title: name.replace(/[-_]+/g, ' ') }));
  }

  getExampleWorkflow(example: ExampleWorkflow): Promise<Workflow> {
    return this.#json(`/workflows/${encodeURIComponent(example.file)}`);
  }

  /** Uploads an image or video into the input folder; returns the name to put in the node's combo. */
  async upload(file: Blob, filename: string, options: { subfolder?: string; overwrite?: boolean } = {}): Promise<FileRef> {
    const form = new FormData();
    form.append('image', file, filename);
    form.append('type', 'input');
    if (options.subfolder) form.append('subfolder', options.subfolder);
    if (options.overwrite) form.append('overwrite', 'true');
    const body = await this.#json<{ name: string; subfolder?: string; type?: string }>('/upload/image', { method: 'POST', body: form });
    return { filename: body.name, subfolder: body.subfolder ?? '', type: body.type ?? 'input' };
  }

  viewUrl(ref: FileRef): string {
    const params = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder ?? '', type: ref.type ?? 'output' });
    if (this.#token) params.set('token', this.#token);
    return new URL(`/api/view?${params}`, this.base).href;
  }
}

/** crypto.randomUUID needs a secure context; a server opened by its LAN address over http is not one. */
function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The name a combo of input files shows for an uploaded file (`sub/name.png`). */
export function inputName(ref: FileRef): string {
  return ref.subfolder ? `${ref.subfolder}/${ref.filename}` : ref.filename;
}
