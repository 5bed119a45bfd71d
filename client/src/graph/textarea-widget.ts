// Multiline text widgets as in ComfyUI: a real <textarea> on the node (typing, selection, native undo,
// Enter is a newline of the text itself), laid over the canvas where litegraph draws the widget, scaled
// with the zoom. Hidden when the node is off screen, collapsed or drawn without text (zoomed far out).
import type { LGraphNode } from '@comfyorg/litegraph';

const MIN_HEIGHT = 60;

interface TextAreaWidget {
  type: 'textarea';
  name: string;
  value: string;
  options: Record<string, unknown>;
  y: number;
  /** Made when the node is first drawn. */
  textarea: HTMLTextAreaElement | null;
  /** The canvas frame that last placed the textarea. */
  placedInFrame: number;
  computeLayoutSize(): { minHeight: number; maxHeight: number; minWidth: number };
  draw(ctx: CanvasRenderingContext2D, node: LGraphNode, width: number, y: number, height: number, lowQuality: boolean): void;
}

let frame = 0;
let host: HTMLElement | null = null;
const live = new Map<HTMLTextAreaElement, { node: LGraphNode; widget: TextAreaWidget }>();

/** Where the textareas go: an element laid exactly over the canvas (set once by the editor). */
export function setTextAreaHost(element: HTMLElement): void {
  host = element;
}

/**
 * Adds a multiline text widget; `changed` is called after each edit. The <textarea> is made when the node
 * is first drawn, so nodes that are never shown (and the node classes outside a browser) need no DOM.
 */
export function addTextAreaWidget(node: LGraphNode, name: string, value: string, changed: () => void, placeholder = name): TextAreaWidget {
  let text = value;
  const makeTextArea = (): HTMLTextAreaElement => {
    const element = document.createElement('textarea');
    element.className = 'node-textarea';
    element.placeholder = placeholder;
    element.spellcheck = false;
    element.dataset.widget = name;
    element.value = text;
    element.hidden = true;
    element.addEventListener('input', () => {
      text = element.value;
      node.onWidgetChanged?.(name, text, undefined, widget as never);
      node.setDirtyCanvas(true, false);
      changed();
    });
    // Keys typed here are text: the canvas's shortcuts (Delete, Ctrl+A, Ctrl+C…) must not see them.
    element.addEventListener('keydown', (event) => event.stopPropagation());
    return element;
  };
  const widget: TextAreaWidget = {
    type: 'textarea',
    name,
    options: { multiline: true },
    y: 0,
    textarea: null,
    placedInFrame: -1,
    get value() {
      return text;
    },
    set value(next: string) {
      text = next == null ? '' : String(next);
      if (widget.textarea) widget.textarea.value = text;
    },
    computeLayoutSize: () => ({ minHeight: MIN_HEIGHT, maxHeight: 1e6, minWidth: 200 }),
    draw(ctx, drawnNode, width, y, height, lowQuality) {
      const widgetHeight = (widget as { computedHeight?: number }).computedHeight ?? height;
      ctx.fillStyle = '#222';
      ctx.fillRect(10, y, width - 20, widgetHeight - 4);
      // A linked input takes its text from the link (as ComfyUI's converted widget): no box to type in.
      if (drawnNode.inputs.some((input) => input.widget?.name === name && input.link != null)) {
        ctx.fillStyle = '#888';
        ctx.font = '12px sans-serif';
        ctx.fillText(`${name}: from the link`, 18, y + 16);
        return;
      }
      if (lowQuality || !host) return;
      const textarea = (widget.textarea ??= makeTextArea());
      if (!textarea.isConnected) host.append(textarea);
      live.set(textarea, { node: drawnNode, widget });
      textarea.dataset.node = String(drawnNode.id);
      // The context maps node coordinates to device pixels; the host is laid over the canvas in CSS pixels.
      const m = ctx.getTransform();
      const ratio = ctx.canvas.width / (ctx.canvas.getBoundingClientRect().width || 1);
      const scale = m.a / ratio;
      Object.assign(textarea.style, {
        left: `${(m.e + m.a * 10) / ratio}px`,
        top: `${(m.f + m.d * y) / ratio}px`,
        width: `${width - 20}px`,
        height: `${widgetHeight - 4}px`,
        transform: `scale(${scale})`,
      });
      textarea.hidden = false;
      widget.placedInFrame = frame;
    },
  };
  node.addCustomWidget(widget as never);
  return widget;
}

/** After each canvas frame: hides the textareas not drawn in it, removes those of deleted nodes. */
export function sweepTextAreas(): void {
  for (const [textarea, { node, widget }] of live) {
    if (node.graph?.getNodeById(node.id) !== node) {
      textarea.remove();
      live.delete(textarea);
    } else if (widget.placedInFrame !== frame) textarea.hidden = true;
  }
  frame++;
}
