// Output file naming: `<prefix>_00001.<ext>`, counting up, never overwriting an existing file, and
// never outside the folder (a prefix through a symlink leading out is refused).
import { mkdir, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { NodeInputError } from '../errors.ts';
import { staysInside } from './inside-folder.ts';

export interface OutputFileRef {
  filename: string;
  subfolder: string;
  type: 'output' | 'temp';
}

export interface ReservedFile {
  path: string;
  ref: OutputFileRef;
}

/** Splits a prefix like `clips/take` into a safe subfolder and a base name; refuses escapes. */
export function parsePrefix(prefix: string): { subfolder: string; base: string } {
  const cleaned = prefix.trim().replace(/\\/g, '/');
  if (cleaned === '' || cleaned.includes('\0')) throw new Error('the filename prefix is empty or holds a NUL byte');
  if (cleaned.startsWith('/') || /^[a-zA-Z]:/.test(cleaned)) {
    throw new Error(`the filename prefix "${prefix}" is an absolute path; give a name inside the output folder`);
  }
  const parts = cleaned.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`the filename prefix "${prefix}" leaves the output folder ("..")`);
  const base = parts.pop() ?? 'limelight';
  return { subfolder: parts.join('/'), base };
}

/**
 * Checks a prefix against the folder it writes into: its syntax, and that no symlink on its way leads
 * out of the folder. Throws a user-facing message; validation calls it before anything runs.
 */
export function checkPrefix(root: string, prefix: string, type: OutputFileRef['type'] = 'output'): { subfolder: string; base: string } {
  const parsed = parsePrefix(prefix);
  if (!staysInside(root, path.join(parsed.subfolder, parsed.base))) {
    throw new Error(`the filename prefix "${prefix}" goes through a link leading out of the ${type} folder; files are written only inside it, so pick another prefix`);
  }
  return parsed;
}

/** For an output node's `validate`: refuses a literal `filename_prefix` that cannot be written, naming that input. */
export function validateOutputPrefix(root: string, prefix: string | undefined): null {
  if (prefix === undefined) return null; // linked: checked when the node runs
  try {
    checkPrefix(root, prefix);
  } catch (error) {
    throw new NodeInputError('filename_prefix', (error as Error).message);
  }
  return null;
}

/**
 * Reserves the next free `<base>_NNNNN<ext>` in the folder by creating it exclusively, so two
 * writers never get the same name. Returns the path (an empty file the caller then overwrites).
 */
export async function reserveOutputFile(
  root: string,
  prefix: string,
  ext: string,
  type: OutputFileRef['type'] = 'output',
): Promise<ReservedFile> {
  const { subfolder, base } = checkPrefix(root, prefix, type);
  const dir = path.join(root, subfolder);
  await mkdir(dir, { recursive: true });
  const pattern = new RegExp(`^${escapeRegExp(base)}_(\\d{5,})[._]`);
  let next = 1;
  for (const name of await readdir(dir)) {
    const match = pattern.exec(name);
    if (match) next = Math.max(next, Number(match[1]) + 1);
  }
  for (;; next++) {
    const filename = `${base}_${String(next).padStart(5, '0')}${ext}`;
    const file = path.join(dir, filename);
    try {
      const handle = await open(file, 'wx');
      await handle.close();
      return { path: file, ref: { filename, subfolder, type } };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
