/** What every handle holds for its whole life, kept small: shared where handles are alike, in shapes V8 shares. */
import type { AnyActorRef } from 'xstate';
import type { HandleSetup } from '../types.js';

/** Arrays of the same length and the same elements (by identity). */
function sameElements(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}

/** Equal setups: the same fields, each the same value or an array of the same elements. */
function sameSetup(a: HandleSetup, b: HandleSetup): boolean {
  const keys = Object.keys(a) as Array<keyof HandleSetup>;
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    const [left, right] = [a[key], b[key]];
    if (left === right) continue;
    if (!Array.isArray(left) || !Array.isArray(right) || !sameElements(left, right)) return false;
  }
  return true;
}

/**
 * Handles spawned alike (the same options, no goal of their own) get equal
 * setups, each with its own copy of the same system prompt and lists: most of
 * what an idle handle holds. The returned function gives back the last setup
 * it kept when the new one equals it, so alike handles share one object. A
 * setup is plain data never changed after spawn, so sharing it is safe.
 */
export function setupSharing(): (setup: HandleSetup | null) => HandleSetup | null {
  let last: HandleSetup | null = null;
  return (setup) => {
    if (setup === null) return null;
    if (last !== null && (last === setup || sameSetup(last, setup))) return last;
    last = setup;
    return setup;
  };
}

/**
 * XState keeps each actor's options as `{ ...defaults, ...options }`; V8
 * gives every object made that way a hidden class of its own (its map and
 * descriptors: ~330 bytes per actor). The actor reads its options while it
 * is created and started only, so once started they are replaced by a copy
 * of the same fields, whose hidden class all copies share.
 */
export function compactActorOptions<T extends AnyActorRef>(ref: T): T {
  const actor = ref as unknown as { options?: unknown };
  if (typeof actor.options === 'object' && actor.options !== null) actor.options = Object.assign({}, actor.options);
  return ref;
}
