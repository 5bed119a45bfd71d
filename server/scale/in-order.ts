// Chunk results arrive in whatever order workers finish; the sinks take them in frame order.

export class InOrder<T> {
  private readonly early = new Map<number, T>();
  private next = 0;

  constructor(private readonly count: number) {}

  /** Takes result `index` (a repeat of one already taken is ignored) and returns the results now due, in order. */
  accept(index: number, value: T): T[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) throw new RangeError(`chunk ${index} is not one of 0…${this.count - 1}`);
    if (index < this.next || this.early.has(index)) return [];
    this.early.set(index, value);
    const due: T[] = [];
    while (this.early.has(this.next)) {
      due.push(this.early.get(this.next)!);
      this.early.delete(this.next++);
    }
    return due;
  }

  get done(): boolean {
    return this.next === this.count;
  }
}
