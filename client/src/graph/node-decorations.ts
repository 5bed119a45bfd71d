// What a node shows beyond litegraph's own drawing: the running outline and progress label, a cached
// mark, error messages (with the offending input marked), and the previews of its latest output —
// frames, text and metrics drawn on the canvas (videos are DOM elements placed over the same area).
import { LiteGraph, type LGraphNode } from '@comfyorg/litegraph';
import type { FileRef } from '../api/api-client.ts';
import type { NodeClassDescription } from '../../../common/node-defs.ts';
import { progressLabel, type RunState } from '../model/run-state.ts';
import { drawWrapped, wrapLines } from './canvas-text.ts';

export interface NodeView {
  readonly runState: RunState;
  /** Loaded preview frames of the node's latest output. */
  previewImages(node: LGraphNode): HTMLImageElement[];
  previewCount(node: LGraphNode): number;
  previewVideos(node: LGraphNode): string[];
  previewText(node: LGraphNode): string[];
  /** Whether the node shows anything in its preview area. */
  hasPreview(node: LGraphNode): boolean;
}

const PREVIEW_HEIGHT = 240;
const TEXT_LINE_HEIGHT = 15;
const RUNNING_COLOUR = '#4caf50';
const CACHED_COLOUR = '#90a4ae';
const ERROR_COLOUR = '#ff5252';

function fileRefs(value: unknown): FileRef[] {
  return Array.isArray(value) ? value.filter((v): v is FileRef => !!v && typeof v === 'object' && typeof v.filename === 'string') : [];
}

function isVideoRef(ref: FileRef & { format?: string }): boolean {
  return /\.(mp4|webm|mov|mkv)$/i.test(ref.filename) || (ref.format ?? '').startsWith('video/');
}

/** Text shown for an output payload: its `text` entries, else its other values (metrics) as `key: value`. */
function outputText(output: Record<string, unknown>): string[] {
  if (Array.isArray(output.text)) return output.text.flatMap((entry) => String(entry).split('\n'));
  const lines: string[] = [];
  for (const [key, value] of Object.entries(output)) {
    if (key === 'images' || key === 'videos' || key === 'files' || key === 'animated') continue;
    for (const entry of Array.isArray(value) ? value : [value]) {
      if (entry && typeof entry === 'object') {
        for (const [name, v] of Object.entries(entry)) lines.push(`${name}: ${typeof v === 'number' ? Number(v.toFixed(4)) : String(v)}`);
      } else lines.push(`${key}: ${String(entry)}`);
    }
  }
  return lines;
}

/** The preview source lists of a node's output (pure over the payload). */
function previewSources(output: Record<string, unknown> | undefined, viewUrl: (ref: FileRef) => string) {
  if (!output) return { images: [] as string[], videos: [] as string[], text: [] as string[] };
  const refs = [...fileRefs(output.images), ...fileRefs(output.videos), ...fileRefs(output.gifs)];
  return {
    images: refs.filter((r) => !isVideoRef(r)).map(viewUrl),
    videos: refs.filter(isVideoRef).map(viewUrl),
    text: outputText(output),
  };
}

/**
 * The image of a node's live preview. A new preview replaces the shown one only once it has loaded, so
 * the picture does not blink between frames; replaced object URLs are released.
 */
function livePreviewImages(runState: RunState, redraw: () => void): (id: string) => HTMLImageElement | undefined {
  const live = new Map<string, { blob: Blob; shown?: HTMLImageElement }>();
  return (id) => {
    const blob = runState.livePreviews.get(id);
    if (!blob) return undefined;
    let entry = live.get(id);
    if (entry?.blob !== blob) {
      const next: { blob: Blob; shown?: HTMLImageElement } = { blob, shown: entry?.shown };
      const image = new Image();
      image.onload = () => {
        // A newer preview may have replaced this one while it loaded: then it is never shown.
        if (live.get(id) !== next) return URL.revokeObjectURL(image.src);
        if (next.shown) URL.revokeObjectURL(next.shown.src);
        next.shown = image;
        redraw();
      };
      image.onerror = () => URL.revokeObjectURL(image.src);
      image.src = URL.createObjectURL(blob);
      live.set(id, (entry = next));
    }
    return entry.shown;
  };
}

