// The canvas editor: litegraph's graph and canvas set up for Limelight (connection rule and colours
// from the shared type registry, HiDPI resizing, keyboard focus), whole-graph undo/redo, loading and
// saving workflows, and the run state drawn on the nodes. The rest of the app talks to this class only.
import { LGraph, LGraphCanvas, LiteGraph, type LGraphNode } from '@comfyorg/litegraph';
import { COMFY_ALIASES } from '../../../common/comfyui-nodes.ts';
import { isTypeCompatible, SOCKET_TYPES } from '../../../common/socket-types.ts';
import type { Workflow } from '../../../common/workflow.ts';
import type { NodeClassDescription } from '../../../common/node-defs.ts';
import { searchNodeTypes, type SearchEntry } from '../model/node-search.ts';
import type { RunState } from '../model/run-state.ts';
import { UndoHistory } from '../model/undo-history.ts';
import { nodeCatalog, openWorkflowFile, saveWorkflowFile, type NodeCatalog } from '../model/workflow-file.ts';
import type { NodeView } from './node-decorations.ts';
import { LimelightNode, registerNodeClasses, type NodeHooks } from './node-classes.ts';
import { isPlaceholder, registerPlaceholders } from './placeholder-node.ts';
import { VideoOverlays } from './video-overlays.ts';
import { registerVirtualNodes } from './virtual-nodes.ts';

/** litegraph's "any" types (0, -1 for events, "") read as the wildcard. */
function slotType(type: unknown): string {
  return typeof type === 'string' && type !== '' ? type : '*';
}

function configureLiteGraph(): void {
  LiteGraph.isValidConnection = (from, to) => isTypeCompatible(slotType(from), slotType(to));
  LiteGraph.saveViewportWithGraph = false;
  LiteGraph.release_link_on_empty_shows_menu = true;
  LiteGraph.alt_drag_do_clone_nodes = true;
  for (const [type, { color }] of Object.entries(SOCKET_TYPES)) LGraphCanvas.link_type_colors[type] = color;
}

/** The node types the search offers (not placeholders), with the ComfyUI names they answer to. */
function searchEntries(): SearchEntry[] {
  return Object.entries(LiteGraph.registered_node_types)
    .filter(([, nodeClass]) => !nodeClass.skip_list)
    .map(([type, nodeClass]) => ({ type, title: nodeClass.title ?? type, aliases: COMFY_ALIASES[type] ?? [] }));
}

export interface EditorOptions {
  canvas: HTMLCanvasElement;
  overlayHost: HTMLElement;
  descriptions: NodeClassDescription[];
  view: NodeView;
  hooks: Omit<NodeHooks, 'changed'>;
}

export class GraphEditor extends EventTarget {
  readonly graph = new LGraph();
  readonly canvas: LGraphCanvas;
  readonly history = new UndoHistory();
  readonly #view: NodeView;
  readonly #videos: VideoOverlays;
  readonly #catalog: NodeCatalog;
  /** The file last opened: saving writes the graph back in its form (null for a new workflow). */
  #file: Workflow | null = null;
  #recordScheduled = false;

