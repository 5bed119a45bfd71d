// Hover tooltips, as in ComfyUI: resting the pointer on a node's title shows the node's description, on
// an input (socket or widget) or output the description the server gives for it.
import type { LGraphCanvas, LGraphNode } from '@comfyorg/litegraph';
import type { NodeClassDescription } from '../../../common/node-defs.ts';

const DELAY_MS = 500;
const SLOT_RADIUS = 10;

function describe(node: LGraphNode): NodeClassDescription | null {
  return (node as { description?: NodeClassDescription | null }).description ?? null;
}

function inputTooltip(description: NodeClassDescription, name: string): string | undefined {
  for (const input of description.inputs) {
    if ('widget' in input && input.widget.name === name) return input.widget.tooltip;
    if ('socket' in input && input.socket.name === name) return input.socket.tooltip;
  }
  return undefined;
}

/** The tooltip for a point in graph coordinates, if the point is on something that has one. */
export function tooltipAt(canvas: LGraphCanvas, x: number, y: number): string | undefined {
  const node = canvas.graph?.getNodeOnPos(x, y);
  const description = node && describe(node);
  if (!node || !description) return undefined;
  const near = (pos: ArrayLike<number>) => Math.abs(pos[0] - x) < SLOT_RADIUS && Math.abs(pos[1] - y) < SLOT_RADIUS;
  for (const [i, input] of node.inputs.entries()) {
    if (!input.widget && near(node.getInputPos(i))) return inputTooltip(description, input.name);
  }
  for (const [i, output] of node.outputs.entries()) {
    if (near(node.getOutputPos(i))) return description.outputs.find((o) => o.name === output.name)?.tooltip;
  }
  if (y < node.pos[1]) return description.description || undefined;
  const widget = node.getWidgetOnPos(x, y, true);
  return widget ? inputTooltip(description, widget.name) : undefined;
}

/** Shows tooltips for what the pointer rests on over the canvas. */
export function enableTooltips(canvas: LGraphCanvas): void {
  const tip = document.createElement('div');
  tip.className = 'graph-tooltip';
  tip.hidden = true;
  document.body.append(tip);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hide = () => {
    clearTimeout(timer);
    tip.hidden = true;
  };
  const element = canvas.canvas;
  element.addEventListener('pointermove', (event) => {
    hide();
    if (event.buttons !== 0) return;
    timer = setTimeout(() => {
      const [x, y] = canvas.convertEventToCanvasOffset(event);
      const text = tooltipAt(canvas, x, y);
      if (!text) return;
      tip.textContent = text;
      tip.hidden = false;
      const left = Math.min(event.clientX + 12, window.innerWidth - tip.offsetWidth - 8);
      tip.style.left = `${Math.max(4, left)}px`;
      tip.style.top = `${event.clientY + 16}px`;
    }, DELAY_MS);
  });
  for (const type of ['pointerdown', 'pointerleave', 'wheel', 'keydown']) element.addEventListener(type, hide);
}
