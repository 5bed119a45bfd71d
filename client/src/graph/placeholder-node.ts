// A node whose type the server doesn't know: it keeps its sockets, links and widget values exactly as
// loaded (so saving doesn't lose them) and says why it cannot run.
import { LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { wrapLines } from './canvas-text.ts';

type ISerialisedNode = Parameters<LGraphNode['configure']>[0];

const EXPLANATION = 'Unknown node type: its settings are kept; install it or remove it to run.';
const LINE_HEIGHT = 15;

/** The saved widget values as `name: value` lines (ComfyUI's positional lists as bare values). */
function valueLines(values: unknown): string[] {
  const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  if (Array.isArray(values)) return values.map(show);
  if (values && typeof values === 'object') return Object.entries(values).map(([name, value]) => `${name}: ${show(value)}`);
  return [];
}

/** The text cut to `width`, with an ellipsis when cut. */
function fitText(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ');
  if (ctx.measureText(line).width <= width) return line;
  let end = line.length;
  while (end > 0 && ctx.measureText(`${line.slice(0, end)}…`).width > width) end--;
  return `${line.slice(0, end)}…`;
}

class PlaceholderNode extends LGraphNode {
  #widgetValues: unknown;

  override onConfigure(info: ISerialisedNode): void {
    this.#widgetValues = (info as { widgets_values?: unknown }).widgets_values;
    delete (this as { widgets_values?: unknown }).widgets_values;
    this.has_errors = true;
    if (info.size) return;
    const [width, height] = this.computeSize();
    const values = valueLines(this.#widgetValues).length;
    this.setSize([Math.max(width, 280), height + values * LINE_HEIGHT + 8]);
  }

  override onSerialize(serialised: ISerialisedNode): void {
    if (this.#widgetValues !== undefined) (serialised as { widgets_values?: unknown }).widgets_values = this.#widgetValues;
  }

  /**
   * The saved values inside the node, under its sockets (clipped to the node: its size is the file's);
   * why it cannot run above the title, where a running node shows its progress (a placeholder never runs).
   */
  override onDrawForeground(ctx: CanvasRenderingContext2D): void {
    const [width, height] = this.size;
    const top = Math.max(this.inputs.length, this.outputs.length) * LiteGraph.NODE_SLOT_HEIGHT + 4;
    ctx.save();
    ctx.font = '12px sans-serif';
    ctx.beginPath();
    ctx.rect(0, top, width, Math.max(0, height - top));
    ctx.clip();
    ctx.fillStyle = '#bdbdbd';
    for (const [i, line] of valueLines(this.#widgetValues).entries()) ctx.fillText(fitText(ctx, line, width - 16), 8, top + (i + 1) * LINE_HEIGHT - 3);
    ctx.restore();
    ctx.save();
    ctx.font = '12px sans-serif';
    ctx.fillStyle = '#ff8a80';
    const lines = wrapLines(ctx, EXPLANATION, Math.max(width, 220));
    const bottom = -LiteGraph.NODE_TITLE_HEIGHT - 6;
    for (const [i, line] of lines.entries()) ctx.fillText(line, 0, bottom - (lines.length - 1 - i) * LINE_HEIGHT);
    ctx.restore();
  }
}

export function isPlaceholder(node: LGraphNode): boolean {
  return node instanceof PlaceholderNode;
}

/** Registers a placeholder class for each type in the list that litegraph doesn't know yet. */
export function registerPlaceholders(types: Iterable<string>): string[] {
  const missing = [...new Set(types)].filter((type) => !LiteGraph.registered_node_types[type]);
  for (const type of missing) {
    const placeholder = class extends PlaceholderNode {
      static override title = type;
      static override skip_list = true;
    };
    LiteGraph.registerNodeType(type, placeholder);
    placeholder.category = 'missing';
  }
  return missing;
}
