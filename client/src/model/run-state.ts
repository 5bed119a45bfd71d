// What the editor shows about runs, per node: running, progress, cached, outputs, errors. Fed by the
// WebSocket events and by the `node_errors` of a refused prompt; the canvas only draws this state.
import type { ClipProgress, ProgressDetail } from '../../../common/events.ts';
import type { NodeErrors } from '../../../common/node-errors.ts';

export interface NodeProgress extends ProgressDetail {
  value: number;
  max: number;
}

export interface NodeIssue {
  message: string;
  /** The input the error is about, when known: the editor marks that input. */
  inputName?: string;
}


/** The body of a refused prompt: `{error: {type, message, details}, node_errors}`. */
export interface PromptRefusal {
  error?: { type?: string; message?: string; details?: string } | string;
  node_errors?: NodeErrors;
}

export type RunPhase = 'idle' | 'running' | 'done' | 'failed' | 'interrupted';

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** "frames 24/64 · 12 s left" for a streamed clip. */
export function clipLabel(clip: ClipProgress): string {
  const left = clip.done >= clip.total ? '' : ` · ${clip.eta_seconds < 90 ? `${Math.ceil(clip.eta_seconds)} s` : `${Math.ceil(clip.eta_seconds / 60)} min`} left`;
  return `frames ${clip.done}/${clip.total}${left}`;
}

/** "frame 3/24 · step 2/4" (or the plain percentage) for a node's progress bar. */
export function progressLabel(progress: NodeProgress): string {
  const parts: string[] = [];
  if (progress.label) parts.push(progress.label);
  if (progress.frame !== undefined && progress.frames !== undefined) parts.push(`frame ${progress.frame}/${progress.frames}`);
  if (progress.step !== undefined && progress.steps !== undefined) parts.push(`step ${progress.step}/${progress.steps}`);
  if (parts.length === 0 && progress.max > 0) parts.push(`${Math.round((100 * progress.value) / progress.max)}%`);
  return parts.join(' · ');
}

export class RunState {
  promptId: string | null = null;
  phase: RunPhase = 'idle';
  runningNode: string | null = null;
  /** A message about the whole run (interrupted, refused prompt without node errors). */
  message: string | null = null;
  readonly progress = new Map<string, NodeProgress>();
  readonly cached = new Set<string>();
  readonly executed = new Set<string>();
  readonly errors = new Map<string, NodeIssue[]>();
  /** The UI payload of each output node's latest run: `{images}`, `{videos}`, `{text}`… */
  readonly outputs = new Map<string, Record<string, unknown>>();
  /** A streamed clip's frames done of its total and the time left, while it runs. */
  clip: ClipProgress | null = null;
  /** The latest preview image a node sent while it ran (e.g. the Sampler's current frame), until the next run. */
  readonly livePreviews = new Map<string, Blob>();

  /** Applies one WebSocket event. Returns true when something visible changed. */
  handle(type: string, data: Record<string, unknown>): boolean {
    const promptId = str(data.prompt_id);
    switch (type) {
      case 'execution_start':
        this.#startRun(promptId ?? null);
        return true;
      case 'execution_cached':
        for (const node of Array.isArray(data.nodes) ? data.nodes : []) this.cached.add(String(node));
        return true;
      case 'executing': {
        const node = data.node === null || data.node === undefined ? null : String(data.node);
        if (this.runningNode !== null) this.progress.delete(this.runningNode);
        this.runningNode = node;
        if (node === null && this.phase === 'running') this.phase = 'done';
        return true;
      }
      case 'progress': {
        const node = str(data.node) ?? this.runningNode;
        if (node === null) return false;
        this.progress.set(node, {
          value: num(data.value) ?? 0,
          max: num(data.max) ?? 1,
          frame: num(data.frame),
          frames: num(data.frames),
          step: num(data.step),
          steps: num(data.steps),
          label: str(data.label),
        });
        const clip = data.clip as Partial<ClipProgress> | undefined;
        if (clip && typeof clip === 'object' && num(clip.done) !== undefined && num(clip.total) !== undefined) {
          this.clip = { done: clip.done!, total: clip.total!, eta_seconds: num(clip.eta_seconds) ?? 0 };
        }
        return true;
      }
      case 'executed': {
        const node = str(data.node);
        if (node === undefined) return false;
        this.executed.add(node);
        if (data.output && typeof data.output === 'object') this.outputs.set(node, data.output as Record<string, unknown>);
        return true;
      }
      case 'execution_success':
        this.#finish('done', null);
        return true;
      case 'execution_error': {
        const node = str(data.node_id);
        const message = [str(data.exception_type), str(data.exception_message)].filter(Boolean).join(': ');
        if (node !== undefined) this.errors.set(node, [{ message: message || 'failed', inputName: str(data.input_name) }]);
        this.#finish('failed', node === undefined ? message : null);
        return true;
      }
      case 'execution_interrupted':
        this.#finish('interrupted', 'Interrupted');
        return true;
      default:
        return false;
    }
  }

