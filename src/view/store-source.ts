/**
 * The view of a durable file store, read only: the tree it holds, read
 * without taking its lock (a running process may hold it), and read again
 * whenever its files change, so a running tree stays current.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { handleMachine } from '../machines/handle.js';
import { storedHandles } from '../runtime/durable-handles.js';
import type { StoredHandle } from '../runtime/durable-handles.js';
import { toHandleSnapshot } from '../runtime/snapshot.js';
import { readFileStore } from '../store/index.js';
import { noUsage, sumUsage } from '../usage.js';
import { activeStateIds } from './statechart.js';
import type { ViewDetail, ViewHandle, ViewSource, ViewState } from './view-types.js';

/** How often the store's files are looked at for changes. @default 500 */
export interface StoreSourceOptions {
  pollMs?: number;
}

/** Names, sizes and times of the files in a directory: changes when the store is written. */
function fingerprint(directory: string): string {
  try {
    return readdirSync(directory)
      .sort()
      .map((name) => {
        const stats = statSync(path.join(directory, name));
        return `${name}:${stats.size}:${stats.mtimeMs}`;
      })
      .join('|');
  } catch {
    return '';
  }
}

function viewHandleOf(stored: StoredHandle): ViewHandle {
  const snapshot = handleMachine.resolveState({ value: stored.state, context: stored.context });
  // A run in flight in another process: its times are that process's clock, its progress not ours to show.
  const handle = { ...toHandleSnapshot(snapshot), progress: null };
  const lastRun = stored.context.results.lastRun;
  return { snapshot: handle, state: stored.state, activeStates: activeStateIds(handleMachine.id, stored.state), cost: null, lastRunStartedAt: null, lastRunMs: lastRun?.durationMs ?? null };
}

/** Follows the store in `directory` until `close()`. */
export function storeSource(directory: string, options: StoreSourceOptions = {}): ViewSource {
  const listeners = new Set<() => void>();
  let stored: StoredHandle[] = storedHandles(readFileStore(directory));
  let seen = fingerprint(directory);
  const timer = setInterval(() => {
    const now = fingerprint(directory);
    if (now === seen) return;
    seen = now;
    stored = storedHandles(readFileStore(directory));
    for (const listener of listeners) listener();
  }, options.pollMs ?? 500);
  timer.unref();

  return {
    mode: 'store',
    state(): ViewState {
      const handles = stored.map(viewHandleOf);
      const usage = handles.reduce((sum, handle) => sumUsage(sum, handle.snapshot.usage), noUsage());
      return {
        mode: 'store',
        source: path.resolve(directory),
        totals: { usage, cost: null, handles: handles.length, running: handles.filter((handle) => handle.snapshot.status === 'running').length },
        handles,
        approvals: [],
      };
    },
    detail(id): ViewDetail | null {
      const found = stored.find((handle) => handle.context.spec.id === id);
      if (found === undefined) return null;
      const { results: { lastRun }, inputs: { queue } } = found.context;
      return {
        handle: viewHandleOf(found),
        queue: queue.map((input) => ({ seq: input.seq, message: input.message })),
        runs: lastRun
          ? [{
              runId: lastRun.runId,
              outcome: lastRun.outcome,
              input: lastRun.input.message,
              durationMs: lastRun.durationMs,
              tokens: lastRun.stats.usage.inputTokens + lastRun.stats.usage.outputTokens,
              error: lastRun.error,
            }]
          : [],
        log: [],
      };
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    control: null,
    close() {
      clearInterval(timer);
      listeners.clear();
    },
  };
}
