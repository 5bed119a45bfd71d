// Content identity of the files the cache keys and sessions depend on (videos, images, model weights):
// a SHA-256 of the bytes, remembered by path + size + modification time so a multi-gigabyte file is
// hashed once, not on every run, and hashed by streaming so the event loop keeps serving meanwhile.
// Model folders also keep what they learned in a dot-file inside the folder (left out of the hash),
// so a new process does not re-hash the weights either.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PromiseMemo } from './promise-memo.ts';

interface Remembered {
  size: number;
  mtimeMs: number;
  hash: string;
}

const MEMO_FILE = '.limelight-hashes.json';
const memo = new PromiseMemo<string>();
/** Per folder: what its memo file holds (as read, or as last written by this process). */
const folderMemos = new Map<string, Record<string, Remembered>>();

/** A file's version for memos: its path, size and modification time. */
export const fileVersionKey = (file: string, { size, mtimeMs }: { size: number; mtimeMs: number }) => `${path.resolve(file)}\0${size}\0${mtimeMs}`;

/** SHA-256 (hex) of a file's contents; `missing:<path>` when it does not exist (the node's execute reports that). */
export async function fileFingerprint(file: string): Promise<string> {
  const stats = await stat(file).catch(() => null);
  return stats ? fingerprintOf(file, stats) : `missing:${file}`;
}

function fingerprintOf(file: string, { size, mtimeMs }: { size: number; mtimeMs: number }): Promise<string> {
  return memo.get(fileVersionKey(file, { size, mtimeMs }), () => hashFile(file));
}

export interface FolderIdentity {
  fingerprint: string;
  /** Total bytes of the files it covers. */
  bytes: number;
}

/**
 * Identity of a folder: its files' names and contents, in order. Without `names`, every file
 * (recursive, dot-files and dot-folders left out) — a model folder — and the hashes are remembered in
 * the folder so the next process reads them instead of re-hashing the weights. One stat per file when
 * nothing changed, so checking a model before each run stays cheap.
 */
export async function folderIdentity(folder: string, names?: readonly string[]): Promise<FolderIdentity> {
  const known = names === undefined ? await recallMemo(folder) : undefined;
  const files = names ?? (await listFiles(folder));
  const hash = createHash('sha256');
  const learned: Record<string, Remembered> = {};
  let bytes = 0;
  for (const name of files) {
    const file = path.join(folder, name);
    const stats = await stat(file).catch(() => null);
    let fingerprint = `missing:${file}`;
    if (stats) {
      fingerprint = await fingerprintOf(file, stats);
      learned[name] = { size: stats.size, mtimeMs: stats.mtimeMs, hash: fingerprint };
      bytes += stats.size;
    }
    hash.update(`${name}\0${fingerprint}\0`);
  }
  if (known && !sameEntries(known, learned)) await keepMemo(folder, learned);
  return { fingerprint: hash.digest('hex'), bytes };
}

export async function folderFingerprint(folder: string, names?: readonly string[]): Promise<string> {
  return (await folderIdentity(folder, names)).fingerprint;
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The folder's memo file, read once per process; its hashes seed the memo. */
async function recallMemo(folder: string): Promise<Record<string, Remembered>> {
  let entries = folderMemos.get(folder);
  if (entries) return entries;
  try {
    entries = JSON.parse(await readFile(path.join(folder, MEMO_FILE), 'utf8')) as Record<string, Remembered>;
    for (const [name, entry] of Object.entries(entries)) {
      const key = fileVersionKey(path.join(folder, name), entry);
      memo.seed(key, entry.hash);
    }
  } catch {
    entries = {}; // no memo yet, or a damaged one: that only costs a re-hash
  }
  folderMemos.set(folder, entries);
  return entries;
}

function sameEntries(a: Record<string, Remembered>, b: Record<string, Remembered>): boolean {
  const names = Object.keys(b);
  return (
    names.length === Object.keys(a).length &&
    names.every((name) => a[name]?.size === b[name].size && a[name]?.mtimeMs === b[name].mtimeMs && a[name]?.hash === b[name].hash)
  );
}

async function keepMemo(folder: string, entries: Record<string, Remembered>): Promise<void> {
  folderMemos.set(folder, entries);
  try {
    await writeFile(path.join(folder, MEMO_FILE), JSON.stringify(entries));
  } catch {
    // A read-only model folder is hashed again by the next process.
  }
}

async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)))
    .filter((relative) => !relative.split(path.sep).some((segment) => segment.startsWith('.')))
    .sort();
}
