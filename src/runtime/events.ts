import { BadArgumentError } from '../errors.js';
import type { RunReport } from '../machines/handle.js';
import type { ApprovalDecider } from '../toolkit/define-tool.js';
import type { AwaitingApproval, DelegationResult, HandBackReason, HandleSnapshot, RunOutcome, RunProgress, Usage } from '../types.js';

/** Who an event is about: present on every event about a subagent. */
export interface SubagentRef {
  handleId: string;
  parentId: string | null;
  depth: number;
  goal: string | null;
  model: string | null;
}

/** Who an approval is about: a subagent, or the root agent (`handleId: null`, depth 0). */
export interface AgentRef extends Omit<SubagentRef, 'handleId'> {
  handleId: string | null;
  /** The run of the handle that asks; `null` for the root agent and for calls made outside a run. */
  runId: number | null;
}

/** An agent asks the host to approve a tool call; answer with `runtime.approve(requestId, …)` (or `onApproval`). */
export interface ApprovalRequest extends AgentRef {
  requestId: string;
  tool: string;
  /** The call's arguments as the model sent them, secrets redacted. */
  arguments: unknown;
}

/** Every event the runtime emits to its listeners. Names are kebab nouns then verbs. */
export type RuntimeEvent =
  | ({ type: 'spawn-request'; name: string | null } & Omit<SubagentRef, 'handleId' | 'depth'> & { depth: number })
  | ({ type: 'handle-spawn'; handle: HandleSnapshot } & SubagentRef)
  /** A child with `onParentStop: 'detach'` goes on while its parent stops (`parentStop` says how). */
  | ({ type: 'handle-detach'; parentStop: 'interrupt' | 'cancel' | 'close'; handle: HandleSnapshot } & SubagentRef)
  /** The handle entered a status (also `running` again when it goes on with its next queued input). */
  | ({ type: 'handle-update'; handle: HandleSnapshot } & SubagentRef)
  | ({ type: 'run-start'; runId: number; input: string } & SubagentRef)
  /** A run ended, with its one outcome and what it did (see RunReport); `input` is the input's text. */
  | ({ type: 'run-end' } & Omit<RunReport, 'input'> & SubagentRef)
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
  /** An accepted input ended: processed by a run (`outcome`), or handed back unprocessed (`handedBack`). */
  | ({
      type: 'input-end';
      input: string;
      handedBack: HandBackReason | null;
      outcome: RunOutcome | null;
      runId: number | null;
    } & SubagentRef)
  /** What a run in flight is doing, every `progressIntervalMs`. */
  | ({
      type: 'progress';
      runId: number;
      /** Milliseconds since the run started. */
      elapsedMs: number;
      /** Milliseconds the current tool call has been running; `null` when none is. */
      toolElapsedMs: number | null;
      awaitingApproval: AwaitingApproval | null;
    } & RunProgress &
      SubagentRef)
  /** A tool call waits for the host's approval: answer with `runtime.approve(requestId, { approve, reason? })`. */
  | ({ type: 'approval-request' } & ApprovalRequest)
  /** An approval request ended: approved or denied, and by whom (`host`, `handler`, `timeout`, `no-handler`, `run-ended`). */
  | ({ type: 'approval-end'; requestId: string; tool: string; approved: boolean; reason: string | null; decidedBy: ApprovalDecider } & AgentRef)
  /** Events an `events()` reader did not read in time were dropped (its buffer was full). */
  | { type: 'events-dropped'; count: number }
  | { type: 'delegation-end'; delegationId: string; background: boolean; parentId: string | null; results: DelegationResult[] };

export type RuntimeEventType = RuntimeEvent['type'];

/** Options of `runtime.events()`. */
export interface EventsOptions {
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** Unread events kept at most; older ones are dropped. @default 10000 */
  bufferSize?: number;
}

const DEFAULT_EVENTS_BUFFER = 10_000;

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
  /** Each listener with the event types it takes (`null`: all). */
  readonly #listeners = new Map<RuntimeListener, ReadonlySet<RuntimeEventType> | null>();
  /** Listeners that take every type, and per type those that take only some. */
  #takeAll = 0;
  readonly #takers = new Map<RuntimeEventType, number>();
  readonly #closers = new Set<() => void>();
  #queue: Array<RuntimeEvent | 'close'> = [];
  #scheduled = false;
  #closed = false;

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  /** Whether a listener takes events of this type: when none does, they are not built. */
  wants(type: RuntimeEventType): boolean {
    return this.#takeAll > 0 || (this.#takers.get(type) ?? 0) > 0;
  }

  emit(event: RuntimeEvent): void {
    if (!this.wants(event.type)) return;
    this.#enqueue(event);
  }

  /** Adds a listener of every event, or of the given types only; returns the function that removes it. */
  subscribe(listener: RuntimeListener, types: readonly RuntimeEventType[] | null = null): () => void {
    if (this.#listeners.has(listener)) return () => this.#remove(listener);
    const taken = types === null ? null : new Set(types);
    this.#listeners.set(listener, taken);
    this.#count(taken, 1);
    return () => this.#remove(listener);
  }

  #remove(listener: RuntimeListener): void {
    if (!this.#listeners.has(listener)) return;
    this.#count(this.#listeners.get(listener)!, -1);
    this.#listeners.delete(listener);
  }

  #count(types: ReadonlySet<RuntimeEventType> | null, by: 1 | -1): void {
    if (types === null) this.#takeAll += by;
    else for (const type of types) this.#takers.set(type, (this.#takers.get(type) ?? 0) + by);
  }

  /**
   * Events as an async iterable; ends when `signal` aborts or `close()` is
   * called. A reader that falls `bufferSize` events behind loses the oldest,
   * and is told how many with one `events-dropped` before the next event.
   */
  iterate(options: EventsOptions = {}): AsyncIterableIterator<RuntimeEvent> {
    const { signal } = options;
    const bufferSize = options.bufferSize ?? DEFAULT_EVENTS_BUFFER;
    if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new BadArgumentError('bufferSize', 'an integer >= 1', bufferSize);
    const buffer: RuntimeEvent[] = [];
    let head = 0;
    let dropped = 0;
    let wake: (() => void) | null = null;
    let done = this.#closed || (signal?.aborted ?? false);
    const unsubscribe = this.subscribe((event) => {
      if (buffer.length - head >= bufferSize) {
        head += 1;
        dropped += 1;
      }
      buffer.push(event);
      if (head > 1024 && head * 2 > buffer.length) {
        buffer.splice(0, head);
        head = 0;
      }
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
        while (buffer.length === head && !done) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
        if (dropped > 0) {
          const count = dropped;
          dropped = 0;
          return { value: { type: 'events-dropped', count }, done: false };
        }
        if (buffer.length === head) return { value: undefined, done: true };
        const value = buffer[head]!;
        head += 1;
        return { value, done: false };
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
        for (const [listener, types] of this.#listeners) {
          if (types !== null && !types.has(item.type)) continue;
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
