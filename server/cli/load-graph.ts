// Reads a file given to the CLI: an API prompt, an editor workflow (converted to a prompt), or an
// image/video Limelight wrote, whose embedded workflow is used. Quick jobs are read by quick-job.ts.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isPromptBody, readEmbeddedGraph } from '../media/workflow-metadata.ts';
import type { Prompt } from '../../common/prompt.ts';
import { isWorkflow, workflowToPrompt, type ConversionIssue } from '../../common/workflow.ts';
import { looksLikeQuickJob } from './quick-job.ts';
import type { ObjectInfoEntry } from '../../common/object-info.ts';
import { LimelightError, UsageError } from '../errors.ts';

export interface LoadedGraph {
  prompt: Prompt;
  workflow?: unknown;
  issues: ConversionIssue[];
}

export class GraphFileError extends LimelightError {}

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

export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new GraphFileError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GraphFileError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

export async function loadGraphFile(file: string, objectInfo: Record<string, ObjectInfoEntry>): Promise<LoadedGraph> {
  if (MEDIA_EXTENSIONS.has(path.extname(file).toLowerCase())) return loadFromMedia(file, objectInfo);
  const data = await readJsonFile(file);
  if (looksLikeQuickJob(data)) throw new UsageError(`${file} is a quick job: give the clip to run it on, e.g. limelight run ${file} --video clip.mp4`);
  return graphFromJson(data, objectInfo);
}

/** A workflow is converted; anything else is taken as an API prompt (validation reports what is wrong). */
export function graphFromJson(data: unknown, objectInfo: Record<string, ObjectInfoEntry>): LoadedGraph {
  if (isWorkflow(data)) {
    const { prompt, errors } = workflowToPrompt(data, objectInfo);
    return { prompt, workflow: data, issues: errors };
  }
  if (isPromptBody(data)) return { prompt: data.prompt as Prompt, workflow: data.workflow, issues: [] };
  return { prompt: data as Prompt, issues: [] };
}
