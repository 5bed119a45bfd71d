// Work done once per key while it succeeds: concurrent callers share the pending promise, and a failure
// is forgotten, so the next call tries again.
export class PromiseMemo<T> {
  private readonly entries = new Map<string, Promise<T>>();

  get(key: string, make: () => Promise<T>): Promise<T> {
    let value = this.entries.get(key);
    if (!value) {
      value = make();
      this.entries.set(key, value);
      value.catch(() => this.entries.delete(key));
    }
    return value;
  }

  /** Records a value known from elsewhere (e.g. read from disk), unless the key is already there. */
  seed(key: string, value: T): void {
    if (!this.entries.has(key)) this.entries.set(key, Promise.resolve(value));
  }
}
