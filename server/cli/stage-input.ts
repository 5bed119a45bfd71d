// Puts a file or folder the user named on the command line where the loader nodes look: directly in the
// input folder (their combos list only its top level). Something already there is used in place;
// anything else is copied in without overwriting, as an upload would be: the same name with the same
// content is reused, other content gets `name (1).ext`. The user's own files are only read.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { constants, copyFile, link, mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileFingerprint, folderFingerprint } from '../file-identity.ts';
import { IMAGE_EXTENSIONS, listInputFiles } from '../../nodes/support/input-files.ts';

export type StagedKind = 'file' | 'folder';

export interface Staged {
  /** The name inside the input folder, for the loader node's combo. */
  name: string;
  /** in-place: it already was in the input folder; copied: copied in now; reused: a copy with the same content was there. */
  how: 'in-place' | 'copied' | 'reused';
}

/** `clip.mp4`, `clip (1).mp4`, … (folders keep any dot in their name). */
function numberedName(name: string, attempt: number, kind: StagedKind): string {
  if (attempt === 0) return name;
  const ext = kind === 'file' ? path.extname(name) : '';
  return `${name.slice(0, name.length - ext.length)} (${attempt})${ext}`;
}

/** A folder's content as the image-sequence loader sees it: its images, by name and bytes. */
function imagesFingerprint(folder: string): Promise<string> {
  return folderFingerprint(folder, listInputFiles(folder, IMAGE_EXTENSIONS));
}

async function sameContent(source: string, target: string, kind: StagedKind): Promise<boolean> {
  const info = await stat(target).catch(() => null);
  if (kind === 'file') return !!info?.isFile() && (await fileFingerprint(target)) === (await fileFingerprint(source));
  return !!info?.isDirectory() && (await imagesFingerprint(target)) === (await imagesFingerprint(source));
}

/** Copies next to the target, then links or renames it into place in one step; false when the target exists. */
async function place(source: string, target: string, kind: StagedKind): Promise<boolean> {
  const partial = path.join(path.dirname(target), `.${randomUUID()}.part`);
  try {
    if (kind === 'file') {
      await copyFile(source, partial, constants.COPYFILE_FICLONE);
      await link(partial, target).catch((error: NodeJS.ErrnoException) => {
        // Filesystems without hard links (exFAT, some network mounts): an exclusive copy, still never overwriting.
        if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(error.code ?? '')) throw error;
        return copyFile(partial, target, constants.COPYFILE_EXCL);
      });
    } else {
      await mkdir(partial);
      for (const name of listInputFiles(source, IMAGE_EXTENSIONS)) await copyFile(path.join(source, name), path.join(partial, name), constants.COPYFILE_FICLONE);
      // Replaces only an empty folder; a folder with files in it (or a file) makes this fail.
      await rename(partial, target);
    }
    return true;
  } catch (error) {
    if (['EEXIST', 'ENOTEMPTY', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return false;
    throw error;
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** `source` must exist and be of the kind given. */
export async function stageIntoInput(source: string, inputFolder: string, kind: StagedKind): Promise<Staged> {
  await mkdir(inputFolder, { recursive: true });
  const [realSource, realInput] = await Promise.all([realpath(source), realpath(inputFolder)]);
  const name = path.basename(realSource);
  if (path.dirname(realSource) === realInput) return { name, how: 'in-place' };
  for (let attempt = 0; ; attempt++) {
    const candidate = numberedName(name, attempt, kind);
    const target = path.join(realInput, candidate);
    if (!existsSync(target) && (await place(realSource, target, kind))) return { name: candidate, how: 'copied' };
    if (await sameContent(realSource, target, kind)) return { name: candidate, how: 'reused' };
  }
}
