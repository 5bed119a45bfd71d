// Content identity of input files for the cache key: a SHA-256 of the bytes, remembered per
// path + size + modification time so a large video is hashed once, not on every run.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

const memo = new Map<string, Promise<string>>();

export async function fileFingerprint(file: string): Promise<string> {
  let stats;
  try {
    stats = await stat(file);
  } catch {
    return `missing:${file}`;
  }
  const key = `${file}\0${stats.size}\0${stats.mtimeMs}`;
  let hash = memo.get(key);
  if (!hash) {
    hash = hashFile(file);
    memo.set(key, hash);
    hash.catch(() => memo.delete(key));
  }
  return hash;
}

/** A folder of images is identified by its files' names and contents, in order. */
export async function folderFingerprint(folder: string, names: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const name of names) hash.update(`${name}\0${await fileFingerprint(path.join(folder, name))}\0`);
  return hash.digest('hex');
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
