// The queue and history panel: running and pending prompts (cancel a queued one) and past runs (load
// the workflow they ran).
import type { Prompt } from '../../../common/prompt.ts';
import { isWorkflow } from '../../../common/workflow.ts';
import type { HistoryEntry, QueueItem } from '../api/api-client.ts';
import type { App } from '../app.ts';
import { promptToWorkflow } from '../../../common/prompt-to-workflow.ts';
import { button, element } from './elements.ts';

function itemLabel(item: QueueItem): string {
  const workflow = item[3]?.extra_pnginfo?.workflow;
  const nodes = isWorkflow(workflow) ? workflow.nodes.length : Object.keys(item[2] ?? {}).length;
  return `#${item[0]} · ${nodes} nodes · ${item[1].slice(0, 8)}`;
}

export class QueuePanel {
  #refreshing = false;
  /** A change arrived during a refresh: refresh once more after it. */
  #again = false;
  #shown = '';

  constructor(
    private readonly host: HTMLElement,
    private readonly app: App,
  ) {
    // The server sends `status` whenever the queue changes (queued, started, finished, cancelled).
    app.addEventListener('queue', () => void this.refresh());
  }

  toggle(): void {
    this.host.hidden = !this.host.hidden;
    this.#shown = '';
    void this.refresh();
  }

  async refresh(): Promise<void> {
    if (this.host.hidden) return;
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    this.#refreshing = true;
    try {
      const [queue, history] = await Promise.all([this.app.api.getQueue(), this.app.api.getHistory(30)]);
      // Unchanged lists are left alone, so a button is never replaced under the pointer.
      const shown = JSON.stringify([queue, Object.keys(history), Object.values(history).map((h) => h.status?.status_str)]);
      if (shown === this.#shown) return;
      this.#shown = shown;
      this.host.replaceChildren(
        element('h3', { textContent: 'Running' }),
        ...this.#queueItems(queue.queue_running, false),
        element('h3', { textContent: 'Queued' }),
        ...this.#queueItems(queue.queue_pending, true),
        element('h3', { textContent: 'History' }),
        ...this.#historyItems(history),
      );
    } catch (error) {
      this.host.replaceChildren(element('p', { textContent: `Could not read the queue: ${(error as Error).message}` }));
    } finally {
      this.#refreshing = false;
      if (this.#again) {
        this.#again = false;
        void this.refresh();
      }
    }
  }

  #queueItems(items: QueueItem[], cancellable: boolean): HTMLElement[] {
    if (items.length === 0) return [element('div', { className: 'item', textContent: 'none' })];
    return items.map((item) =>
      element(
        'div',
        { className: 'item', dataset: { promptId: item[1] } },
        element('span', { className: 'label', textContent: itemLabel(item) }),
        cancellable
          ? button('Cancel', async () => {
              await this.app.api.deleteQueued([item[1]]);
              void this.refresh();
            })
          : button('Interrupt', () => void this.app.interrupt()),
      ),
    );
  }

  #historyItems(history: Record<string, HistoryEntry>): HTMLElement[] {
    const entries = Object.entries(history).reverse();
    if (entries.length === 0) return [element('div', { className: 'item', textContent: 'no runs yet' })];
    return entries.map(([promptId, entry]) => {
      const status = entry.status?.status_str ?? (entry.status?.completed ? 'success' : 'unknown');
      return element(
        'div',
        { className: 'item', dataset: { promptId } },
        element('span', { className: `label status-${status}`, textContent: `${itemLabel(entry.prompt)} · ${status}` }),
        button('Load', () => this.#load(entry), { title: 'Open the workflow this run used' }),
      );
    });
  }

  #load(entry: HistoryEntry): void {
    const workflow = entry.prompt[3]?.extra_pnginfo?.workflow;
    const name = `run-${entry.prompt[1].slice(0, 8)}`;
    if (isWorkflow(workflow)) this.app.loadWorkflow(workflow, name);
    else this.app.loadWorkflow(promptToWorkflow(entry.prompt[2] as Prompt, this.app.objectInfo), name);
  }
}
