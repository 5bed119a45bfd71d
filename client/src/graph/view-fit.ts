// Where the editor looks when a workflow opens: the workflow's saved view (`extra.ds`, as ComfyUI saves
// it) when it is readable and shows part of the graph, else the whole graph fitted — but never zoomed out
// below the scale at which titles and widget values are drawn at MIN_TEXT_PX (the rest is reached by
// panning and the minimap).
import { LiteGraph, type LGraphCanvas, type LGraphNode } from '@comfyorg/litegraph';

/** The smallest text size, in CSS pixels, that a fitted view may draw node titles and widget values at. */
export const MIN_TEXT_PX = 10;
const MARGIN = 20;

export interface SavedView {
  scale: number;
  offset: [number, number];
}

/** The lowest zoom at which litegraph draws text at all, and draws it at MIN_TEXT_PX or more. */
export function readableScale(canvas: LGraphCanvas): number {
  const smallestFont = Math.min(LiteGraph.NODE_TEXT_SIZE, LiteGraph.NODE_SUBTEXT_SIZE);
  return Math.max(canvas.low_quality_zoom_threshold, MIN_TEXT_PX / smallestFont);
}

/** `[x, y, width, height]` around the nodes (titles included), in graph coordinates. */
export function graphBounds(nodes: readonly LGraphNode[]): [number, number, number, number] | null {
  if (nodes.length === 0) return null;
  const title = LiteGraph.NODE_TITLE_HEIGHT;
  const left = Math.min(...nodes.map((n) => n.pos[0]));
  const top = Math.min(...nodes.map((n) => n.pos[1] - title));
  const right = Math.max(...nodes.map((n) => n.pos[0] + n.size[0]));
  const bottom = Math.max(...nodes.map((n) => n.pos[1] + n.size[1]));
  return [left, top, right - left, bottom - top];
}

function viewSize(canvas: LGraphCanvas): [number, number] {
  return [canvas.canvas.clientWidth, canvas.canvas.clientHeight];
}

/**
 * Fits the graph into the view, at most at natural size and at least at the readable scale (an empty
 * graph is seen from the origin at natural size). A side that
 * then does not fit shows its start (left, top: where a workflow begins); one that fits is centred.
 */
export function fitView(canvas: LGraphCanvas, nodes: readonly LGraphNode[]): void {
  const bounds = graphBounds(nodes);
  if (!bounds) {
    canvas.ds.scale = 1;
    canvas.ds.offset = [0, 0];
    return;
  }
  const [x, y, w, h] = [bounds[0] - MARGIN, bounds[1] - MARGIN, bounds[2] + 2 * MARGIN, bounds[3] + 2 * MARGIN];
  const [cw, ch] = viewSize(canvas);
  const scale = Math.max(Math.min(cw / w, ch / h, 1), readableScale(canvas));
  const place = (start: number, size: number, view: number) => (size * scale <= view ? -start - size / 2 + view / (2 * scale) : -start);
  canvas.ds.scale = scale;
  canvas.ds.offset = [place(x, w, cw), place(y, h, ch)];
  canvas.setDirty(true, true);
}

function isSavedView(value: unknown): value is SavedView {
  const view = value as SavedView | undefined;
  return typeof view?.scale === 'number' && Array.isArray(view.offset) && view.offset.length === 2 && view.offset.every(Number.isFinite);
}

/** Shows the saved view when it is readable and shows at least one node; returns whether it did. */
export function restoreView(canvas: LGraphCanvas, nodes: readonly LGraphNode[], saved: unknown): boolean {
  if (!isSavedView(saved) || saved.scale < readableScale(canvas) || saved.scale > canvas.ds.max_scale) return false;
  const [cw, ch] = viewSize(canvas);
  const [ox, oy] = saved.offset;
  const [vx, vy, vw, vh] = [-ox, -oy, cw / saved.scale, ch / saved.scale];
  const visible = nodes.some((n) => n.pos[0] < vx + vw && n.pos[0] + n.size[0] > vx && n.pos[1] < vy + vh && n.pos[1] + n.size[1] > vy);
  if (!visible) return false;
  canvas.ds.scale = saved.scale;
  canvas.ds.offset = [ox, oy];
  canvas.setDirty(true, true);
  return true;
}

/** The current view, as ComfyUI saves it in `extra.ds`. */
export function currentView(canvas: LGraphCanvas): SavedView {
  const [x, y] = canvas.ds.offset;
  return { scale: canvas.ds.scale, offset: [x, y] };
}
