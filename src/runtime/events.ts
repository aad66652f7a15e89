import type { HandleSnapshot, HandleStatus, RunOutcome, RunStats, Usage } from '../types.js';
import type { DelegationResult } from './delegation-types.js';

/** Who an event is about: present on every event about a subagent. */
export interface SubagentRef {
  handleId: string;
  parentId: string | null;
  depth: number;
  goal: string | null;
  model: string | null;
}

/** Every event the runtime emits to its listeners. Names are kebab nouns then verbs. */
export type RuntimeEvent =
  | ({ type: 'spawn-request'; name: string | null } & Omit<SubagentRef, 'handleId' | 'depth'> & { depth: number })
  | ({ type: 'handle-spawn'; handle: HandleSnapshot } & SubagentRef)
  | ({ type: 'handle-update'; handle: HandleSnapshot; previousStatus: HandleStatus } & SubagentRef)
  | ({ type: 'run-start'; runId: number; input: string } & SubagentRef)
  | ({
      type: 'run-end';
      runId: number;
      outcome: RunOutcome;
      output: string | null;
      error: string | null;
      /** Whatever the run returned beside its output, when it completed. */
      details: unknown;
      /** What the run did, whatever its outcome. */
      stats: RunStats;
      durationMs: number;
    } & SubagentRef)
  | ({ type: 'text-delta'; runId: number; delta: string } & SubagentRef)
  | ({ type: 'thinking-delta'; runId: number; delta: string } & SubagentRef)
  | ({ type: 'model-call-end'; runId: number; apiCalls: number; usage: Usage } & SubagentRef)
  | ({ type: 'tool-call-start'; runId: number; callId: string; tool: string; argumentBytes: number } & SubagentRef)
  | ({
      type: 'tool-call-end';
      runId: number;
      callId: string;
      tool: string;
      ok: boolean;
      resultBytes: number;
      durationMs: number;
    } & SubagentRef)
  | { type: 'delegation-end'; delegationId: string; background: boolean; parentId: string | null; results: DelegationResult[] };

export type RuntimeEventType = RuntimeEvent['type'];

/** A listener of runtime events. */
export type RuntimeListener = (event: RuntimeEvent) => void;

/**
 * Fans events out to listeners and async iterators. Delivery is deferred to a
 * microtask, in order: events are produced while XState is mid-transition, and
 * a listener that calls back into the runtime must see the transition done.
 * A listener that throws is reported to `onListenerError` and never breaks
 * the runtime.
 */
export class EventHub {
  readonly #listeners = new Set<RuntimeListener>();
  readonly #closers = new Set<() => void>();
  #queue: Array<RuntimeEvent | 'close'> = [];
  #scheduled = false;
  #closed = false;

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  get hasListeners(): boolean {
    return this.#listeners.size > 0;
  }

  emit(event: RuntimeEvent): void {
    if (this.#listeners.size === 0) return;
    this.#enqueue(event);
  }

  subscribe(listener: RuntimeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events as an async iterable, buffered; ends when `signal` aborts or `close()` is called. */
  iterate(signal?: AbortSignal): AsyncIterableIterator<RuntimeEvent> {
    const buffer: RuntimeEvent[] = [];
    let wake: (() => void) | null = null;
    let done = this.#closed || (signal?.aborted ?? false);
    const unsubscribe = this.subscribe((event) => {
      buffer.push(event);
      wake?.();
    });
    const finish = () => {
      done = true;
      unsubscribe();
      this.#closers.delete(finish);
      signal?.removeEventListener('abort', finish);
      wake?.();
    };
    if (!done) this.#closers.add(finish);
    else unsubscribe();
    if (!done) signal?.addEventListener('abort', finish, { once: true });
    const iterator: AsyncIterableIterator<RuntimeEvent> = {
      next: async () => {
        while (buffer.length === 0 && !done) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
        const value = buffer.shift();
        return value ? { value, done: false } : { value: undefined, done: true };
      },
      return: async () => {
        finish();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Ends every open iterator once the events emitted before have been delivered. */
  close(): void {
    this.#closed = true;
    this.#enqueue('close');
  }

  #enqueue(item: RuntimeEvent | 'close'): void {
    this.#queue.push(item);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    try {
      // Events emitted by listeners join the end of this same flush.
      for (let index = 0; index < this.#queue.length; index += 1) {
        const item = this.#queue[index]!;
        if (item === 'close') {
          for (const finish of [...this.#closers]) finish();
          continue;
        }
        for (const listener of this.#listeners) {
          try {
            listener(item);
          } catch (error) {
            this.#report(error);
          }
        }
      }
    } finally {
      this.#queue = [];
      this.#scheduled = false;
    }
  }

  #report(error: unknown): void {
    try {
      this.onListenerError(error);
    } catch {
      // The error reporter itself threw: the hub must keep delivering.
    }
  }
}
