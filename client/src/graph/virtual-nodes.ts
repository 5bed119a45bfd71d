// Editor-only node types (never sent to the server): Note and MarkdownNote, text shown on the canvas.
import { LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { drawWrapped } from './canvas-text.ts';
import { LimelightNode } from './node-classes.ts';

const NOTE_TYPES = ['Note', 'MarkdownNote'] as const;

class NoteNode extends LimelightNode {
  override isVirtualNode = true;

  constructor(title?: string) {
    super(title ?? 'Note');
    this.addWidget('text', 'text', '', () => LimelightNode.hooks?.changed(), { multiline: true });
    this.color = '#432';
    this.bgcolor = '#653';
    this.setSize([320, 140]);
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
