// What the Queue & history panel says about a prompt: the workflow's name, when it was queued or ran,
// how long it took, how it ended (an interrupted run is not a failure) and the output to show as its
// thumbnail. Read from ComfyUI's queue items and history entries (status messages carry timestamps).
import { isWorkflow } from '../../../common/workflow.ts';
import type { FileRef, HistoryEntry, QueueItem } from '../api/protocol-types.ts';

export type RunOutcome = 'queued' | 'running' | 'success' | 'error' | 'interrupted';

export interface RunSummary {
  promptId: string;
  number: number;
  name: string;
  nodes: number;
  outcome: RunOutcome;
  /** When it was queued (ms since the epoch), when known. */
  queuedAt?: number;
  startedAt?: number;
  /** ms from the start to the end of the run. */
  duration?: number;
  /** Why it failed. */
  message?: string;
  thumbnail?: { ref: FileRef; video: boolean };
}

/** The key under which the editor sends the workflow's name in `extra_data`. */
export const WORKFLOW_NAME_KEY = 'workflow_name';

const END_EVENTS = new Set(['execution_success', 'execution_error', 'execution_interrupted']);

function timestamp(data: Record<string, unknown> | undefined): number | undefined {
  const value = data?.timestamp;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function describeItem(item: QueueItem, outcome: RunOutcome): RunSummary {
  const [number, promptId, prompt, extra] = item;
  const workflow = extra?.extra_pnginfo?.workflow;
  const name = typeof extra?.[WORKFLOW_NAME_KEY] === 'string' && extra[WORKFLOW_NAME_KEY] ? (extra[WORKFLOW_NAME_KEY] as string) : isWorkflow(workflow) ? 'workflow' : 'API prompt';
  const created = extra?.create_time;
  return {
    promptId,
    number,
    name,
    nodes: isWorkflow(workflow) ? workflow.nodes.length : Object.keys(prompt ?? {}).length,
    outcome,
    queuedAt: typeof created === 'number' ? created : undefined,
  };
}

function isFileRef(value: unknown): value is FileRef & { format?: string } {
  return !!value && typeof value === 'object' && typeof (value as FileRef).filename === 'string';
}

/** The run's picture: the video it made (VHS lists videos as `gifs`), else its first image. */
function thumbnail(outputs: HistoryEntry['outputs']): RunSummary['thumbnail'] {
  const all = Object.values(outputs ?? {});
  const refs = (key: string) => all.flatMap((output) => (Array.isArray(output[key]) ? (output[key] as unknown[]) : [])).filter(isFileRef);
  const video = [...refs('videos'), ...refs('gifs')][0];
  if (video) return { ref: video, video: !video.format?.startsWith('image/') };
  const image = refs('images')[0];
  return image ? { ref: image, video: false } : undefined;
}

export function summarizeQueued(item: QueueItem, running: boolean): RunSummary {
  return describeItem(item, running ? 'running' : 'queued');
}

export function summarizeHistory(entry: HistoryEntry): RunSummary {
  const messages = entry.status?.messages ?? [];
  const find = (type: string) => messages.find(([t]) => t === type)?.[1];
  const interrupted = find('execution_interrupted');
  const failure = find('execution_error');
  const outcome: RunOutcome = interrupted ? 'interrupted' : entry.status?.status_str === 'error' || failure ? 'error' : 'success';
  const startedAt = timestamp(find('execution_start'));
  const endedAt = timestamp(messages.find(([type]) => END_EVENTS.has(type))?.[1]);
  const message = failure ? [failure.exception_type, failure.exception_message].filter((p) => typeof p === 'string' && p).join(': ') : undefined;
  return {
    ...describeItem(entry.prompt, outcome),
    startedAt,
    duration: startedAt !== undefined && endedAt !== undefined ? Math.max(0, endedAt - startedAt) : undefined,
    message: message || undefined,
    thumbnail: thumbnail(entry.outputs),
  };
}

/** "14:03:12" today, else "3 Mar 14:03". */
export function formatTime(ms: number, now = Date.now()): string {
  const date = new Date(ms);
  const today = new Date(now).toDateString() === date.toDateString();
  const time = date.toLocaleTimeString([], today ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { hour: '2-digit', minute: '2-digit' });
  return today ? time : `${date.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`;
}

/** "850 ms", "7.2 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
