// ComfyUI's queue and history shapes as the server sends them (no DOM: shared with pure modules).
import type { Prompt } from '../../../common/prompt.ts';
import type { Workflow } from '../../../common/workflow.ts';

export interface FileRef {
  filename: string;
  subfolder?: string;
  type?: string;
}

/** `[number, prompt_id, prompt, extra_data, outputs_to_execute]` */
export type QueueItem = [number, string, Prompt, { extra_pnginfo?: { workflow?: Workflow } } & Record<string, unknown>, string[]];

export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, Record<string, unknown>>;
  status?: { status_str?: string; completed?: boolean; messages?: [string, Record<string, unknown>][] };
}
