import type { HandleSnapshot } from '../types.js';

/** What `wait` resolves with. */
export interface WaitResult {
  /** Targets no longer running. */
  completed: HandleSnapshot[];
  /** Targets still running (or waiting for a slot) when the wait ended. */
  pending: HandleSnapshot[];
  /** True when the wait ended at its timeout with work still pending. */
  timedOut: boolean;
}

interface Waiter {
  ids: readonly string[];
  /** Targets running now: the wait ends when this empties. Kept up to date by `notify`, so no wait rescans its targets. */
  running: Set<string>;
  resolve: (result: WaitResult) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Stops listening to the caller's signal. */
  unlisten: () => void;
}

/**
 * Event-driven waits: a wait registers on its targets and is checked only when
 * one of them changes status, never by polling. The one timer is the timeout.
 */
export class Waiters {
  readonly #byHandle = new Map<string, Set<Waiter>>();

  constructor(private readonly snapshotOf: (id: string) => HandleSnapshot) {}

  wait(ids: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    const running = new Set<string>();
    for (const id of ids) if (this.snapshotOf(id).status === 'running') running.add(id);
    if (running.size === 0 || signal?.aborted) return Promise.resolve(this.#result(ids, false));
    return new Promise<WaitResult>((resolve) => {
      const waiter: Waiter = {
        ids,
        running,
        resolve,
        timer: setTimeout(() => this.#finish(waiter, true), timeoutMs),
        unlisten: () => signal?.removeEventListener('abort', stop),
      };
      const stop = () => this.#finish(waiter, false);
      signal?.addEventListener('abort', stop, { once: true });
      for (const id of ids) {
        let set = this.#byHandle.get(id);
        if (!set) this.#byHandle.set(id, (set = new Set()));
        set.add(waiter);
      }
    });
  }

  /** Whether a wait is waiting for this handle now. */
  isWaitedFor(id: string): boolean {
    return this.#byHandle.has(id);
  }

  /** Called when a handle's status changed. */
  notify(id: string, running: boolean): void {
    const set = this.#byHandle.get(id);
    if (!set) return;
    for (const waiter of [...set]) {
      if (running) waiter.running.add(id);
      else waiter.running.delete(id);
      if (waiter.running.size === 0) this.#finish(waiter, false);
    }
  }

  /** Ends every wait now, reporting whatever is still running as pending. */
  settleAll(): void {
    const all = new Set<Waiter>();
    for (const set of this.#byHandle.values()) for (const waiter of set) all.add(waiter);
    for (const waiter of all) this.#finish(waiter, false);
  }

  #finish(waiter: Waiter, timedOut: boolean): void {
    clearTimeout(waiter.timer);
    waiter.unlisten();
    for (const id of waiter.ids) {
      const set = this.#byHandle.get(id);
      set?.delete(waiter);
      if (set?.size === 0) this.#byHandle.delete(id);
    }
    waiter.resolve(this.#result(waiter.ids, timedOut));
  }

  #result(ids: readonly string[], timedOut: boolean): WaitResult {
    const snapshots = ids.map((id) => this.snapshotOf(id));
    const pending = snapshots.filter((snapshot) => snapshot.status === 'running');
    return { completed: snapshots.filter((snapshot) => snapshot.status !== 'running'), pending, timedOut: timedOut && pending.length > 0 };
  }
}
