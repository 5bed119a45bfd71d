// Editor node classes generated from the node descriptions (no per-node code): a widget for each
// primitive or combo input, each with a socket on its row so a link can drive it; a socket for each
// typed input; widget values saved by name.
import { LGraphNode, LiteGraph, type LLink } from '@comfyorg/litegraph';
import type { NodeClassDescription, UploadKind, WidgetDescription } from '../../../common/node-defs.ts';
import { nextSeedValue, SEED_CONTROL_MODES, snapToStep } from '../../../common/node-defs.ts';
import { drawNodeDecorations, nodeViewHeight, type NodeView } from './node-decorations.ts';
import { addTextAreaWidget } from './textarea-widget.ts';

/** What nodes ask of the application: uploads, the mask painter, change notifications. */
export interface NodeHooks {
  upload(node: LimelightNode, widgetName: string, kinds: UploadKind[]): void;
  paintMask(node: LimelightNode, widgetName: string): void;
  changed(): void;
}

type WidgetValues = Record<string, unknown>;
type IBaseWidget = NonNullable<LGraphNode['widgets']>[number];
type ISerialisedNode = Parameters<LGraphNode['configure']>[0];

export class LimelightNode extends LGraphNode {
  /** Set once by the editor: the run state and preview sources the nodes draw. */
  static view: NodeView | null = null;
  static hooks: NodeHooks | null = null;

  override serialize_widgets = true;
  /** Index of the preview frame under the pointer. */
  previewFrame = 0;

  get description(): NodeClassDescription | null {
    return (this.constructor as { description?: NodeClassDescription }).description ?? null;
  }

  get widgetValues(): WidgetValues {
    const values: WidgetValues = {};
    for (const widget of this.widgets ?? []) if (widget.serialize !== false) values[widget.name] = widget.value;
    return values;
  }

  widget(name: string): IBaseWidget | undefined {
    return this.widgets?.find((w) => w.name === name);
  }

  setWidgetValue(name: string, value: unknown): void {
    const widget = this.widget(name);
    if (!widget) return;
    widget.value = value as IBaseWidget['value'];
    this.setDirtyCanvas(true, false);
    LimelightNode.hooks?.changed();
  }

  override onSerialize(serialised: ISerialisedNode): void {
    (serialised as { widgets_values?: unknown }).widgets_values = this.widgetValues;
  }

  override onConfigure(info: ISerialisedNode): void {
    const values = (info as { widgets_values?: unknown }).widgets_values;
    // litegraph copies unknown keys onto the node and assigns positional arrays itself; by-name objects are ours.
    delete (this as { widgets_values?: unknown }).widgets_values;
    if (values && !Array.isArray(values) && typeof values === 'object') {
      for (const [name, value] of Object.entries(values)) {
        const widget = this.widget(name);
        if (widget) widget.value = value as IBaseWidget['value'];
      }
    }
    // litegraph merged the saved inputs into the constructor's by position; what lies beyond the saved
    // list is left over from the constructor (a saved list that skips widget sockets would duplicate).
    if (Array.isArray(info.inputs)) this.inputs.length = Math.min(this.inputs.length, info.inputs.length);
    this.#restoreMissingInputs();
    // Adding a socket grows the node to fit; the file's size stays (saving it back must not change it).
    if (info.size) this.size = [info.size[0], info.size[1]];
  }

