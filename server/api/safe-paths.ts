// Resolving user-given (folder type, subfolder, filename) triples to paths that stay inside the
// server's folders: no `..`, no absolute paths, no NUL bytes, no symlink leading out.
import path from 'node:path';
import { isInside, staysInside } from '../media/inside-folder.ts';
import { HttpError } from './http-error.ts';
import type { Folders } from '../config.ts';

export const FILE_FOLDER_TYPES = ['input', 'output', 'temp'] as const;
export type FileFolderType = (typeof FILE_FOLDER_TYPES)[number];

export function folderType(value: unknown, fallback: FileFolderType): FileFolderType {
  if (value === undefined || value === '') return fallback;
  if (typeof value === 'string' && (FILE_FOLDER_TYPES as readonly string[]).includes(value)) return value as FileFolderType;
  throw new HttpError(400, 'invalid_type', `type "${String(value)}" is not a file folder; use one of ${FILE_FOLDER_TYPES.join(', ')}`);
}

/** A single file name: no separators, no `.`/`..`, no NUL, not empty, at most 255 bytes. */
export function checkFilename(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new HttpError(400, 'invalid_filename', 'the filename is missing or empty');
  if (name.includes('\0')) throw new HttpError(400, 'invalid_filename', 'the filename holds a NUL byte');
  if (/[/\\]/.test(name) || name === '.' || name === '..') {
    throw new HttpError(400, 'invalid_filename', `the filename "${name}" is a path; give a plain file name and put folders in "subfolder"`);
  }
  if (Buffer.byteLength(name) > 255) throw new HttpError(400, 'invalid_filename', 'the filename is longer than 255 bytes');
  return name;
}

/** A relative folder inside a root: `a/b` is fine, `../x`, `/etc` and `C:\x` are not. Returns `''` for none. */
export function checkSubfolder(subfolder: unknown): string {
  if (subfolder === undefined || subfolder === null || subfolder === '') return '';
  if (typeof subfolder !== 'string') throw new HttpError(400, 'invalid_subfolder', 'subfolder must be a string');
  if (subfolder.includes('\0')) throw new HttpError(400, 'invalid_subfolder', 'the subfolder holds a NUL byte');
  const cleaned = subfolder.replace(/\\/g, '/');
  if (cleaned.startsWith('/') || /^[a-zA-Z]:/.test(cleaned)) {
    throw new HttpError(400, 'invalid_subfolder', `subfolder "${subfolder}" is an absolute path; give a folder relative to the input, output or temp folder`);
  }
  const parts = cleaned.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new HttpError(400, 'invalid_subfolder', `subfolder "${subfolder}" leaves its folder ("..")`);
  return parts.join('/');
}

export interface ResolvedFile {
  type: FileFolderType;
  subfolder: string;
  filename: string;
  /** Absolute path, checked to stay inside the folder after following symlinks. */
  path: string;
}

/** Resolves and checks a file reference; throws HttpError 400 for bad names, 403 for a symlink leading out. */
export function resolveFile(folders: Folders, type: FileFolderType, subfolder: string, filename: string): ResolvedFile {
  const root = path.resolve(folders[type]);
  const target = path.resolve(root, subfolder, filename);
  if (!isInside(root, target)) throw new HttpError(400, 'invalid_path', 'the path leaves its folder');
  if (!staysInside(root, target)) {
    throw new HttpError(403, 'path_outside_folder', `"${path.posix.join(subfolder, filename)}" is a link to a place outside the ${type} folder; it is not served`);
  }
  return { type, subfolder, filename, path: target };
}
