// Whether a path stays inside a folder once symlinks are followed: the one check behind reading
// user-named files (uploads, /view) and writing outputs (a prefix like `linkdir/x`, where
// `linkdir` is a link leading out, must not write outside).
import { realpathSync } from 'node:fs';
import path from 'node:path';

/** `candidate` is `root` or below it, compared as written (no symlinks followed). */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/** The real path of `target`, or of its deepest existing ancestor joined with the rest (for files not yet written). */
export function realpathOfExisting(target: string): string {
  const missing: string[] = [];
  let current = target;
  for (;;) {
    try {
      return path.join(realpathSync(current), ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) throw error;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

/** `target` (which may not exist yet) stays inside `root` after following every symlink on the way. */
export function staysInside(root: string, target: string): boolean {
  const resolvedRoot = path.resolve(root);
  const resolvedTarget = path.resolve(resolvedRoot, target);
  return isInside(resolvedRoot, resolvedTarget) && isInside(realpathOfExisting(resolvedRoot), realpathOfExisting(resolvedTarget));
}
