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
}

/**
 * Event-driven waits: a wait registers on its targets and is checked only when
 * one of them changes status, never by polling. The one timer is the timeout.
 */
export class Waiters {
  readonly #byHandle = new Map<string, Set<Waiter>>();

  constructor(private readonly snapshotOf: (id: string) => HandleSnapshot) {}

  wait(ids: readonly string[], timeoutMs: number): Promise<WaitResult> {
    const running = new Set<string>();
    for (const id of ids) if (this.snapshotOf(id).status === 'running') running.add(id);
    if (running.size === 0) return Promise.resolve({ completed: ids.map((id) => this.snapshotOf(id)), pending: [], timedOut: false });
    return new Promise<WaitResult>((resolve) => {
      const waiter: Waiter = {
        ids,
        running,
        resolve,
        timer: setTimeout(() => this.#finish(waiter, true), timeoutMs),
      };
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
    for (const id of waiter.ids) {
      const set = this.#byHandle.get(id);
      set?.delete(waiter);
      if (set?.size === 0) this.#byHandle.delete(id);
    }
    const snapshots = waiter.ids.map((id) => this.snapshotOf(id));
    const pending = snapshots.filter((snapshot) => snapshot.status === 'running');
    waiter.resolve({
      completed: snapshots.filter((snapshot) => snapshot.status !== 'running'),
      pending,
      timedOut: timedOut && pending.length > 0,
    });
  }
}
