// The queue and the history, kept in SQLite so they survive a restart. Each change is one
// transaction: a prompt is either queued, running, or in the history, never half-moved.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { executionError } from '../engine/execution-error.ts';
import { ServerRestart } from '../errors.ts';

export interface QueueItem {
  number: number;
  promptId: string;
  prompt: Record<string, unknown>;
  extraData: Record<string, unknown>;
  outputsToExecute: string[];
}

/** ComfyUI's queue item: `[number, prompt_id, prompt, extra_data, outputs_to_execute]`. */
export type QueueTuple = [number, string, Record<string, unknown>, Record<string, unknown>, string[]];

export type HistoryMessage = [string, Record<string, unknown>];

export interface HistoryStatus {
  status_str: 'success' | 'error';
  completed: boolean;
  messages: HistoryMessage[];
}

export interface HistoryEntry {
  prompt: QueueTuple;
  outputs: Record<string, unknown>;
  status: HistoryStatus;
  meta: Record<string, unknown>;
}

export function toTuple(item: QueueItem): QueueTuple {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputsToExecute];
}

/** As ComfyUI: the history keeps this many prompts, dropping the oldest. */
const MAX_HISTORY = 10_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue (
  prompt_id TEXT PRIMARY KEY,
  number REAL NOT NULL,
  prompt TEXT NOT NULL,
  extra_data TEXT NOT NULL,
  outputs_to_execute TEXT NOT NULL,
  running INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  prompt_id TEXT NOT NULL UNIQUE,
  number REAL NOT NULL,
  entry TEXT NOT NULL
);`;

interface QueueRow {
  prompt_id: string;
  number: number;
  prompt: string;
  extra_data: string;
  outputs_to_execute: string;
}

function fromRow(row: QueueRow): QueueItem {
  return {
    number: row.number,
    promptId: row.prompt_id,
    prompt: JSON.parse(row.prompt),
    extraData: JSON.parse(row.extra_data),
    outputsToExecute: JSON.parse(row.outputs_to_execute),
  };
}

export class PromptStore {
  private readonly db: Database.Database;
  private counter: number;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file, { timeout: 1000 });
    // One server per database: a second one would take the same queue and fail the first one's running prompt.
    this.db.pragma('locking_mode = EXCLUSIVE');
    try {
      this.db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (error) {
      this.db.close();
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      throw new Error(`${file} is in use by another Limelight server: stop that one, or give this one its own --cache-dir`);
    }
    // WAL with NORMAL sync survives a killed process (not a power cut) and keeps writes cheap.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    const max = this.db
      .prepare('SELECT MAX(n) AS n FROM (SELECT MAX(ABS(number)) AS n FROM queue UNION ALL SELECT MAX(ABS(number)) FROM history)')
      .get() as { n: number | null };
    this.counter = max.n === null ? 0 : Math.floor(max.n) + 1;
  }

  close(): void {
    this.db.close();
  }

  /** The next queue number (ComfyUI counts up; `front` submissions use its negative). */
  nextNumber(): number {
    return this.counter++;
  }

  isKnown(promptId: string): 'queued' | 'history' | null {
    if (this.db.prepare('SELECT 1 FROM queue WHERE prompt_id = ?').get(promptId)) return 'queued';
    if (this.db.prepare('SELECT 1 FROM history WHERE prompt_id = ?').get(promptId)) return 'history';
    return null;
  }

  enqueue(item: QueueItem): void {
    this.db
      .prepare('INSERT INTO queue (prompt_id, number, prompt, extra_data, outputs_to_execute) VALUES (?, ?, ?, ?, ?)')
      .run(item.promptId, item.number, JSON.stringify(item.prompt), JSON.stringify(item.extraData), JSON.stringify(item.outputsToExecute));
  }

  private items(running: boolean): QueueItem[] {
    const rows = this.db.prepare('SELECT * FROM queue WHERE running = ? ORDER BY number, rowid').all(running ? 1 : 0) as QueueRow[];
    return rows.map(fromRow);
  }

  pending(): QueueItem[] {
    return this.items(false);
  }

  running(): QueueItem[] {
    return this.items(true);
  }

  remaining(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM queue').get() as { n: number }).n;
  }

  /** Marks the first pending prompt as running and returns it. */
  takeNext(): QueueItem | undefined {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT * FROM queue WHERE running = 0 ORDER BY number, rowid LIMIT 1').get() as QueueRow | undefined;
      if (!row) return undefined;
      this.db.prepare('UPDATE queue SET running = 1 WHERE prompt_id = ?').run(row.prompt_id);
      return fromRow(row);
    })();
  }

  /** Moves a prompt from the queue to the history with its result, in one transaction. */
  finish(item: QueueItem, result: Omit<HistoryEntry, 'prompt'>): void {
    const entry: HistoryEntry = { prompt: toTuple(item), ...result };
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM queue WHERE prompt_id = ?').run(item.promptId);
      this.db.prepare('DELETE FROM history WHERE prompt_id = ?').run(item.promptId);
      this.db.prepare('INSERT INTO history (prompt_id, number, entry) VALUES (?, ?, ?)').run(item.promptId, item.number, JSON.stringify(entry));
      this.db.prepare('DELETE FROM history WHERE seq <= (SELECT MAX(seq) FROM history) - ?').run(MAX_HISTORY);
    })();
  }

  /**
   * Prompts marked running belong to a process that died. Their outputs may be half-written, so
   * they go to the history as failed (never as done) with a message saying to queue them again.
   */
  failInterrupted(reason: string): string[] {
    const stale = this.running();
    for (const item of stale) {
      const data = executionError({ promptId: item.promptId, error: new ServerRestart(reason) });
      this.finish(item, { outputs: {}, status: { status_str: 'error', completed: false, messages: [['execution_error', { ...data }]] }, meta: {} });
    }
    return stale.map((item) => item.promptId);
  }

  deletePending(promptIds: string[]): number {
    const remove = this.db.prepare('DELETE FROM queue WHERE prompt_id = ? AND running = 0');
    return this.db.transaction(() => promptIds.reduce((count, id) => count + remove.run(id).changes, 0))();
  }

  clearPending(): number {
    return this.db.prepare('DELETE FROM queue WHERE running = 0').run().changes;
  }

  /** The newest `maxItems` entries (skipping `offset` newer ones), oldest first, as ComfyUI lists them. */
  history(maxItems?: number, offset = 0): Record<string, HistoryEntry> {
    const rows = this.db
      .prepare('SELECT prompt_id, entry FROM history ORDER BY seq DESC LIMIT ? OFFSET ?')
      .all(maxItems ?? -1, offset) as { prompt_id: string; entry: string }[];
    return Object.fromEntries(rows.reverse().map((row) => [row.prompt_id, JSON.parse(row.entry)]));
  }

  historyEntry(promptId: string): HistoryEntry | undefined {
    const row = this.db.prepare('SELECT entry FROM history WHERE prompt_id = ?').get(promptId) as { entry: string } | undefined;
    return row ? JSON.parse(row.entry) : undefined;
  }

  deleteHistory(promptIds: string[]): number {
    const remove = this.db.prepare('DELETE FROM history WHERE prompt_id = ?');
    return this.db.transaction(() => promptIds.reduce((count, id) => count + remove.run(id).changes, 0))();
  }

  clearHistory(): number {
    return this.db.prepare('DELETE FROM history').run().changes;
  }
}
