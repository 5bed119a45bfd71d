// The top bar: workflow files and examples, Queue / Interrupt, undo / redo, the queue panel toggle,
// the connection state and the run's status.
import type { App } from '../app.ts';
import { button, chooseFile, element } from './elements.ts';
import { clipLabel } from '../model/run-state.ts';

export const WORKFLOW_FILE_TYPES = '.json,.png,.mp4,.mov,.webm,.mkv,application/json,image/png,video/*';

const CONNECTION_LABELS = { open: 'connected', connecting: 'connecting…', closed: 'disconnected — reconnecting' } as const;

export function createMenuBar(host: HTMLElement, app: App, toggleQueuePanel: () => void): void {
  const examples = element('select', { id: 'examples', title: 'Open an example workflow' });
  examples.append(element('option', { value: '', textContent: 'Examples…' }));
  for (const [index, example] of app.examples.entries()) {
    examples.append(element('option', { value: String(index), textContent: example.title }));
  }
  examples.addEventListener('change', () => {
    const example = app.examples[Number(examples.value)];
    examples.value = '';
    if (example) void app.loadExample(example);
  });

  const connection = element('span', { id: 'connection' });
  const showConnection = () => {
    connection.dataset.state = app.api.connection;
    connection.textContent = CONNECTION_LABELS[app.api.connection];
  };
  app.api.addEventListener('connection', showConnection);
  showConnection();

  const status = element('span', { id: 'run-status' });
  const showStatus = () => {
    const { phase, runningNode } = app.runState;
    // The server's queue_remaining counts the running prompt too.
    const waiting = Math.max(0, app.queueRemaining - (phase === 'running' ? 1 : 0));
    const queued = waiting > 0 ? ` · ${waiting} queued` : '';
    const node = runningNode === null ? undefined : app.editor.graph.getNodeById(runningNode);
    const clip = app.runState.clip ? ` · ${clipLabel(app.runState.clip)}` : '';
    const running = (node ? `running ${node.title}` : 'running') + clip;
    status.textContent = (phase === 'running' ? running : phase === 'idle' ? '' : phase) + queued;
    status.title = status.textContent;
  };
  app.addEventListener('run', showStatus);
  app.addEventListener('queue', showStatus);

  const name = element('span', { id: 'workflow-name' });
  const showName = () => {
    const { workflowName, modified } = app.editor;
    name.textContent = workflowName;
    name.dataset.modified = String(modified);
    name.title = modified ? 'Unsaved changes (Save downloads the workflow)' : 'Saved';
    document.title = `${modified ? '● ' : ''}${workflowName} — Limelight`;
  };
  app.addEventListener('workflow', showName);
  showName();

  host.append(
    element('span', { className: 'brand', textContent: 'Limelight' }),
    name,
    button('New', () => app.newWorkflow(), { id: 'new-workflow' }),
    button('Open…', () => chooseFile(WORKFLOW_FILE_TYPES, (file) => void app.openFile(file)), { id: 'open-workflow', title: 'Open a workflow .json, or a PNG/MP4/WebM made by Limelight' }),
    button('Save', () => app.saveWorkflow(), { id: 'save-workflow', title: 'Download the workflow (Ctrl+S)' }),
    examples,
    button('Undo', () => app.editor.undo(), { id: 'undo', title: 'Ctrl+Z' }),
    button('Redo', () => app.editor.redo(), { id: 'redo', title: 'Ctrl+Shift+Z' }),
    element('span', { className: 'spacer' }),
    status,
    connection,
    button('Queue', () => void app.queue(), { id: 'queue-button', className: 'primary', title: 'Run the workflow (Ctrl+Enter)' }),
    button('Interrupt', () => void app.interrupt(), { id: 'interrupt-button' }),
    button('Queue & history', toggleQueuePanel, { id: 'queue-panel-button' }),
  );
}
