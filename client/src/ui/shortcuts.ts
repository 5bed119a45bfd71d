// Keyboard shortcuts of the whole editor (litegraph handles copy, paste, delete and select-all itself).
// Ctrl+Enter queues even from a text box, as in ComfyUI; the others leave text boxes alone.
import type { App } from '../app.ts';
import { chooseFile } from './elements.ts';
import { WORKFLOW_FILE_TYPES } from './menu-bar.ts';

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

export function enableShortcuts(app: App): void {
  document.addEventListener('keydown', (event) => {
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    if (!mod || (isTyping(event.target) && key !== 'enter')) return;
    const actions: Record<string, (() => unknown) | undefined> = {
      enter: () => app.queue(),
      z: () => (event.shiftKey ? app.editor.redo() : app.editor.undo()),
      y: () => app.editor.redo(),
      s: () => app.saveWorkflow(),
      o: () => chooseFile(WORKFLOW_FILE_TYPES, (file) => void app.openFile(file)),
      b: () => app.editor.toggleSelectedMode('bypass'),
      m: () => app.editor.toggleSelectedMode('mute'),
      g: () => app.editor.groupSelected(),
    };
    const action = actions[key];
    if (!action) return;
    event.preventDefault();
    event.stopPropagation();
    void action();
  });
}
