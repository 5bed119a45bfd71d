// The application: the editor, the server connection and the run state, and the actions the menus,
// keys and drops trigger (queue, interrupt, new/open/save, examples, uploads).
import type { Prompt } from '../../common/prompt.ts';
import { isWorkflow, workflowToPrompt, type Workflow } from '../../common/workflow.ts';
import { GraphEditor } from './graph/editor.ts';
import type { LimelightNode } from './graph/node-classes.ts';
import { createNodeView } from './graph/node-decorations.ts';
import { ApiClient, inputName, type ExampleWorkflow } from './api/api-client.ts';
import type { PreviewFrame } from './api/preview-frame.ts';
import { readEmbeddedGraph } from './model/embedded-graph.ts';
import { describeNodeClasses, type UploadKind } from '../../common/node-defs.ts';
import { promptToWorkflow } from '../../common/prompt-to-workflow.ts';
import { RunState } from './model/run-state.ts';
import type { ObjectInfoEntry } from '../../common/object-info.ts';

/** The autosave: `{name, modified, workflow}` (older versions stored the bare workflow). */
const SAVED_WORKFLOW_KEY = 'limelight.workflow';
/** The outputs shown on the saved workflow's nodes, so they survive a reload. */
const SAVED_OUTPUTS_KEY = 'limelight.outputs';
const EMPTY_WORKFLOW: Workflow = { nodes: [], links: [] };
const DEFAULT_EXAMPLE = /hobbyist/i;
const RUN_EVENTS = ['execution_start', 'execution_cached', 'executing', 'progress', 'executed', 'execution_success', 'execution_error', 'execution_interrupted'];

