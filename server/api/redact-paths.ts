// Server paths never leave the server in a response: error messages, validation details, tracebacks
// and the history name files by their folder (`input/clip.mp4`) or, for anything else, by their last
// part (`…/ffmpeg`), so a client learns nothing about the machine's layout.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { Folders } from '../config.ts';

export type Redactor = (text: string) => string;

const QUOTED_PATH = /(['"`])((?:\/|[A-Za-z]:[\\/])[^'"`\n]*)\1/g;
/** An absolute path of at least two parts, starting a word (after a space, bracket, `=`, `,` or `:`). */
const BARE_PATH = /(^|[\s([=,:])((?:\/|[A-Za-z]:[\\/])(?:[^\s'"`()[\],:\\/]+[\\/])+[^\s'"`()[\],:]*)/g;

function lastPart(file: string): string {
  const name = file.split(/[\\/]/).filter(Boolean).pop();
  return name ? `…/${name}` : '…';
}

function realpathOr(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** Replaces the folders' paths by their names, then any other absolute path by `…/<last part>`. */
export function pathRedactor(folders: Folders): Redactor {
  const roots = Object.entries(folders)
    .flatMap(([name, dir]) => [...new Set([path.resolve(dir), realpathOr(path.resolve(dir))])].map((root) => ({ root, name })))
    .sort((a, b) => b.root.length - a.root.length);
  return (text) => {
    let result = text;
    for (const { root, name } of roots) result = result.split(root).join(name);
    return result.replace(QUOTED_PATH, (_m, quote: string, file: string) => `${quote}${lastPart(file)}${quote}`).replace(BARE_PATH, (_m, before: string, file: string) => `${before}${lastPart(file)}`);
  };
}

/** The value with every string in it redacted (for JSON bodies and events). */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, redact)])) as T;
  }
  return value;
}