  /**
   * A preview frame from the socket, for the node it names (or the running node). Frames that arrive
   * when no run is in progress, or belong to another prompt, are ignored. Returns true when something
   * visible changed.
   */
  showPreview(preview: { nodeId: string | null; promptId: string | null; mime: string; image: Uint8Array }): boolean {
    if (this.phase !== 'running' || (preview.promptId !== null && this.promptId !== null && preview.promptId !== this.promptId)) return false;
    const node = preview.nodeId ?? this.runningNode;
    if (node === null) return false;
    this.livePreviews.set(node, new Blob([preview.image as Uint8Array<ArrayBuffer>], { type: preview.mime }));
    return true;
  }

  /** Shows the errors of a prompt the server refused, on the nodes and inputs they name. */
  showRefusal(refusal: PromptRefusal): void {
    this.#startRun(null);
    for (const [nodeId, entry] of Object.entries(refusal.node_errors ?? {})) {
      const issues = (entry.errors ?? []).map((e) => ({
        // Our server's details are whole sentences; ComfyUI's message is the short form.
        message: e.details || e.message || e.type || 'invalid',
        inputName: e.extra_info?.input_name,
      }));
      if (issues.length > 0) this.errors.set(nodeId, issues);
    }
    const error = refusal.error;
    const summary = typeof error === 'string' ? error : [error?.message, error?.details].filter(Boolean).join(': ');
    this.#finish('failed', this.errors.size > 0 && !summary ? null : summary || 'The server refused the prompt');
  }

  /** Marks the graph's own problems (e.g. node types the server doesn't know) before anything is sent. */
  showLocalErrors(issues: { node_id?: string; message: string }[]): void {
    this.#startRun(null);
    for (const issue of issues) {
      if (issue.node_id !== undefined) this.errors.set(issue.node_id, [{ message: issue.message }]);
    }
    this.#finish('failed', issues.find((i) => i.node_id === undefined)?.message ?? null);
  }

  /** Shows outputs of an earlier run (a past run reopened, or the page reloaded), by node id. */
  showOutputs(outputs: Record<string, unknown>): void {
    for (const [node, output] of Object.entries(outputs)) {
      if (output && typeof output === 'object' && !Array.isArray(output)) this.outputs.set(node, output as Record<string, unknown>);
    }
  }

  /** Forgets everything (another workflow was opened). */
  reset(): void {
    this.#startRun(null);
    this.phase = 'idle';
    this.outputs.clear();
  }

  #startRun(promptId: string | null): void {
    this.promptId = promptId;
    this.phase = 'running';
    this.runningNode = null;
    this.message = null;
    this.clip = null;
    this.progress.clear();
    this.cached.clear();
    this.executed.clear();
    this.errors.clear();
    this.livePreviews.clear();
  }

  #finish(phase: RunPhase, message: string | null): void {
    this.phase = phase;
    this.runningNode = null;
    this.clip = null;
    this.progress.clear();
    this.message = message;
  }
}
