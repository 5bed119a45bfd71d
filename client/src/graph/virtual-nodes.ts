// Editor-only node types (never sent to the server): Note and MarkdownNote, text edited on the node.
import { LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { LimelightNode } from './node-classes.ts';
import { addTextAreaWidget } from './textarea-widget.ts';

const NOTE_TYPES = ['Note', 'MarkdownNote'] as const;

const NOTE_COLOUR = '#432';
const NOTE_BACKGROUND = '#653';

class NoteNode extends LimelightNode {
  override isVirtualNode = true;
  /** A note from a file without colours (ComfyUI's) is drawn in the note colours but saved without them. */
  #colourFromFile = true;

  constructor(title?: string) {
    super(title ?? 'Note');
    addTextAreaWidget(this, 'text', '', () => LimelightNode.hooks?.changed(), 'Write a note…');
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
