// Queueing a prompt: the one path behind both POST /prompt and the socket's `queue_prompt`, so
// both answer alike (ComfyUI's `{prompt_id, number, node_errors}`, or `{error, node_errors}` with 400).
import { randomUUID } from 'node:crypto';
import type { Engine } from '../engine/engine.ts';
import { isWorkflow, workflowToPrompt } from '../../common/workflow.ts';
import { errorBody, type ErrorBody } from './http-error.ts';
import { nestingProblem } from './json-limits.ts';
import type { PromptStore } from './prompt-store.ts';
import type { ObjectInfoEntry } from '../../common/object-info.ts';

export type SubmitResult =
  | { status: 200; body: { prompt_id: string; number: number; node_errors: Record<string, unknown> } }
  | { status: 400; body: ErrorBody & { node_errors: Record<string, unknown> } };

export interface SubmitDeps {
  engine: Engine;
  store: PromptStore;
  objectInfo: () => Record<string, ObjectInfoEntry>;
  /** Called after a prompt was queued (start the worker, tell clients). */
  queued: () => void;
}

function refuse(type: string, details: string): SubmitResult {
  return { status: 400, body: { ...errorBody(type, details), node_errors: {} } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The prompt to run: given as is, or converted from an editor workflow (sent as `workflow`, or by mistake as `prompt`). */
function readPrompt(body: Record<string, unknown>, extraData: Record<string, unknown>, deps: SubmitDeps): { prompt: unknown } | SubmitResult {
  const workflow = isWorkflow(body.workflow) ? body.workflow : isWorkflow(body.prompt) ? body.prompt : undefined;
  if (!workflow) {
    if (body.prompt === undefined) return refuse('no_prompt', 'No prompt provided: send {"prompt": {node_id: {class_type, inputs}}} or {"workflow": <editor workflow>}');
    return { prompt: body.prompt };
  }
  const { prompt, errors } = workflowToPrompt(workflow, deps.objectInfo());
  const unreadable = errors.filter((e) => e.node_id === undefined);
  if (unreadable.length > 0) return refuse('invalid_prompt', unreadable.map((e) => e.message).join('; '));
  const pnginfo = isObject(extraData.extra_pnginfo) ? extraData.extra_pnginfo : {};
  extraData.extra_pnginfo = { ...pnginfo, workflow: pnginfo.workflow ?? workflow };
  // Unknown node types stay in the prompt, so validation reports them as `missing_node_type` on their node.
  return { prompt };
}

export async function submitPrompt(body: unknown, deps: SubmitDeps): Promise<SubmitResult> {
  if (!isObject(body)) return refuse('invalid_prompt', 'the request must be a JSON object like {"prompt": {...}, "client_id": "..."}');
  const tooDeep = nestingProblem(body);
  if (tooDeep) return refuse('too_deeply_nested', tooDeep);
  const extraData: Record<string, unknown> = isObject(body.extra_data) ? { ...body.extra_data } : {};
  const read = readPrompt(body, extraData, deps);
  if ('status' in read) return read;

  let number: number;
  if (body.number !== undefined) {
    number = Number(body.number);
    if (!Number.isFinite(number)) return refuse('invalid_prompt', `"number" must be a number, got ${JSON.stringify(body.number)}`);
  } else {
    number = deps.store.nextNumber();
    if (body.front === true) number = -number;
  }

  if (body.prompt_id !== undefined && (typeof body.prompt_id !== 'string' || body.prompt_id === '' || body.prompt_id.length > 200)) {
    return refuse('invalid_prompt', '"prompt_id" must be a non-empty string of at most 200 characters (or left out for a new uuid)');
  }
  const promptId = (body.prompt_id as string | undefined) ?? randomUUID();
  if (deps.store.isKnown(promptId) === 'queued') {
    return refuse('duplicate_prompt_id', `a prompt with id "${promptId}" is already queued or running; use a new prompt_id`);
  }
  if (body.client_id !== undefined) {
    if (typeof body.client_id !== 'string') return refuse('invalid_prompt', '"client_id" must be a string');
    extraData.client_id = body.client_id;
  }

  const targets = body.partial_execution_targets;
  if (targets !== undefined && targets !== null && !(Array.isArray(targets) && targets.every((t) => typeof t === 'string'))) {
    return refuse('invalid_prompt', '"partial_execution_targets" must be a list of output node ids');
  }
  const validation = await deps.engine.check(read.prompt, (targets as string[] | null | undefined) ?? undefined);
  if (!validation.ok) return { status: 400, body: { error: validation.error, node_errors: validation.node_errors } };
  if (deps.store.isKnown(promptId) === 'queued') {
    return refuse('duplicate_prompt_id', `a prompt with id "${promptId}" was queued while this one was being checked; use a new prompt_id`);
  }

  // As ComfyUI: when it was queued, in ms (clients show it for prompts still waiting).
  extraData.create_time = Date.now();
  deps.store.enqueue({ number, promptId, prompt: read.prompt as Record<string, unknown>, extraData, outputsToExecute: validation.outputs });
  deps.queued();
  return { status: 200, body: { prompt_id: promptId, number, node_errors: validation.node_errors } };
}
