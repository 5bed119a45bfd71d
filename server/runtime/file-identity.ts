// Content identity of model files: a SHA-256 of the bytes, remembered by path, size and mtime so a
// multi-gigabyte UNet is hashed once, not on every run. Folder hashes also keep what they learned in a
// dot-file inside the folder (left out of the hash), so a new process does not re-hash either.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface Remembered {
  size: number;
  mtimeMs: number;
  hash: string;
}

const remembered = new Map<string, Remembered>();
const CHUNK = 8 * 1024 * 1024;

/** SHA-256 (hex) of a file's contents, memoised by path + size + mtime. */
export function fileContentHash(file: string): string {
  const resolved = path.resolve(file);
  const { size, mtimeMs } = statSync(resolved);
  const known = remembered.get(resolved);
  if (known && known.size === size && known.mtimeMs === mtimeMs) return known.hash;
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  const fd = openSync(resolved, 'r');
  try {
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  const digest = hash.digest('hex');
  remembered.set(resolved, { size, mtimeMs, hash: digest });
  return digest;
}

const MEMO_FILE = '.limelight-hashes.json';
const recalled = new Set<string>();

function recallMemo(dir: string): void {
  const file = path.join(dir, MEMO_FILE);
  if (recalled.has(file)) return;
  recalled.add(file);
  if (!existsSync(file)) return;
  try {
    const entries = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Remembered>;
    for (const [relative, entry] of Object.entries(entries)) {
      const absolute = path.resolve(dir, relative);
      if (!remembered.has(absolute)) remembered.set(absolute, entry);
    }
  } catch {
    // A damaged memo only costs a re-hash.
  }
}

function keepMemo(dir: string, relatives: readonly string[]): void {
  const entries = Object.fromEntries(relatives.map((relative) => [relative, remembered.get(path.resolve(dir, relative))]));
  try {
    writeFileSync(path.join(dir, MEMO_FILE), JSON.stringify(entries));
  } catch {
    // A read-only model folder is hashed again by the next process.
  }
}

/** Identity of a folder's files (recursive, sorted by relative path; dot-files and dot-folders left out). */
export function folderContentHash(dir: string): string {
  recallMemo(dir);
  const relatives = listFiles(dir);
  const before = relatives.map((relative) => remembered.get(path.resolve(dir, relative)));
  const hash = createHash('sha256');
  for (const relative of relatives) hash.update(`${relative}\0${fileContentHash(path.join(dir, relative))}\n`);
  if (relatives.some((relative, i) => remembered.get(path.resolve(dir, relative)) !== before[i])) keepMemo(dir, relatives);
  return hash.digest('hex');
}

/** Total bytes of the regular files in a folder (recursive). */
export function folderBytes(dir: string): number {
  return listFiles(dir).reduce((sum, relative) => sum + statSync(path.join(dir, relative)).size, 0);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .filter((relative) => !relative.split(path.sep).some((segment) => segment.startsWith('.')))
    .sort();
}