function savedOutputs(): Record<string, unknown> {
  try {
    const outputs: unknown = JSON.parse(localStorage.getItem(SAVED_OUTPUTS_KEY) ?? '{}');
    return outputs && typeof outputs === 'object' ? (outputs as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export interface AppElements {
  canvas: HTMLCanvasElement;
  overlayHost: HTMLElement;
}

export interface Notice {
  text: string;
  kind: 'info' | 'error';
}

export class App extends EventTarget {
  readonly runState = new RunState();
  readonly editor: GraphEditor;
  examples: ExampleWorkflow[] = [];
  queueRemaining = 0;

  private constructor(
    readonly api: ApiClient,
    readonly objectInfo: Record<string, ObjectInfoEntry>,
    elements: AppElements,
    hooks: { paintMask(node: LimelightNode, widgetName: string): void },
  ) {
    super();
    const view = createNodeView(this.runState, (ref) => api.viewUrl(ref), () => this.editor.redraw());
    this.editor = new GraphEditor({
      ...elements,
      descriptions: describeNodeClasses(objectInfo),
      view,
      hooks: { upload: (node, widget, kinds) => this.#chooseUpload(node, widget, kinds), paintMask: hooks.paintMask },
    });
    this.editor.addEventListener('change', () => {
      const { workflowName: name, modified } = this.editor;
      localStorage.setItem(SAVED_WORKFLOW_KEY, JSON.stringify({ name, modified, workflow: this.editor.serializeWithView() }));
      this.dispatchEvent(new Event('workflow'));
    });
    for (const type of RUN_EVENTS) {
      api.addEventListener(type, (event) => {
        if (!this.runState.handle(type, (event as CustomEvent).detail)) return;
        // Only `executed` changes the outputs kept across a reload (progress arrives per frame and step).
        if (type === 'executed') this.#saveOutputs();
        this.#runStateChanged();
      });
    }
    api.addEventListener('preview', (event) => {
      if (this.runState.showPreview((event as CustomEvent<PreviewFrame>).detail)) this.editor.redraw();
    });
    api.addEventListener('status', (event) => {
      const remaining = (event as CustomEvent).detail?.status?.exec_info?.queue_remaining;
      if (typeof remaining === 'number') this.queueRemaining = remaining;
      this.dispatchEvent(new Event('queue'));
    });
  }

  static async start(elements: AppElements, hooks: { paintMask(node: LimelightNode, widgetName: string): void }): Promise<App> {
    const api = new ApiClient();
    const objectInfo = await api.getObjectInfo();
    const app = new App(api, objectInfo, elements, hooks);
    api.connect();
    app.examples = await api.getExampleWorkflows().catch(() => []);
    await app.#openInitialWorkflow();
    return app;
  }

  /** The workflow's name, shown in the menu bar and used when saving. */
  get workflowName(): string {
    return this.editor.workflowName;
  }

  notify(text: string, kind: Notice['kind'] = 'info'): void {
    this.dispatchEvent(new CustomEvent<Notice>('notice', { detail: { text, kind } }));
  }

  #runStateChanged(): void {
    this.editor.refreshRunState();
    this.dispatchEvent(new Event('run'));
    const { phase, message } = this.runState;
    if (phase === 'failed' || phase === 'interrupted') this.notify(message ?? 'The run failed: see the marked node', 'error');
    if (phase === 'done') this.notify('Done');
  }

  // ---- Workflows ----

  async #openInitialWorkflow(): Promise<void> {
    const saved = localStorage.getItem(SAVED_WORKFLOW_KEY);
    if (saved) {
      try {
        const parsed = JSON.parse(saved);
        const { name, modified, workflow } = isWorkflow(parsed) ? { name: 'Untitled', modified: true, workflow: parsed } : parsed;
        if (isWorkflow(workflow)) {
          // Read before opening, which forgets the outputs shown.
          const outputs = savedOutputs();
          this.#open(workflow, typeof name === 'string' ? name : 'Untitled', { undoable: false, modified: modified !== false });
          return this.showOutputs(outputs);
        }
      } catch {
        // An unreadable saved workflow is replaced by the default one.
      }
    }
    const example = this.examples.find((e) => DEFAULT_EXAMPLE.test(e.name)) ?? this.examples[0];
    if (example) {
      const workflow = await this.api.getExampleWorkflow(example).catch(() => null);
      if (workflow) this.#open(workflow, example.name, { undoable: false });
    }
  }

  /**
   * Replaces the graph with a workflow (New, Examples, Open, a dropped file, a past run). Undoable: Ctrl+Z
   * brings back the graph it replaced, unsaved changes included.
   */
  loadWorkflow(workflow: Workflow, name: string): void {
    const hadChanges = this.editor.modified && this.editor.graph.nodes.length > 0;
    const replaced = this.workflowName;
    this.#open(workflow, name, { undoable: true });
    if (hadChanges) this.notify(`Opened ${this.workflowName}; Ctrl+Z brings back the unsaved “${replaced}”`);
  }

  #open(workflow: Workflow, name: string, options: { undoable: boolean; modified?: boolean }): void {
    this.runState.reset();
    this.#saveOutputs();
    const missing = this.editor.load(workflow, name.replace(/\.[^.]+$/, '') || 'Untitled', options);
    if (missing.length > 0) this.notify(`Unknown node types kept as placeholders: ${missing.join(', ')}`, 'error');
  }

  newWorkflow(): void {
    this.loadWorkflow(EMPTY_WORKFLOW, 'Untitled');
  }

  /** Shows a run's outputs on the nodes of the open workflow (node id → ComfyUI output payload). */
  showOutputs(outputs: Record<string, unknown>): void {
    this.runState.showOutputs(outputs);
    this.#saveOutputs();
    this.editor.refreshRunState();
  }

  #saveOutputs(): void {
    localStorage.setItem(SAVED_OUTPUTS_KEY, JSON.stringify(Object.fromEntries(this.runState.outputs)));
  }

  async loadExample(example: ExampleWorkflow): Promise<void> {
    try {
      this.loadWorkflow(await this.api.getExampleWorkflow(example), example.name);
    } catch (error) {
      this.notify((error as Error).message, 'error');
    }
  }

  /** Opens a workflow `.json`, or the workflow embedded in a PNG / MP4 / WebM that Limelight wrote. */
  async openFile(file: File): Promise<boolean> {
    const { workflow, prompt } = readEmbeddedGraph(new Uint8Array(await file.arrayBuffer()));
    if (isWorkflow(workflow)) {
      this.loadWorkflow(workflow, file.name);
      return true;
    }
    if (prompt && typeof prompt === 'object') {
      this.loadWorkflow(promptToWorkflow(prompt as Prompt, this.objectInfo), file.name);
      this.notify(`${file.name} carried only the API prompt: the layout was rebuilt`);
      return true;
    }
    this.notify(`${file.name} holds no Limelight workflow`, 'error');
    return false;
  }

  saveWorkflow(): void {
    const blob = new Blob([JSON.stringify(this.editor.serializeWithView(), null, 2)], { type: 'application/json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `${this.workflowName}.json`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    this.editor.markSaved();
  }

  // ---- Running ----

  async queue(): Promise<void> {
    const workflow = this.editor.serialize();
    const { prompt, errors } = workflowToPrompt(workflow, this.objectInfo);
    if (errors.some((e) => e.node_id === undefined)) {
      this.runState.showLocalErrors(errors);
      return this.#runStateChanged();
    }
    try {
      const result = await this.api.queueWorkflow(workflow, prompt, this.workflowName);
      if (result.ok) {
        this.editor.applySeedControls();
        this.notify(`Queued (#${result.number})`);
      } else {
        this.runState.showRefusal(result.refusal);
        this.#runStateChanged();
      }
    } catch (error) {
      this.notify(`Could not reach the server: ${(error as Error).message}`, 'error');
    }
  }

  async interrupt(): Promise<void> {
    await this.api.interrupt();
  }

  // ---- Uploads ----

  #chooseUpload(node: LimelightNode, widgetName: string, kinds: UploadKind[]): void {
    const picker = document.createElement('input');
    picker.type = 'file';
    picker.accept = kinds.map((k) => `${k}/*`).join(',');
    picker.addEventListener('change', () => {
      const file = picker.files?.[0];
      if (file) void this.uploadToNode(node, widgetName, file);
    });
    picker.click();
  }

  /** Uploads a file into the input folder and selects it on the node's combo. */
  async uploadToNode(node: LimelightNode, widgetName: string, file: Blob, filename = (file as File).name): Promise<string | null> {
    try {
      const name = inputName(await this.api.upload(file, filename));
      const widget = node.widget(widgetName);
      const values = widget?.options.values;
      if (Array.isArray(values) && !values.includes(name)) values.push(name);
      node.setWidgetValue(widgetName, name);
      this.notify(`Uploaded ${name}`);
      return name;
    } catch (error) {
      this.notify(`Upload failed: ${(error as Error).message}`, 'error');
      return null;
    }
  }

  /** The upload combo of a node that accepts this kind of file, if any. */
  uploadTarget(node: LimelightNode, mime: string): string | null {
    for (const input of node.description?.inputs ?? []) {
      if ('widget' in input && input.widget.uploads.some((kind) => mime.startsWith(`${kind}/`))) return input.widget.name;
    }
    return null;
  }
}
