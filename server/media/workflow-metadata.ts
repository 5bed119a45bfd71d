// The workflow and prompt embedded in the files we write, and reading them back (drag-drop in the editor,
// `limelight run output.mp4`). PNG: tEXt chunks; MP4/WebM: container tags; every output also gets a
// sidecar `.json` because some players and re-muxers drop custom tags.
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

/** The JSON texts to embed for a run (only the parts that exist). */
export function metadataFor(extraData: EmbeddedGraph): WorkflowMetadata {
  const entries: WorkflowMetadata = {};
  for (const key of METADATA_KEYS) if (extraData[key] !== undefined) entries[key] = JSON.stringify(extraData[key]);
  return entries;
}

/** The sidecar holds the workflow (opens in any ComfyUI-style editor), or the prompt when there is no workflow. */
export function sidecarText(extraData: EmbeddedGraph): string | undefined {
  const graph = extraData.workflow ?? extraData.prompt;
  return graph === undefined ? undefined : `${JSON.stringify(graph, null, 2)}\n`;
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
  return Array.isArray(graph.nodes) ? { workflow: graph } : { prompt: graph };
}
