// Reads a file given to the CLI: an API prompt, an editor workflow (converted to a prompt), or an
// image/video Limelight wrote, whose embedded workflow is used.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readEmbeddedGraph } from '../media/workflow-metadata.ts';
import type { ObjectInfoEntry } from '../../nodes/registry.ts';
import type { Prompt } from '../engine/prompt.ts';
import { isWorkflow, workflowToPrompt, type ConversionIssue } from '../engine/workflow.ts';

export interface LoadedGraph {
  prompt: Prompt;
  workflow?: unknown;
  issues: ConversionIssue[];
}

export class GraphFileError extends Error {}

const MEDIA_EXTENSIONS = new Set(['.png', '.mp4', '.webm', '.mkv', '.mov', '.gif']);

/** The workflow (else the prompt) embedded in an image or video Limelight wrote. */
async function loadFromMedia(file: string, objectInfo: Record<string, ObjectInfoEntry>): Promise<LoadedGraph> {
  let embedded;
  try {
    embedded = await readEmbeddedGraph(file);
  } catch (error) {
    throw new GraphFileError(`cannot read the workflow embedded in ${file}: ${(error as Error).message}`);
  }
  if (embedded.workflow) return graphFromJson(embedded.workflow, objectInfo);
  if (embedded.prompt) return { prompt: embedded.prompt as Prompt, issues: [] };
  throw new GraphFileError(`${file} carries no Limelight workflow (no embedded metadata and no sidecar .json)`);
}

export async function loadGraphFile(file: string, objectInfo: Record<string, ObjectInfoEntry>): Promise<LoadedGraph> {
  if (MEDIA_EXTENSIONS.has(path.extname(file).toLowerCase())) return loadFromMedia(file, objectInfo);
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