  /**
   * Older workflows list only the inputs that were linked, without saying which drive a widget: add back
   * the sockets this node type declares, and tie a widget's socket to it (so a link greys the widget).
   */
  #restoreMissingInputs(): void {
    const description = this.description;
    if (!description) return;
    const widgets = new Set(description.inputs.flatMap((input) => ('widget' in input ? [input.widget.name] : [])));
    for (const input of this.inputs) if (!input.widget && widgets.has(input.name)) input.widget = { name: input.name };
    const present = new Set(this.inputs.map((input) => input.name));
    for (const input of description.inputs) {
      if ('widget' in input && !present.has(input.widget.name)) addWidgetSocket(this, input.widget);
      if ('socket' in input && !present.has(input.socket.name)) this.addInput(input.socket.name, input.socket.type);
    }
  }

  /** litegraph types a link by its input; a wildcard input's link takes the output's type (and colour). */
  override onConnectionsChange(side: unknown, _slot: number, connected: boolean, link: LLink | null | undefined): void {
    if (side !== LiteGraph.INPUT || !connected || !link || (link.type !== '*' && link.type !== '')) return;
    const outputType = this.graph?.getNodeById(link.origin_id)?.outputs[link.origin_slot]?.type;
    if (outputType) link.type = outputType;
  }

  override onDrawForeground(ctx: CanvasRenderingContext2D): void {
    const view = LimelightNode.view;
    if (!view) return;
    if (view.hasPreview(this)) this.#fitPreview(view);
    drawNodeDecorations(this, ctx, view);
  }

  override onMouseMove(event: { canvasX: number }): void {
    const frames = LimelightNode.view?.previewCount(this) ?? 0;
    if (frames < 2) return;
    const x = (event.canvasX - this.pos[0]) / this.size[0];
    const frame = Math.min(frames - 1, Math.max(0, Math.floor(x * frames)));
    if (frame !== this.previewFrame) {
      this.previewFrame = frame;
      this.setDirtyCanvas(true, false);
    }
  }

  /** Grows the node so its preview (images, video, text) has room under the widgets (laid out by now). */
  #fitPreview(view: NodeView): void {
    const wanted = nodeViewHeight(this, view);
    if (wanted <= this.size[1]) return;
    this.setSize([Math.max(this.size[0], 280), wanted]);
    this.setDirtyCanvas(true, true);
  }

  /** After a run was queued: seeds move on as their control widget says. */
  applySeedControls(): void {
    for (const input of this.description?.inputs ?? []) {
      if (!('widget' in input) || !input.widget.control) continue;
      const seed = this.widget(input.widget.name);
      const mode = this.widget(input.widget.control)?.value;
      if (!seed || typeof seed.value !== 'number' || typeof mode !== 'string') continue;
      seed.value = nextSeedValue(mode, seed.value, input.widget.options);
    }
  }
}

function addWidgetSocket(node: LGraphNode, widget: WidgetDescription): void {
  node.addInput(widget.name, widget.socketType, { widget: { name: widget.name } });
}

function addWidget(node: LimelightNode, widget: WidgetDescription): void {
  const changed = () => LimelightNode.hooks?.changed();
  const { options } = widget;
  switch (widget.kind) {
    case 'number': {
      const w = node.addWidget('number', widget.name, widget.value as number, (value: number) => {
        if (Number.isFinite(value)) w.value = snapToStep(value, options);
        changed();
      }, { min: options.min, max: options.max, step2: options.step, precision: options.precision });
      break;
    }
    case 'combo':
      node.addWidget('combo', widget.name, widget.value as string, changed, { values: options.values ?? [] });
      break;
    case 'toggle':
      node.addWidget('toggle', widget.name, widget.value as boolean, changed, {});
      break;
    case 'text':
      if (options.multiline) addTextAreaWidget(node, widget.name, widget.value as string, changed);
      else node.addWidget('text', widget.name, widget.value as string, changed, {});
      break;
  }
  if (widget.control) {
    node.addWidget('combo', widget.control, 'fixed', changed, { values: [...SEED_CONTROL_MODES] });
  }
  if (widget.uploads.length > 0) {
    const upload = node.addWidget('button', `upload ${widget.uploads.join(' or ')}`, '', () => LimelightNode.hooks?.upload(node, widget.name, widget.uploads), {});
    upload.serialize = false;
  }
  if (widget.uploads.includes('image')) {
    const paint = node.addWidget('button', 'paint mask', '', () => LimelightNode.hooks?.paintMask(node, widget.name), {});
    paint.serialize = false;
  }
}

function createNodeClass(description: NodeClassDescription): typeof LimelightNode {
  return class extends LimelightNode {
    static override title = description.title;
    static description = description;

    constructor(title?: string) {
      super(title ?? description.title, description.type);
      for (const input of description.inputs) {
        if ('widget' in input) {
          addWidgetSocket(this, input.widget);
          addWidget(this, input.widget);
        } else this.addInput(input.socket.name, input.socket.type, input.socket.optional ? { shape: LiteGraph.CIRCLE_SHAPE } : {});
      }
      for (const output of description.outputs) this.addOutput(output.name, output.type);
      const [width, height] = this.computeSize();
      this.setSize([Math.max(width, 240), height]);
    }
  };
}

export function registerNodeClasses(descriptions: NodeClassDescription[]): void {
  for (const description of descriptions) {
    const nodeClass = createNodeClass(description);
    LiteGraph.registerNodeType(description.type, nodeClass);
    // registerNodeType derives the category from the type's path; ours comes from the server.
    nodeClass.category = description.category;
  }
}
