/**
 * Working directories: each agent has one, a child's lies inside its
 * parent's, and nothing changes the process-wide one.
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { BadArgumentError } from '../errors.js';

/** The real path (symbolic links resolved) of an existing directory; a clear error for anything else. */
export function realDirectory(field: string, given: unknown): string {
  if (typeof given !== 'string' || given.trim() === '') throw new BadArgumentError(field, 'the path of an existing directory', given);
  let real: string;
  try {
    real = realpathSync(given);
  } catch {
    throw new BadArgumentError(field, 'the path of an existing directory', given);
  }
  if (!statSync(real).isDirectory()) throw new BadArgumentError(field, 'the path of a directory, not a file', given);
  return real;
}

/** True when `inner` is `outer` or lies below it (both absolute, resolved). */
export function isInside(outer: string, inner: string): boolean {
  const relative = path.relative(outer, inner);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * A child's working directory: `requested` (relative to the parent's, or
 * absolute), which must be an existing directory inside the parent's;
 * without one, the parent's.
 *
 * @throws {BadArgumentError} naming `field` when it is not a directory or lies outside the parent's.
 */
export function childWorkingDirectory(parentCwd: string, requested: string | undefined, field: string): string {
  if (requested === undefined) return parentCwd;
  if (typeof requested !== 'string' || requested.trim() === '') throw new BadArgumentError(field, 'a directory path', requested);
  const real = realDirectory(field, path.resolve(parentCwd, requested));
  if (!isInside(parentCwd, real)) {
    throw new BadArgumentError(field, `a directory inside the parent agent's working directory \`${parentCwd}\``, requested);
  }
  return real;
}
