// Files the user put in the input folder: listing them for combos, resolving a chosen name safely.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { NodeInputError } from '../../server/errors.ts';

export const VIDEO_EXTENSIONS = ['.mp4', '.mov', '.m4v', '.webm', '.mkv', '.avi', '.gif'];
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.tif', '.tiff'];

function entries(folder: string) {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
}

function hasExtension(name: string, extensions: readonly string[]): boolean {
  return extensions.includes(path.extname(name).toLowerCase());
}

/** Files directly in the folder with one of the extensions, sorted by name. */
export function listInputFiles(folder: string, extensions: readonly string[]): string[] {
  return entries(folder)
    .filter((entry) => entry.isFile() && hasExtension(entry.name, extensions))
    .map((entry) => entry.name)
    .sort();
}

/** Sub-folders holding at least one image (image sequences), sorted by name. */
export function listImageFolders(folder: string): string[] {
  return entries(folder)
    .filter((entry) => entry.isDirectory() && listInputFiles(path.join(folder, entry.name), IMAGE_EXTENSIONS).length > 0)
    .map((entry) => entry.name)
    .sort();
}

/** The path of a name chosen in a combo; refuses names that leave the input folder. Throws a user-facing message. */
export function resolveInputPath(folder: string, name: string, kind: 'file' | 'folder'): string {
  const root = path.resolve(folder);
  const resolved = path.resolve(root, name);
  if (name === '' || (resolved !== root && !resolved.startsWith(root + path.sep)) || resolved === root) {
    throw new Error(`"${name}" is not a ${kind} inside the input folder; pick one from the list or upload it`);
  }
  let stats;
  try {
    stats = statSync(resolved);
  } catch {
    throw new Error(`"${name}" was not found in the input folder (${root}); pick one from the list or upload it`);
  }
  if (kind === 'file' ? !stats.isFile() : !stats.isDirectory()) throw new Error(`"${name}" is not a ${kind}; pick one from the list`);
  return resolved;
}

/** For a node's `validate`: null when the chosen name resolves (or comes from a link), else the message. */
export function checkInputName(folder: string, name: string | undefined, kind: 'file' | 'folder'): string | null {
  if (name === undefined) return null;
  try {
    resolveInputPath(folder, name, kind);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** For a node's `execute`: the path, or an input error naming the node's input. */
export function inputPath(folder: string, name: string, inputName: string, kind: 'file' | 'folder'): string {
  try {
    return resolveInputPath(folder, name, kind);
  } catch (error) {
    throw new NodeInputError(inputName, (error as Error).message);
  }
}
