// Editor-only node types (never sent to the server): Note and MarkdownNote, text edited on the node.
import { LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { LimelightNode } from './node-classes.ts';
import { addTextAreaWidget } from './textarea-widget.ts';

const NOTE_TYPES = ['Note', 'MarkdownNote'] as const;

class NoteNode extends LimelightNode {
  override isVirtualNode = true;

  constructor(title?: string) {
    super(title ?? 'Note');
    addTextAreaWidget(this, 'text', '', () => LimelightNode.hooks?.changed(), 'Write a note…');
    this.color = '#432';
    this.bgcolor = '#653';
    this.setSize([320, 140]);
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
