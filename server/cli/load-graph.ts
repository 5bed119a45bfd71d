// Reads a file given to the CLI: an API prompt or an editor workflow (converted to a prompt).
import { readFile } from 'node:fs/promises';
import type { ObjectInfoEntry } from '../../nodes/registry.ts';
import type { Prompt } from '../engine/prompt.ts';
import { isWorkflow, workflowToPrompt, type ConversionIssue } from '../engine/workflow.ts';

export interface LoadedGraph {
  prompt: Prompt;
  workflow?: unknown;
  issues: ConversionIssue[];
}

export class GraphFileError extends Error {}

export async function loadGraphFile(file: string, objectInfo: Record<string, ObjectInfoEntry>): Promise<LoadedGraph> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new GraphFileError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new GraphFileError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return graphFromJson(data, objectInfo);
}

/** A workflow is converted; anything else is taken as an API prompt (validation reports what is wrong). */
export function graphFromJson(data: unknown, objectInfo: Record<string, ObjectInfoEntry>): LoadedGraph {
  if (isWorkflow(data)) {
    const { prompt, errors } = workflowToPrompt(data, objectInfo);
    return { prompt, workflow: data, issues: errors };
  }
  const wrapped = data as { prompt?: unknown; workflow?: unknown } | null;
  // A saved history item or a POST /prompt body carries the prompt under `prompt`.
  if (wrapped && typeof wrapped === 'object' && !Array.isArray(wrapped) && wrapped.prompt && typeof wrapped.prompt === 'object' && !('class_type' in wrapped.prompt)) {
    return { prompt: wrapped.prompt as Prompt, workflow: wrapped.workflow, issues: [] };
  }
  return { prompt: data as Prompt, issues: [] };
}
