// The canvas editor: litegraph's graph and canvas set up for Limelight (connection rule and colours
// from the shared type registry, HiDPI resizing, keyboard focus), whole-graph undo/redo, loading and
// saving workflows, and the run state drawn on the nodes. The rest of the app talks to this class only.
import { LGraph, LGraphCanvas, LGraphEventMode, LiteGraph, type LGraphNode } from '@comfyorg/litegraph';
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
import { groupSelected, installMenus } from './node-menu.ts';
import { drawModes, toggleMode } from './node-modes.ts';
import { Minimap } from './minimap.ts';
import { isPlaceholder, registerPlaceholders } from './placeholder-node.ts';
import { setTextAreaHost, sweepTextAreas } from './textarea-widget.ts';
import { enableTooltips } from './tooltips.ts';
import { VideoOverlays } from './video-overlays.ts';
import { currentView, fitView, restoreView } from './view-fit.ts';
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
  /** An element laid exactly over the canvas, clipped to it: videos, text boxes and the minimap go there. */
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
  readonly #minimap: Minimap;
  #recordScheduled = false;
  #name = 'Untitled';
  /** Snapshots that match a file: as opened or saved. Any other state has unsaved changes. */
  readonly #savedStates = new Set<string>();
  /** A pointer is down on the canvas: a drag in progress is recorded once, when it ends. */
  #gesture = false;

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
    this.#minimap = new Minimap(options.overlayHost, this.graph, this.canvas);
    setTextAreaHost(options.overlayHost);
    this.canvas.onDrawForeground = () => {
      this.#videos.update(this.graph, this.canvas);
      sweepTextAreas();
      this.#minimap.update();
    };
    this.canvas.onDrawOverlay = (ctx) => drawEmptyCanvasHint(this.canvas, ctx);
    installMenus(this.canvas, () => this.scheduleRecord());
    enableTooltips(this.canvas);
    drawModes(this.canvas);

    element.tabIndex = 0;
    // Capturing, on the document: litegraph's own handlers may stop the event on the canvas.
    document.addEventListener('pointerdown', (event) => {
      if (event.target !== element) return;
      element.focus();
      this.#gesture = true;
    }, true);
    // After any gesture (drag, click, key, dialog), compare the graph with the last snapshot.
    for (const type of ['pointerup', 'pointercancel']) {
      document.addEventListener(type, () => {
        this.#gesture = false;
        this.scheduleRecord();
      }, true);
    }
    // Typing in a text box is one step, recorded when the box's `change` fires (it loses the focus).
    document.addEventListener('keyup', (event) => {
      if (!(event.target instanceof HTMLTextAreaElement || event.target instanceof HTMLInputElement)) this.scheduleRecord();
    }, true);
    document.addEventListener('change', () => this.scheduleRecord(), true);
    // Any change of the canvas box (window, side panel, menu bar) or of the device pixel ratio refits it.
    new ResizeObserver(() => this.resize()).observe(element, { box: 'device-pixel-content-box' });
    this.resize();
    this.graph.start();
    this.history.reset(this.#snapshot());
    this.#savedStates.add(this.#snapshot());
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

  /** The workflow with the current view in `extra.ds` (as ComfyUI saves it), for files and the autosave. */
  serializeWithView(): Workflow {
    const workflow = this.serialize();
    return { ...workflow, extra: { ...workflow.extra, ds: currentView(this.canvas) } };
  }

  /** The workflow's name (its file name without the extension); undo and redo bring back the name too. */
  get workflowName(): string {
    return this.#name;
  }

  /** Whether the graph differs from the file it was opened from or last saved as. */
  get modified(): boolean {
    const current = this.history.current;
    return current === null || !this.#savedStates.has(current);
  }

  /** Undo states: the name, the file the graph was opened from (saving writes in its form) and the graph. */
  #snapshot(): string {
    return JSON.stringify({ name: this.#name, file: this.#file, workflow: this.serialize() });
  }

  /**
   * Replaces the graph; unknown node types become placeholders that keep their data. Returns those types.
   * `undoable`: one Ctrl+Z brings back the graph it replaced (else the undo history starts over);
   * `modified`: the workflow had unsaved changes (an autosave restored on reload).
   */
  load(workflow: Workflow, name: string, { undoable = true, modified = false } = {}): string[] {
    if (this.#recordScheduled) this.#record();
    this.#file = structuredClone(workflow);
    // The view is the canvas's, not the graph's: only `serializeWithView` writes it back.
    const { ds: savedView, ...extra } = workflow.extra ?? {};
    const opened = openWorkflowFile(structuredClone({ ...workflow, extra }), this.#catalog);
    const missing = registerPlaceholders(opened.nodes.map((n) => n.type));
    this.graph.configure(opened as never);
    this.#name = name;
    this.refreshRunState();
    if (!restoreView(this.canvas, this.graph.nodes, savedView)) fitView(this.canvas, this.graph.nodes);
    // A first frame lays the widgets out (nodes may grow to fit them): that is the state as opened.
    this.canvas.draw(true, true);
    const snapshot = this.#snapshot();
    if (!modified) this.#savedStates.add(snapshot);
    if (undoable) this.history.record(snapshot);
    else this.history.reset(snapshot);
    this.#emitChange();
    return missing;
  }

  /** The current state is what the file now holds (it was just saved). */
  markSaved(): void {
    this.#record();
    const current = this.history.current;
    if (current !== null) this.#savedStates.add(current);
    this.#emitChange();
  }

  scheduleRecord(): void {
    if (this.#recordScheduled || this.#gesture) return;
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
    const { name, file, workflow } = JSON.parse(snapshot) as { name: string; file: Workflow | null; workflow: Workflow };
    this.#name = name;
    this.#file = file;
    this.graph.configure(openWorkflowFile(workflow, this.#catalog) as never);
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

  /** Bypass (Ctrl+B) or mute (Ctrl+M) the selected nodes, or set them back to running. */
  toggleSelectedMode(mode: 'bypass' | 'mute'): boolean {
    const nodes = Object.values(this.canvas.selected_nodes);
    if (nodes.length === 0) return false;
    toggleMode(nodes, mode === 'bypass' ? LGraphEventMode.BYPASS : LGraphEventMode.NEVER);
    this.canvas.setDirty(true, true);
    this.scheduleRecord();
    return true;
  }

  /** Puts a group around the selected nodes (Ctrl+G). */
  groupSelected(): boolean {
    const grouped = groupSelected(this.canvas);
    if (grouped) this.scheduleRecord();
    return grouped;
  }

  /** Adds a node at the centre of the view (for scripts and tests through `window.app`). */
  addNode(type: string): LGraphNode | null {
    const node = LiteGraph.createNode(type);
    if (!node) return null;
    // An edit whose record is still scheduled is its own undo step, not merged with this node.
    if (this.#recordScheduled) this.#record();
    const [width, height] = [this.canvas.canvas.clientWidth, this.canvas.canvas.clientHeight];
    // The middle of the view, in graph coordinates.
    const [x, y] = this.canvas.convertCanvasToOffset([width / 2, height / 2], [0, 0]);
    node.pos = [x - node.size[0] / 2, y - node.size[1] / 2];
    this.graph.add(node);
    this.scheduleRecord();
    return node;
  }
}

const EMPTY_CANVAS_HINT = ['Double-click to search and add a node', 'Right-click for the node menu · drop a workflow, image or video here', 'or pick one from Examples…'];

/** What an empty canvas says: how to start. */
function drawEmptyCanvasHint(canvas: LGraphCanvas, ctx: CanvasRenderingContext2D): void {
  if (canvas.graph && canvas.graph.nodes.length > 0) return;
  const { clientWidth: width, clientHeight: height } = canvas.canvas;
  ctx.save();
  ctx.textAlign = 'center';
  ctx.fillStyle = '#9e9e9e';
  for (const [i, line] of EMPTY_CANVAS_HINT.entries()) {
    ctx.font = i === 0 ? '20px sans-serif' : '14px sans-serif';
    ctx.fillText(line, width / 2, height / 2 - 20 + i * 28);
  }
  ctx.restore();
}
