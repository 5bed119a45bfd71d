// The disk tier: outputs of nodes that declare `persist`, kept across restarts under a size cap.
// One file per key, written to a temporary name and renamed, so a crash never leaves a half entry;
// reading an entry touches its time so eviction removes the least recently used first.
import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { decodeValue, encodeParts } from './serialize.ts';

export interface DiskEntry {
  outputs: unknown[];
  ui?: Record<string, unknown>;
}

const EXTENSION = '.llc';

export class DiskCache {
  constructor(
    readonly dir: string,
    private capBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private file(key: string): string {
    return path.join(this.dir, `${key}${EXTENSION}`);
  }

  async has(key: string): Promise<boolean> {
    return stat(this.file(key)).then(
      () => true,
      () => false,
    );
  }

  async get(key: string): Promise<DiskEntry | undefined> {
    const file = this.file(key);
    try {
      const entry = decodeValue(await readFile(file)) as DiskEntry;
      const now = new Date();
      await utimes(file, now, now).catch(() => {});
      return entry;
    } catch {
      await rm(file, { force: true });
      return undefined;
    }
  }

  /**
   * Writes the entry piece by piece (no copy of the frames, so the event loop is not held up);
   * throws NotPersistableError when the value is not plain data.
   */
  async set(key: string, entry: DiskEntry): Promise<void> {
    const { chunks, byteLength } = encodeParts(entry);
    if (byteLength > this.capBytes) return;
    const temporary = `${this.file(key)}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writev(chunks);
    } finally {
      await handle.close();
    }
    await rename(temporary, this.file(key));
    await this.evictTo(this.capBytes);
  }

  async clear(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (name.endsWith(EXTENSION)) await rm(path.join(this.dir, name), { force: true });
    }
  }

  async stats(): Promise<{ entries: number; bytes: number; capBytes: number }> {
    const files = await this.list();
    return { entries: files.length, bytes: files.reduce((sum, f) => sum + f.size, 0), capBytes: this.capBytes };
  }

  private async list(): Promise<{ file: string; size: number; time: number }[]> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith(EXTENSION));
    const files = await Promise.all(
      names.map(async (name) => {
        const file = path.join(this.dir, name);
        const info = await stat(file).catch(() => null);
        return info ? { file, size: info.size, time: info.mtimeMs } : null;
      }),
    );
    return files.filter((f): f is NonNullable<typeof f> => f !== null);
  }

  private async evictTo(limit: number): Promise<void> {
    const files = (await this.list()).sort((a, b) => a.time - b.time);
    let total = files.reduce((sum, f) => sum + f.size, 0);
    for (const f of files) {
      if (total <= limit) break;
      await rm(f.file, { force: true });
      total -= f.size;
    }
  }
}
