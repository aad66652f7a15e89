/**
 * Where the file tools may go: paths are relative to the calling agent's
 * working directory (`ToolContext.cwd`) and stay inside it, as written and
 * once symbolic links are followed; an optional root bounds every working
 * directory the tools accept.
 */
import { realpathSync, statSync } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { BadArgumentError } from '../errors.js';
import { isInsideDirectory } from '../paths.js';

/** A path inside the working directory: as the model should see it, and where it really is. */
export interface Target {
  /** Relative to the working directory, with `/` separators; `.` for the directory itself. */
  shown: string;
  /** Absolute, symbolic links resolved. */
  real: string;
}

/** The real path of an existing directory given as a tool option; a clear error otherwise. */
export function resolveRoot(root: unknown, field = 'root'): string {
  if (typeof root !== 'string' || root.trim() === '') throw new BadArgumentError(field, 'a directory path', root);
  let real: string;
  try {
    real = realpathSync(path.resolve(root));
  } catch {
    throw new BadArgumentError(field, 'an existing directory', root);
  }
  if (!statSync(real).isDirectory()) throw new BadArgumentError(field, 'a directory, not a file', root);
  return real;
}

/**
 * The calling agent's working directory, real, checked against the tools'
 * root when they have one. A caller without one (a tool called by hand)
 * works in the root, else in the process's working directory.
 */
export async function workingDirectoryOf(cwd: string | undefined, root: string | null): Promise<string> {
  const given = typeof cwd === 'string' && cwd !== '' ? cwd : (root ?? process.cwd());
  let real: string;
  try {
    real = await realpath(given);
  } catch {
    throw new Error(`Your working directory \`${given}\` does not exist`);
  }
  if (root !== null && !isInsideDirectory(root, real)) {
    throw new Error(`Your working directory \`${given}\` is outside \`${root}\`, the only directory these file tools work in`);
  }
  return real;
}

export const toShown = (relative: string) => (relative === '' ? '.' : relative.split(path.sep).join('/'));

/** The path as the model wrote it, checked for the forms that are never allowed: absolute, or with a NUL. */
function writtenPath(requested: string): string {
  const written = requested.trim() === '' ? '.' : requested.trim();
  if (written.includes('\0')) throw new Error('The path contains a NUL character');
  if (path.isAbsolute(written) || path.win32.isAbsolute(written)) {
    throw new Error(`\`${written}\` is an absolute path; give a path relative to your working directory, for example \`src/index.ts\``);
  }
  return written;
}

/**
 * Resolves a path the model gave, relative to `base`, and checks that it
 * stays inside `base` both as written and once symbolic links are followed.
 */
export async function confine(base: string, requested: string): Promise<Target> {
  const written = writtenPath(requested);
  const absolute = path.resolve(base, written);
  if (!isInsideDirectory(base, absolute)) throw new Error(`\`${written}\` leads outside your working directory; paths must stay inside it`);
  let real: string;
  try {
    real = await realpath(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`\`${written}\` does not exist; use list_files to see what does`);
    throw error;
  }
  if (!isInsideDirectory(base, real)) throw new Error(`\`${written}\` is a symbolic link that leads outside your working directory; it is not followed`);
  return { shown: toShown(path.relative(base, absolute)), real };
}

/**
 * A file to write, which may not exist yet: its path must stay inside
 * `base` as written, and the deepest part of it that exists must be inside
 * once links are followed (a link inside that leads out is refused). Returns
 * where to write (links resolved) and the directories still to make.
 */
export async function confineForWrite(base: string, requested: string): Promise<Target> {
  const written = writtenPath(requested);
  const absolute = path.resolve(base, written);
  if (absolute === base || !isInsideDirectory(base, absolute)) {
    throw new Error(`\`${written}\` ${absolute === base ? 'is your working directory, not a file' : 'leads outside your working directory; paths must stay inside it'}`);
  }
  // Walk up to the deepest part that exists; what is below it is made by the write.
  let existing = absolute;
  const missing: string[] = [];
  for (;;) {
    try {
      existing = await realpath(existing);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // A link whose target does not exist: writing through it would create its target, wherever that is.
      if (await lstat(existing).then(() => true, () => false)) {
        throw new Error(`\`${written}\` goes through a symbolic link to a missing target; it is not followed`);
      }
      missing.unshift(path.basename(existing));
      existing = path.dirname(existing);
    }
  }
  if (!isInsideDirectory(base, existing)) throw new Error(`\`${written}\` goes through a symbolic link that leads outside your working directory; it is not followed`);
  return { shown: toShown(path.relative(base, absolute)), real: path.join(existing, ...missing) };
}
