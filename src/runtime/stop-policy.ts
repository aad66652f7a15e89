/** The stop policy of a child: its values and their one check. */
import { BadArgumentError } from '../errors.js';
import type { OnParentStop } from '../types.js';

/** What a child may do when its parent is stopped. */
export const STOP_POLICIES: readonly OnParentStop[] = ['cascade', 'detach'];

/** The policy when nobody sets one: a parent's stop stops its children. */
export const DEFAULT_ON_PARENT_STOP: OnParentStop = 'cascade';

/**
 * Checks an optional stop policy; `undefined` stays `undefined` (the caller
 * falls back to the next default).
 *
 * @throws {BadArgumentError} naming `field` for anything but `'cascade'`, `'detach'` or `undefined`.
 * @example
 * ```ts
 * checkOnParentStop('detach', 'onParentStop'); // 'detach'
 * ```
 */
export function checkOnParentStop(value: unknown, field: string): OnParentStop | undefined {
  if (value === undefined || (STOP_POLICIES as readonly unknown[]).includes(value)) return value as OnParentStop | undefined;
  throw new BadArgumentError(field, `one of ${STOP_POLICIES.map((policy) => `'${policy}'`).join(', ')}`, value);
}
