// Entry point: starts the app on the page and exposes `window.app = {graph, canvas, api, …}` for tests.
import '@comfyorg/litegraph/style.css';
import './styles.css';
import { App, type Notice } from './app.ts';
import { enableFileDrop } from './ui/file-drop.ts';
import { MaskPainter } from './ui/mask-painter.ts';
import { createMenuBar } from './ui/menu-bar.ts';
import { QueuePanel } from './ui/queue-panel.ts';
import { enableShortcuts } from './ui/shortcuts.ts';

function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

function showNotices(app: App): void {
  const notice = byId('notice');
  let timer: ReturnType<typeof setTimeout> | undefined;
  app.addEventListener('notice', (event) => {
    const { text, kind } = (event as CustomEvent<Notice>).detail;
    notice.textContent = text;
    notice.className = `visible ${kind}`;
    clearTimeout(timer);
    timer = setTimeout(() => (notice.className = ''), kind === 'error' ? 8000 : 3000);
  });
}

async function main(): Promise<void> {
  const workspace = byId('workspace');
  const app = await App.start(
    { canvas: byId<HTMLCanvasElement>('graph-canvas'), overlayHost: byId('canvas-overlays') },
    { paintMask: (node, widgetName) => new MaskPainter(app, node, widgetName) },
  );
  const queuePanel = new QueuePanel(byId('queue-panel'), app);
  createMenuBar(byId('menu-bar'), app, () => queuePanel.toggle());
  showNotices(app);
  enableFileDrop(workspace, app);
  enableShortcuts(app);
  Object.assign(window, { app: { graph: app.editor.graph, canvas: app.editor.canvas, api: app.api, editor: app.editor, app } });
  document.body.dataset.ready = 'true';
}

main().catch((error: Error) => {
  document.body.textContent = `Limelight could not start: ${error.message}`;
  console.error(error);
});