/** The input image a node loads (Load Image's chosen file), shown until the node has an output. */
function inputImage(node: LGraphNode): FileRef | null {
  const description = (node as { description?: NodeClassDescription | null }).description;
  for (const input of description?.inputs ?? []) {
    if (!('widget' in input) || !input.widget.uploads.includes('image')) continue;
    const value = node.widgets?.find((w) => w.name === input.widget.name)?.value;
    if (typeof value === 'string' && value) return { filename: value, type: 'input' };
  }
  return null;
}

export function createNodeView(runState: RunState, viewUrl: (ref: FileRef) => string, redraw: () => void): NodeView {
  const images = new Map<string, HTMLImageElement>();
  const liveImage = livePreviewImages(runState, redraw);
  const load = (url: string) => {
    let image = images.get(url);
    if (!image) {
      image = new Image();
      image.onload = redraw;
      image.src = url;
      images.set(url, image);
    }
    return image;
  };
  const sources = (node: LGraphNode) => previewSources(runState.outputs.get(String(node.id)), viewUrl);
  /** Output frames when the node has them, else its live preview (a sampler's current frame), else its input image. */
  const frames = (node: LGraphNode): HTMLImageElement[] => {
    const output = sources(node).images;
    if (output.length > 0) return output.map(load);
    const live = liveImage(String(node.id));
    if (live) return [live];
    const input = inputImage(node);
    return input ? [load(viewUrl(input))] : [];
  };
  const previewCount = (node: LGraphNode) => sources(node).images.length || (runState.livePreviews.has(String(node.id)) || inputImage(node) ? 1 : 0);
  return {
    runState,
    previewImages: frames,
    previewCount,
    previewVideos: (node) => sources(node).videos,
    previewText: (node) => sources(node).text,
    hasPreview: (node) => previewCount(node) > 0 || runState.outputs.has(String(node.id)),
  };
}

/** Top of the preview area, in node coordinates: under the last widget (or the slots). */
function previewTop(node: LGraphNode): number {
  let bottom = Math.max(node.inputs.filter((i) => !i.widget).length, node.outputs.length) * LiteGraph.NODE_SLOT_HEIGHT + 8;
  for (const widget of node.widgets ?? []) bottom = Math.max(bottom, (widget.y ?? 0) + (widget.computedHeight ?? LiteGraph.NODE_WIDGET_HEIGHT + 4));
  return bottom + 4;
}

const PREVIEW_TEXT_FONT = '12px monospace';
let textMeasurer: CanvasRenderingContext2D | null | undefined;

/** Lines the preview text takes once wrapped to the preview's width (unwrapped where there is no DOM to measure with). */
function previewTextLines(node: LGraphNode, text: string[]): number {
  textMeasurer ??= typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d');
  if (!textMeasurer || text.length === 0) return text.length;
  textMeasurer.font = PREVIEW_TEXT_FONT;
  return wrapLines(textMeasurer, text.join('\n'), node.size[0] - 8 - 12).length;
}

/** The node height that leaves room for its preview: a frame or video, or its lines of text (as wrapped). */
export function nodeViewHeight(node: LGraphNode, view: NodeView): number {
  const media = view.previewCount(node) > 0 || view.previewVideos(node).length > 0;
  const lines = media ? 0 : previewTextLines(node, view.previewText(node));
  return previewTop(node) + (media ? PREVIEW_HEIGHT : Math.min(PREVIEW_HEIGHT, lines * TEXT_LINE_HEIGHT + 12));
}

/** The preview area in node coordinates `[x, y, width, height]`. */
export function previewRect(node: LGraphNode): [number, number, number, number] {
  const top = previewTop(node);
  return [4, top, node.size[0] - 8, Math.max(0, node.size[1] - top - 4)];
}

