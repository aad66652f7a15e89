/**
 * What the runtime learns and shares about one provider for its whole life:
 * that the server refuses `stream_options` (so requests stop sending it), and
 * the slots of its request limit (requests in flight across every child that
 * shares the provider, handed out first come, first served).
 */
import { BadArgumentError } from '../errors.js';

/**
 * One provider's shared state. Give the same one to every call that goes to
 * that provider.
 *
 * @example
 * ```ts
 * const provider = new ProviderState({ maxConcurrentRequests: 4 });
 * const release = await provider.acquire(new AbortController().signal);
 * provider.inFlight; // 1
 * release();
 * ```
 */
export class ProviderState {
  /** The server answered 400/422 naming `stream_options`: streamed requests go without it from then on. */
  streamOptionsRefused = false;
  /** Requests allowed in flight at once; `null`: no limit. */
  readonly maxConcurrentRequests: number | null;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];
  #pausedUntil = 0;

  constructor(options: { maxConcurrentRequests?: number | null | undefined } = {}) {
    const limit = options.maxConcurrentRequests ?? null;
    if (limit !== null && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
      throw new BadArgumentError('maxConcurrentRequests', 'an integer >= 1', limit);
    }
    this.maxConcurrentRequests = limit;
  }

  /**
   * The server asked one call to wait (`Retry-After`): every request to this
   * provider waits until then, so children sharing a key back off together
   * instead of meeting the same 429 one after the other.
   */
  pauseFor(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, performance.now() + ms);
  }

  /** Milliseconds until requests may go again (0: now). */
  get pauseLeftMs(): number {
    return Math.max(0, this.#pausedUntil - performance.now());
  }

  /** A slot at once, when one is free, nobody waits and no pause holds: the common case, with no promise. */
  tryAcquire(): (() => void) | null {
    const free = this.maxConcurrentRequests === null || (this.#inFlight < this.maxConcurrentRequests && this.#waiting.length === 0);
    if (!free || this.pauseLeftMs > 0) return null;
    this.#inFlight += 1;
    return this.#releaser();
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests waiting for a slot now. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Waits for a request slot, in arrival order; resolves with the function
   * that gives it back. Rejects with the signal's reason if it fires first
   * (the place in the queue is given up).
   */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        this.#inFlight += 1;
        resolve(this.#releaser());
      };
      const onAbort = () => {
        const position = this.#waiting.indexOf(grant);
        if (position !== -1) this.#waiting.splice(position, 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight -= 1;
      this.#waiting.shift()?.();
    };
  }
}
