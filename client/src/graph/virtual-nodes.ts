// Editor-only node types (never sent to the server): Note and MarkdownNote, text shown on the canvas.
import { LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { drawWrapped } from './canvas-text.ts';
import { LimelightNode } from './node-classes.ts';

const NOTE_TYPES = ['Note', 'MarkdownNote'] as const;

const NOTE_COLOUR = '#432';
const NOTE_BACKGROUND = '#653';

class NoteNode extends LimelightNode {
  override isVirtualNode = true;
  /** A note from a file without colours (ComfyUI's) is drawn in the note colours but saved without them. */
  #colourFromFile = true;

  constructor(title?: string) {
    super(title ?? 'Note');
    this.addWidget('text', 'text', '', () => LimelightNode.hooks?.changed(), { multiline: true });
    this.color = NOTE_COLOUR;
    this.bgcolor = NOTE_BACKGROUND;
    this.setSize([320, 140]);
  }

  override onConfigure(info: Parameters<LimelightNode['onConfigure']>[0]): void {
    super.onConfigure(info);
    this.#colourFromFile = info.color !== undefined || info.bgcolor !== undefined;
  }

  override onSerialize(serialised: Parameters<LimelightNode['onSerialize']>[0]): void {
    super.onSerialize(serialised);
    if (this.#colourFromFile || this.color !== NOTE_COLOUR || this.bgcolor !== NOTE_BACKGROUND) return;
    delete serialised.color;
    delete serialised.bgcolor;
  }

  override onDrawForeground(ctx: CanvasRenderingContext2D): void {
    const text = String(this.widget('text')?.value ?? '');
    ctx.save();
    ctx.fillStyle = '#eee';
    ctx.font = '13px sans-serif';
    drawWrapped(ctx, text, 8, LiteGraph.NODE_WIDGET_HEIGHT + 12, this.size[0] - 16, this.size[1], 17);
    ctx.restore();
  }
}

export function registerVirtualNodes(): void {
  for (const type of NOTE_TYPES) {
    const noteClass = class extends NoteNode {
      static override title = type === 'Note' ? 'Note' : 'Markdown Note';
    };
    LiteGraph.registerNodeType(type, noteClass as unknown as typeof LGraphNode);
    noteClass.category = 'utils';
  }
}