  constructor(options: EditorOptions) {
    super();
    configureLiteGraph();
    registerNodeClasses(options.descriptions);
    registerVirtualNodes();
    this.#view = options.view;
    this.#catalog = nodeCatalog(options.descriptions);
    LimelightNode.view = options.view;
    LimelightNode.hooks = { ...options.hooks, changed: () => this.scheduleRecord() };

    const element = options.canvas;
    this.canvas = new LGraphCanvas(element, this.graph);
    this.canvas.show_info = false;
    this.canvas.render_canvas_border = false;
    this.canvas.allow_searchbox = true;
    this.canvas.onSearchBox = (_helper, text) => searchNodeTypes(text, searchEntries());
    for (const [type, { color }] of Object.entries(SOCKET_TYPES)) this.canvas.default_connection_color_byType[type] = color;
    this.#videos = new VideoOverlays(options.overlayHost, options.view);
    this.canvas.onDrawForeground = () => this.#videos.update(this.graph, this.canvas);

    element.tabIndex = 0;
    element.addEventListener('pointerdown', () => element.focus());
    // After any gesture (drag, click, key, dialog), compare the graph with the last snapshot.
    for (const type of ['pointerup', 'keyup', 'change']) document.addEventListener(type, () => this.scheduleRecord(), true);
    // Any change of the canvas box (window, side panel, menu bar) or of the device pixel ratio refits it.
    new ResizeObserver(() => this.resize()).observe(element, { box: 'device-pixel-content-box' });
    this.resize();
    this.graph.start();
    this.history.reset(this.#snapshot());
  }

  /** Fits the canvas to its box in device pixels, so it stays sharp on HiDPI screens. */
  resize(): void {
    const element = this.canvas.canvas;
    const scale = Math.max(window.devicePixelRatio, 1);
    const { width, height } = element.getBoundingClientRect();
    element.width = Math.round(width * scale);
    element.height = Math.round(height * scale);
    element.getContext('2d')?.scale(scale, scale);
    this.canvas.setDirty(true, true);
  }

  /** The workflow as it is saved: in the form of the file it was opened from. */
  serialize(): Workflow {
    return saveWorkflowFile(this.graph.serialize({ sortNodes: true }) as unknown as Workflow, this.#file, this.#catalog);
  }

  #snapshot(): string {
    return JSON.stringify(this.serialize());
  }

  /** Replaces the graph; unknown node types become placeholders that keep their data. Returns those types. */
  load(workflow: Workflow): string[] {
    this.#file = structuredClone(workflow);
    const opened = openWorkflowFile(structuredClone(workflow), this.#catalog);
    const missing = registerPlaceholders(opened.nodes.map((n) => n.type));
    this.graph.configure(opened as never);
    this.refreshRunState();
    this.#fitView();
    this.history.reset(this.#snapshot());
    this.#emitChange();
    return missing;
  }

  /** Shows the whole graph, at most at natural size. */
  #fitView(): void {
    const nodes = this.graph.nodes;
    if (nodes.length === 0) return;
    const title = LiteGraph.NODE_TITLE_HEIGHT;
    const left = Math.min(...nodes.map((n) => n.pos[0]));
    const top = Math.min(...nodes.map((n) => n.pos[1] - title));
    const right = Math.max(...nodes.map((n) => n.pos[0] + n.size[0]));
    const bottom = Math.max(...nodes.map((n) => n.pos[1] + n.size[1]));
    const bounds: [number, number, number, number] = [left - 20, top - 20, right - left + 40, bottom - top + 40];
    const { ds } = this.canvas;
    ds.fitToBounds(bounds, { zoom: 0.95 });
    if (ds.scale > 1) {
      ds.scale = 1;
      ds.fitToBounds(bounds, { zoom: 0 });
    }
    this.canvas.setDirty(true, true);
  }

  /** A blank graph, viewed from the origin at natural size. */
  clear(): void {
    this.#file = null;
    this.graph.clear();
    this.canvas.ds.scale = 1;
    this.canvas.ds.offset = [0, 0];
    this.history.reset(this.#snapshot());
    this.#emitChange();
  }

  scheduleRecord(): void {
    if (this.#recordScheduled) return;
    this.#recordScheduled = true;
    setTimeout(() => this.#record(), 0);
  }

  #record(): void {
    this.#recordScheduled = false;
    if (this.history.record(this.#snapshot())) this.#emitChange();
  }

  undo(): boolean {
    // A change whose record is still scheduled (a paste right before Ctrl+Z) is the one to undo.
    this.#record();
    return this.#restore(this.history.undo());
  }

  redo(): boolean {
    this.#record();
    return this.#restore(this.history.redo());
  }

  #restore(snapshot: string | null): boolean {
    if (snapshot === null) return false;
    this.graph.configure(openWorkflowFile(JSON.parse(snapshot), this.#catalog) as never);
    this.refreshRunState();
    this.#emitChange();
    return true;
  }

  #emitChange(): void {
    this.dispatchEvent(new Event('change'));
  }

  /** Shows the run state on the nodes: progress bars and error outlines (the nodes draw the rest). */
  refreshRunState(): void {
    const state: RunState = this.#view.runState;
    for (const node of this.graph.nodes) {
      const id = String(node.id);
      const progress = state.progress.get(id);
      node.progress = progress && progress.max > 0 ? Math.min(1, progress.value / progress.max) : undefined;
      node.has_errors = state.errors.has(id) || isPlaceholder(node);
    }
    this.canvas.setDirty(true, true);
  }

  redraw(): void {
    this.canvas.setDirty(true, true);
  }

  /** The node under a point of the page (a drop target). */
  nodeAt(clientX: number, clientY: number): LGraphNode | null {
    const [x, y] = this.canvas.convertEventToCanvasOffset({ clientX, clientY } as MouseEvent);
    return this.graph.getNodeOnPos(x, y) ?? null;
  }

  /** Seeds move on after a run was queued, as their control widgets say. */
  applySeedControls(): void {
    for (const node of this.graph.nodes) if (node instanceof LimelightNode) node.applySeedControls();
    this.scheduleRecord();
  }

  /** Adds a node at the centre of the view (for scripts and tests through `window.app`). */
  addNode(type: string): LGraphNode | null {
    const node = LiteGraph.createNode(type);
    if (!node) return null;
    // An edit whose record is still scheduled is its own undo step, not merged with this node.
    if (this.#recordScheduled) this.#record();
    const [width, height] = [this.canvas.canvas.clientWidth, this.canvas.canvas.clientHeight];
    const [x, y] = this.canvas.convertOffsetToCanvas([width / 2, height / 2], [0, 0]);
    node.pos = [x - node.size[0] / 2, y - node.size[1] / 2];
    this.graph.add(node);
    this.scheduleRecord();
    return node;
  }
}
