// Output file naming: `<prefix>_00001.<ext>`, counting up, never overwriting an existing file.
import { mkdir, open, readdir } from 'node:fs/promises';
import path from 'node:path';

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
 * Reserves the next free `<base>_NNNNN<ext>` in the folder by creating it exclusively, so two
 * writers never get the same name. Returns the path (an empty file the caller then overwrites).
 */
export async function reserveOutputFile(
  root: string,
  prefix: string,
  ext: string,
  type: OutputFileRef['type'] = 'output',
): Promise<ReservedFile> {
  const { subfolder, base } = parsePrefix(prefix);
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
