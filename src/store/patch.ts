/** Store patches: checked when written, applied when a record is read back or merged. */
import { BadArgumentError } from '../errors.js';
import type { StorePatch, StorePath } from './store-types.js';

type PlainObject = Record<string, unknown>;

const isPlainObject = (value: unknown): value is PlainObject => typeof value === 'object' && value !== null && !Array.isArray(value);

const isPath = (path: unknown): path is StorePath => Array.isArray(path) && path.length > 0 && path.every((key) => typeof key === 'string');

const isJsonValue = (value: unknown) => value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';

/** Throws unless `patch` is a patch of at least one change, each with a path and a plain-JSON value (or items). */
export function checkPatch(collection: string, key: string, patch: StorePatch): void {
  const where = `patch of ${collection}/${key}`;
  if (!isPlainObject(patch)) throw new BadArgumentError(where, 'an object with `set` and/or `append` lists', patch);
  const { set = [], append = [] } = patch;
  if (!Array.isArray(set) || !Array.isArray(append) || set.length + append.length === 0) {
    throw new BadArgumentError(where, 'at least one change in `set` or `append` (lists of [path, value])', patch);
  }
  for (const change of set) {
    if (!Array.isArray(change) || !isPath(change[0]) || !isJsonValue(change[1])) {
      throw new BadArgumentError(`${where}: set`, '[path, value]: a non-empty list of keys and a plain-JSON value', change);
    }
  }
  for (const change of append) {
    if (!Array.isArray(change) || !isPath(change[0]) || !Array.isArray(change[1]) || !change[1].every(isJsonValue)) {
      throw new BadArgumentError(`${where}: append`, '[path, items]: a non-empty list of keys and a list of plain-JSON values', change);
    }
  }
}

/** The object holding the last key of `path`, made along the way where a key is missing or not an object. */
function parentOf(root: PlainObject, path: StorePath): PlainObject {
  let node = root;
  for (let index = 0; index < path.length - 1; index += 1) {
    const key = path[index]!;
    const next = node[key];
    node = isPlainObject(next) ? next : (node[key] = {});
  }
  return node;
}

/**
 * Applies a patch to a value it owns (changed in place; a value that is not
 * an object is replaced by one) and returns the value. Any patch applies to
 * any value (see {@link StorePatch}).
 */
export function applyPatch(value: unknown, patch: StorePatch): unknown {
  const root = isPlainObject(value) ? value : {};
  for (const [path, next] of patch.set ?? []) parentOf(root, path)[path.at(-1)!] = next;
  for (const [path, items] of patch.append ?? []) {
    const parent = parentOf(root, path);
    const key = path.at(-1)!;
    const list = parent[key];
    if (Array.isArray(list)) for (const item of items) list.push(item);
    else parent[key] = [...items];
  }
  return root;
}
