/** Path checks shared by the file tools, working directories and worktrees. */
import path from 'node:path';

/**
 * True when `inner` is `outer` or lies below it. Both absolute and resolved
 * the same way (both real paths, or both as written).
 *
 * @example
 * ```ts
 * isInsideDirectory('/repo', '/repo/src'); // true
 * isInsideDirectory('/repo', '/repository'); // false
 * ```
 */
export function isInsideDirectory(outer: string, inner: string): boolean {
  const relative = path.relative(outer, inner);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}
