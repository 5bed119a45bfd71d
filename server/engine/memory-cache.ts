// The memory tier: least-recently-used entries under a byte budget.
import type { MutationGuard } from './cached-values.ts';

export interface CacheEntry {
  outputs: readonly unknown[];
  ui?: Record<string, unknown>;
  bytes: number;
  guard: MutationGuard;
}

export class MemoryCache {
  private readonly entries = new Map<string, CacheEntry>();
  private total = 0;

  constructor(private budgetBytes: number) {}

  get(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Stores the entry unless it alone exceeds the budget; evicts the least recently used to make room. */
  set(key: string, entry: CacheEntry): boolean {
    this.delete(key);
    if (entry.bytes > this.budgetBytes) return false;
    this.entries.set(key, entry);
    this.total += entry.bytes;
    this.evictTo(this.budgetBytes);
    return true;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
  }

  setBudget(bytes: number): void {
    this.budgetBytes = bytes;
    this.evictTo(bytes);
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  stats(): { entries: number; bytes: number; budgetBytes: number } {
    return { entries: this.entries.size, bytes: this.total, budgetBytes: this.budgetBytes };
  }

  private evictTo(limit: number): void {
    for (const [key] of this.entries) {
      if (this.total <= limit) break;
      this.delete(key);
    }
  }
}
