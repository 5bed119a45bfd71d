// A node whose type the server doesn't know: it keeps its sockets, links and widget values exactly as
// loaded (so saving doesn't lose them) and says why it cannot run.
import { LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { drawWrapped } from './canvas-text.ts';

type ISerialisedNode = Parameters<LGraphNode['configure']>[0];

const EXPLANATION = 'The server has no node of this type. Its settings are kept; install the node or remove it to run.';

class PlaceholderNode extends LGraphNode {
  static missingType = '';
  #widgetValues: unknown;

  override onConfigure(info: ISerialisedNode): void {
    this.#widgetValues = (info as { widgets_values?: unknown }).widgets_values;
    delete (this as { widgets_values?: unknown }).widgets_values;
    this.has_errors = true;
    if (info.size) return;
    const [width, height] = this.computeSize();
    this.setSize([Math.max(width, 280), height + 70]);
  }

  override onSerialize(serialised: ISerialisedNode): void {
    if (this.#widgetValues !== undefined) (serialised as { widgets_values?: unknown }).widgets_values = this.#widgetValues;
  }

  override onDrawForeground(ctx: CanvasRenderingContext2D): void {
    ctx.save();
    ctx.fillStyle = '#ff8a80';
    ctx.font = '12px sans-serif';
    drawWrapped(ctx, `Unknown type “${this.type}”. ${EXPLANATION}`, 6, this.size[1] - 72, this.size[0] - 12, this.size[1], 15);
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
