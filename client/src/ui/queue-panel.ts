// The queue and history panel: running and pending prompts (cancel one, or clear the queue) and past
// runs with their name, time, duration, outcome and output thumbnail (load the workflow with its
// outputs, or clear the history).
import type { Prompt } from '../../../common/prompt.ts';
import { isWorkflow } from '../../../common/workflow.ts';
import type { HistoryEntry, QueueItem } from '../api/protocol-types.ts';
import type { App } from '../app.ts';
import { promptToWorkflow } from '../../../common/prompt-to-workflow.ts';
import { formatDuration, formatTime, summarizeHistory, summarizeQueued, type RunOutcome, type RunSummary } from '../model/run-summary.ts';
import { button, element } from './elements.ts';

function summaryLine(run: RunSummary): string {
  const parts: string[] = [];
  const at = run.startedAt ?? run.queuedAt;
  if (at !== undefined) parts.push(formatTime(at));
  if (run.duration !== undefined) parts.push(formatDuration(run.duration));
  parts.push(`${run.nodes} nodes`, `#${run.number}`);
  return parts.join(' · ');
}

const OUTCOME_LABELS: Record<RunOutcome, string> = { queued: 'queued', running: 'running', success: 'done', error: 'error', interrupted: 'interrupted' };

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
        ...this.#queueItems(queue.queue_running, true),
        this.#heading('Queued', button('Clear queue', () => this.#act(() => this.app.api.clearQueue()), { id: 'clear-queue', disabled: queue.queue_pending.length === 0 })),
        ...this.#queueItems(queue.queue_pending, false),
        this.#heading('History', button('Clear history', () => this.#act(() => this.app.api.clearHistory()), { id: 'clear-history', disabled: Object.keys(history).length === 0 })),
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

  #heading(title: string, action: HTMLElement): HTMLElement {
    return element('div', { className: 'heading' }, element('h3', { textContent: title }), action);
  }

  /** Runs a queue or history change, then shows the lists as they are now. */
  async #act(change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      this.app.notify((error as Error).message, 'error');
    }
    this.#shown = '';
    await this.refresh();
  }

  #entry(run: RunSummary, action: HTMLElement): HTMLElement {
    const picture = run.thumbnail
      ? run.thumbnail.video
        ? element('video', { className: 'thumbnail', src: `${this.app.api.viewUrl(run.thumbnail.ref)}#t=0.1`, muted: true, preload: 'metadata' })
        : element('img', { className: 'thumbnail', src: this.app.api.viewUrl(run.thumbnail.ref), alt: '' })
      : element('div', { className: 'thumbnail' });
    return element(
      'div',
      { className: `item outcome-${run.outcome}`, dataset: { promptId: run.promptId, outcome: run.outcome } },
      picture,
      element(
        'div',
        { className: 'label' },
        element('div', { className: 'name', textContent: run.name, title: run.name }),
        element('div', { className: 'detail', textContent: summaryLine(run) }),
        element('div', { className: 'outcome', textContent: OUTCOME_LABELS[run.outcome], title: run.message ?? '' }),
      ),
      action,
    );
  }

  #queueItems(items: QueueItem[], running: boolean): HTMLElement[] {
    if (items.length === 0) return [element('div', { className: 'empty', textContent: 'none' })];
    return items.map((item) =>
      this.#entry(
        summarizeQueued(item, running),
        running
          ? button('Interrupt', () => void this.app.interrupt())
          : button('Cancel', () => void this.#act(() => this.app.api.deleteQueued([item[1]]))),
      ),
    );
  }

  #historyItems(history: Record<string, HistoryEntry>): HTMLElement[] {
    const entries = Object.entries(history).reverse();
    if (entries.length === 0) return [element('div', { className: 'empty', textContent: 'no runs yet' })];
    return entries.map(([, entry]) => {
      const run = summarizeHistory(entry);
      return this.#entry(
        run,
        button('Load', () => this.#load(entry, run), { title: 'Open the workflow this run used, with its outputs' }),
      );
    });
  }

  #load(entry: HistoryEntry, run: RunSummary): void {
    const workflow = entry.prompt[3]?.extra_pnginfo?.workflow;
    this.app.loadWorkflow(isWorkflow(workflow) ? workflow : promptToWorkflow(entry.prompt[2] as Prompt, this.app.objectInfo), run.name);
    this.app.showOutputs(entry.outputs ?? {});
  }
}
