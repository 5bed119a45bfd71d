// The workflow and prompt embedded in the files we write, and reading them back (drag-drop in the editor,
// `limelight run output.mp4`). PNG: tEXt chunks; MP4/WebM: container tags; every output also gets a
// sidecar `.json` because some players and re-muxers drop custom tags. A stability report connected to
// Encode rides along in the workflow's `extra.limelight_stability`: editors keep unknown `extra` keys, so
// the sidecar still opens as a workflow.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { addPngText, readPngText } from './png-text.ts';
import { runTool } from './tool-process.ts';

export const METADATA_KEYS = ['prompt', 'workflow'] as const;
export type MetadataKey = (typeof METADATA_KEYS)[number];
export type WorkflowMetadata = Partial<Record<MetadataKey, string>>;
export interface EmbeddedGraph {
  prompt?: unknown;
  workflow?: unknown;
}

export const STABILITY_KEY = 'limelight_stability';

/** The run's graph with the stability metrics in the workflow's `extra` (a workflow is an object with `nodes`). */
export function withStability(graph: EmbeddedGraph, metrics: unknown): EmbeddedGraph {
  const workflow = graph.workflow as { extra?: unknown } | undefined;
  if (!workflow || typeof workflow !== 'object') return graph;
  const extra = workflow.extra && typeof workflow.extra === 'object' ? workflow.extra : {};
  return { ...graph, workflow: { ...workflow, extra: { ...extra, [STABILITY_KEY]: metrics } } };
}

/** The JSON texts to embed for a run (only the parts that exist). */
export function metadataFor(extraData: EmbeddedGraph): WorkflowMetadata {
  const entries: WorkflowMetadata = {};
  for (const key of METADATA_KEYS) if (extraData[key] !== undefined) entries[key] = JSON.stringify(extraData[key]);
  return entries;
}

/**
 * The sidecar holds the workflow (opens in any ComfyUI-style editor), else the prompt. Metrics without a
 * workflow go beside the prompt in the POST /prompt body shape (`{prompt, extra_data}`), which
 * `limelight run` and the drag-drop reader accept, since an API prompt has no room for other keys.
 */
export function sidecarText(graph: EmbeddedGraph, metrics?: unknown): string | undefined {
  const content = sidecarContent(graph, metrics);
  return content === undefined ? undefined : `${JSON.stringify(content, null, 2)}\n`;
}

function sidecarContent(graph: EmbeddedGraph, metrics: unknown): unknown {
  if (metrics === undefined) return graph.workflow ?? graph.prompt;
  if (graph.workflow !== undefined) return withStability(graph, metrics).workflow;
  return graph.prompt === undefined ? undefined : { prompt: graph.prompt, extra_data: { [STABILITY_KEY]: metrics } };
}

export function sidecarPath(file: string): string {
  return path.join(path.dirname(file), `${path.parse(file).name}.json`);
}

export function embedInPng(png: Buffer, entries: WorkflowMetadata): Buffer {
  return Object.keys(entries).length > 0 ? addPngText(png, entries as Record<string, string>) : png;
}

const CONTAINER_EXTENSIONS = new Set(['.mp4', '.mov', '.m4v', '.webm', '.mkv']);

/**
 * Reads the workflow and prompt embedded in a PNG, MP4 or WebM we wrote; falls back to the sidecar JSON.
 * Returns an empty object when the file carries none.
 */
export async function readEmbeddedGraph(file: string): Promise<EmbeddedGraph> {
  const ext = path.extname(file).toLowerCase();
  let texts: Record<string, string> = {};
  if (ext === '.png') texts = readPngText(await readFile(file));
  else if (CONTAINER_EXTENSIONS.has(ext)) texts = await readContainerTags(file);
  const graph: EmbeddedGraph = {};
  for (const key of METADATA_KEYS) {
    const text = texts[key];
    if (text === undefined) continue;
    try {
      graph[key] = JSON.parse(text);
    } catch {
      throw new Error(`${file}: the embedded ${key} is not valid JSON`);
    }
  }
  return Object.keys(graph).length > 0 ? graph : readSidecar(file);
}

async function readContainerTags(file: string): Promise<Record<string, string>> {
  const json = await runTool('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_entries', 'format_tags', file], { file });
  const tags = (JSON.parse(json) as { format?: { tags?: Record<string, string> } }).format?.tags ?? {};
  // Matroska tag names come back upper-cased by some ffmpeg versions.
  return Object.fromEntries(Object.entries(tags).map(([key, value]) => [key.toLowerCase(), value]));
}

async function readSidecar(file: string): Promise<EmbeddedGraph> {
  let text: string;
  try {
    text = await readFile(sidecarPath(file), 'utf8');
  } catch {
    return {};
  }
  const graph = JSON.parse(text) as Record<string, unknown>;
  if (Array.isArray(graph.nodes)) return { workflow: graph };
  return { prompt: isPromptBody(graph) ? graph.prompt : graph };
}

/**
 * A POST /prompt body or a saved history item: `{prompt: {id: node}, workflow?, extra_data?}`. An API
 * prompt never has this shape: its values are nodes, each with a class_type.
 */
export function isPromptBody(data: unknown): data is { prompt: object; workflow?: unknown } {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return false;
  const prompt = (data as { prompt?: unknown }).prompt;
  return !!prompt && typeof prompt === 'object' && !('class_type' in prompt);
}
