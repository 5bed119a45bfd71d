// A minimap in the corner of the canvas: the graph's nodes and the part of it in view. Clicking or
// dragging on it moves the view there. Shown only when part of the graph is out of view.
import type { LGraph, LGraphCanvas } from '@comfyorg/litegraph';
import { graphBounds } from './view-fit.ts';

const WIDTH = 200;
const HEIGHT = 130;
const PADDING = 6;

export class Minimap {
  readonly element = document.createElement('canvas');
  #transform: { scale: number; x: number; y: number } | null = null;

  constructor(
    host: HTMLElement,
    private readonly graph: LGraph,
    private readonly canvas: LGraphCanvas,
  ) {
    const ratio = Math.max(window.devicePixelRatio, 1);
    Object.assign(this.element, { className: 'minimap', width: WIDTH * ratio, height: HEIGHT * ratio, title: 'Minimap: click or drag to move the view' });
    this.element.hidden = true;
    host.append(this.element);
    this.element.addEventListener('pointerdown', (event) => {
      this.element.setPointerCapture(event.pointerId);
      this.#centreOn(event);
    });
    this.element.addEventListener('pointermove', (event) => {
      if (this.element.hasPointerCapture(event.pointerId)) this.#centreOn(event);
    });
  }

  /** The visible part of the graph, `[x, y, width, height]` in graph coordinates. */
  #view(): [number, number, number, number] {
    const { scale, offset } = this.canvas.ds;
    const element = this.canvas.canvas;
    return [-offset[0], -offset[1], element.clientWidth / scale, element.clientHeight / scale];
  }

  /** Redraws the map; called after every canvas frame. */
  update(): void {
    const nodes = this.graph.nodes;
    const bounds = graphBounds(nodes);
    const view = this.#view();
    const inView = bounds && bounds[0] >= view[0] && bounds[1] >= view[1] && bounds[0] + bounds[2] <= view[0] + view[2] && bounds[1] + bounds[3] <= view[1] + view[3];
    this.element.hidden = !bounds || !!inView;
    if (!bounds || inView) return;
    const left = Math.min(bounds[0], view[0]);
    const top = Math.min(bounds[1], view[1]);
    const right = Math.max(bounds[0] + bounds[2], view[0] + view[2]);
    const bottom = Math.max(bounds[1] + bounds[3], view[1] + view[3]);
    const scale = Math.min((WIDTH - 2 * PADDING) / (right - left), (HEIGHT - 2 * PADDING) / (bottom - top));
    this.#transform = { scale, x: PADDING - left * scale, y: PADDING - top * scale };
    const ctx = this.element.getContext('2d')!;
    const ratio = this.element.width / WIDTH;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, WIDTH, HEIGHT);
    ctx.fillStyle = 'rgba(20, 20, 20, 0.85)';
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    const map = (x: number, y: number) => [x * scale + this.#transform!.x, y * scale + this.#transform!.y] as const;
    for (const node of nodes) {
      const [x, y] = map(node.pos[0], node.pos[1]);
      ctx.fillStyle = node.renderingColor;
      ctx.fillRect(x, y, Math.max(2, node.size[0] * scale), Math.max(2, node.size[1] * scale));
    }
    const [vx, vy] = map(view[0], view[1]);
    ctx.strokeStyle = '#ffe082';
    ctx.lineWidth = 1.5;
    ctx.strokeRect(vx, vy, view[2] * scale, view[3] * scale);
  }

  #centreOn(event: PointerEvent): void {
    if (!this.#transform) return;
    const rect = this.element.getBoundingClientRect();
    const { scale, x, y } = this.#transform;
    const graphX = (event.clientX - rect.left - x) / scale;
    const graphY = (event.clientY - rect.top - y) / scale;
    const [, , w, h] = this.#view();
    this.canvas.ds.offset = [-(graphX - w / 2), -(graphY - h / 2)];
    this.canvas.setDirty(true, true);
  }
}
