// Undo/redo as a list of whole-graph JSON snapshots: simple, and immune to the bookkeeping bugs of
// per-operation undo. The editor records a snapshot after each user gesture; unchanged ones are ignored.
export class UndoHistory {
  readonly #past: string[] = [];
  readonly #future: string[] = [];
  #current: string | null = null;

  constructor(private readonly limit = 100) {}

  /** Starts over from this state (a workflow was loaded): nothing to undo. */
  reset(snapshot: string): void {
    this.#past.length = 0;
    this.#future.length = 0;
    this.#current = snapshot;
  }

  /** Records the state after a gesture. Returns false when nothing changed. */
  record(snapshot: string): boolean {
    if (snapshot === this.#current) return false;
    if (this.#current !== null) this.#past.push(this.#current);
    if (this.#past.length > this.limit) this.#past.shift();
    this.#future.length = 0;
    this.#current = snapshot;
    return true;
  }

  /** The state to restore, or null when there is nothing to undo. */
  undo(): string | null {
    const previous = this.#past.pop();
    if (previous === undefined || this.#current === null) return null;
    this.#future.push(this.#current);
    this.#current = previous;
    return previous;
  }

  redo(): string | null {
    const next = this.#future.pop();
    if (next === undefined) return null;
    if (this.#current !== null) this.#past.push(this.#current);
    this.#current = next;
    return next;
  }

  /** The state shown now (the latest recorded, undone to or redone to). */
  get current(): string | null {
    return this.#current;
  }

  get canUndo(): boolean {
    return this.#past.length > 0;
  }

  get canRedo(): boolean {
    return this.#future.length > 0;
  }
}