function drawPreview(node: LGraphNode & { previewFrame?: number }, ctx: CanvasRenderingContext2D, view: NodeView): void {
  const [x, y, w, h] = previewRect(node);
  if (h < 20) return;
  const images = view.previewImages(node);
  if (images.length > 0) {
    const index = Math.min(images.length - 1, node.previewFrame ?? 0);
    const image = images[index];
    if (image.complete && image.naturalWidth > 0) {
      const scale = Math.min(w / image.naturalWidth, (h - 16) / image.naturalHeight);
      const dw = image.naturalWidth * scale;
      const dh = image.naturalHeight * scale;
      ctx.drawImage(image, x + (w - dw) / 2, y, dw, dh);
    }
    if (images.length > 1) {
      ctx.fillStyle = '#ccc';
      ctx.font = '11px sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText(`frame ${index + 1} / ${images.length} (move the pointer to scrub)`, x + w / 2, y + h - 3);
      ctx.textAlign = 'left';
    }
    return;
  }
  const text = view.previewText(node);
  if (text.length > 0 && view.previewVideos(node).length === 0) {
    ctx.fillStyle = '#1b1b1b';
    ctx.fillRect(x, y, w, h);
    ctx.fillStyle = '#e0e0e0';
    ctx.font = PREVIEW_TEXT_FONT;
    drawWrapped(ctx, text.join('\n'), x + 6, y + 4, w - 12, y + h, TEXT_LINE_HEIGHT);
  }
}

function drawErrors(node: LGraphNode, ctx: CanvasRenderingContext2D, issues: { message: string; inputName?: string }[]): void {
  ctx.save();
  for (const issue of issues) {
    const slot = issue.inputName === undefined ? -1 : node.inputs.findIndex((i) => i.name === issue.inputName);
    if (slot < 0) continue;
    const input = node.inputs[slot];
    const widget = input.widget ? node.widgets?.find((w) => w.name === input.widget!.name) : undefined;
    ctx.strokeStyle = ERROR_COLOUR;
    ctx.lineWidth = 2;
    if (widget) ctx.strokeRect(2, widget.y ?? 0, node.size[0] - 4, LiteGraph.NODE_WIDGET_HEIGHT);
    else {
      const [px, py] = node.getInputPos(slot);
      ctx.beginPath();
      ctx.arc(px - node.pos[0], py - node.pos[1], 8, 0, Math.PI * 2);
      ctx.stroke();
    }
  }
  ctx.font = '12px sans-serif';
  const text = issues.map((i) => (i.inputName && !i.message.startsWith(`${i.inputName}:`) ? `${i.inputName}: ${i.message}` : i.message)).join('\n');
  const width = Math.max(node.size[0], 260);
  const lineHeight = 16;
  const height = wrapLines(ctx, text, width - 12).length * lineHeight + 8;
  ctx.fillStyle = 'rgba(120, 20, 20, 0.92)';
  ctx.fillRect(0, node.size[1] + 8, width, height);
  ctx.fillStyle = '#fff';
  drawWrapped(ctx, text, 6, node.size[1] + 12, width - 12, node.size[1] + 8 + height, lineHeight);
  ctx.restore();
}

export function drawNodeDecorations(node: LGraphNode, ctx: CanvasRenderingContext2D, view: NodeView): void {
  const id = String(node.id);
  const state = view.runState;
  const title = LiteGraph.NODE_TITLE_HEIGHT;
  if (view.hasPreview(node)) drawPreview(node, ctx, view);
  if (state.runningNode === id) {
    ctx.strokeStyle = RUNNING_COLOUR;
    ctx.lineWidth = 3;
    ctx.strokeRect(-4, -title - 4, node.size[0] + 8, node.size[1] + title + 8);
    const progress = state.progress.get(id);
    const label = progress ? progressLabel(progress) : 'running';
    ctx.fillStyle = RUNNING_COLOUR;
    ctx.font = 'bold 12px sans-serif';
    ctx.fillText(label, 0, -title - 8);
  } else if (state.cached.has(id)) {
    ctx.fillStyle = CACHED_COLOUR;
    ctx.font = '12px sans-serif';
    ctx.fillText('cached', 0, -title - 8);
  }
  const issues = state.errors.get(id);
  if (issues) drawErrors(node, ctx, issues);
}
