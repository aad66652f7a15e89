/**
 * Which handles an agent may operate on, and how a target it names (or
 * leaves out) becomes one of them. An agent sees only the handles it spawned;
 * any other id is unknown to it, whether or not it exists.
 */
import type { HandleSnapshot } from '../types.js';
import type { AgentToolsRuntime } from './agent-tool-settings.js';
import { AgentToolError } from '../toolkit/tool-error.js';

/** How many ids an error message lists at most. */
const LISTED_IDS = 20;

/**
 * The handles `caller` spawned, oldest first.
 *
 * @example
 * ```ts
 * ownHandles(runtime, null).map((handle) => handle.id); // the root agent's subagents
 * ```
 */
export function ownHandles(runtime: AgentToolsRuntime, caller: string | null): HandleSnapshot[] {
  return runtime.list({ parentId: caller });
}

/**
 * The handle `target` names among the caller's, or, when `target` is left
 * out, the caller's most recently updated open (not closed) handle.
 *
 * @throws {AgentToolError} `unknown_handle` for an id that is not one of the
 * caller's; `no_open_handle` when the target is left out and none is open.
 * @example
 * ```ts
 * resolveTarget(runtime, context.handleId, args.target).id;
 * ```
 */
export function resolveTarget(
  runtime: AgentToolsRuntime,
  caller: string | null,
  target: string | undefined,
  field = 'target',
): HandleSnapshot {
  const own = ownHandles(runtime, caller);
  if (target === undefined) {
    const latest = mostRecentlyUpdatedOpen(own);
    if (latest) return latest;
    const closed = own.length;
    throw new AgentToolError(
      'no_open_handle',
      field,
      `Expected \`${field}\` to name one of your subagents: it is missing and none is open to default to ` +
        (closed === 0 ? '(you have spawned none). ' : `(all ${closed} of yours are closed: ${listIds(own)}). `) +
        'Name one, or start a subagent with spawn_agent or delegate_task.',
    );
  }
  const found = own.find((handle) => handle.id === target);
  if (found) return found;
  throw new AgentToolError(
    'unknown_handle',
    field,
    `Expected \`${field}\` to be the id of a subagent you spawned, got \`${target}\` ` +
      (own.length === 0 ? '(you have spawned none).' : `(yours: ${listIds(own)}).`),
  );
}

/** The open handle updated last (by revision: every change of every handle has its own). */
export function mostRecentlyUpdatedOpen(handles: readonly HandleSnapshot[]): HandleSnapshot | undefined {
  let latest: HandleSnapshot | undefined;
  for (const handle of handles) {
    if (handle.closed) continue;
    if (!latest || handle.revision > latest.revision) latest = handle;
  }
  return latest;
}

/** Whether `id` or any handle below it is running. */
export function subtreeIsRunning(runtime: AgentToolsRuntime, id: string): boolean {
  const all = runtime.list();
  const children = new Map<string, string[]>();
  for (const handle of all) {
    if (handle.parentId === null) continue;
    const siblings = children.get(handle.parentId) ?? [];
    siblings.push(handle.id);
    children.set(handle.parentId, siblings);
  }
  const running = new Set(all.filter((handle) => handle.status === 'running').map((handle) => handle.id));
  const stack = [id];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    if (running.has(current)) return true;
    stack.push(...(children.get(current) ?? []));
  }
  return false;
}

function listIds(handles: readonly HandleSnapshot[]): string {
  const ids = handles.map((handle) => `${handle.id} (${handle.status})`);
  return ids.length > LISTED_IDS ? `${ids.slice(0, LISTED_IDS).join(', ')}, … ${ids.length - LISTED_IDS} more` : ids.join(', ');
}
