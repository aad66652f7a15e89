/** Waiting on a promise that the calling agent's run may abandon. */

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as
 * `signal` aborts (calling `onAbort` first), whichever comes first.
 *
 * @example
 * ```ts
 * const result = await abortable(runtime.wait(ids), context.signal);
 * ```
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal, onAbort?: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort?.();
    // The abandoned promise may still reject; nobody waits for it any more.
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const stop = () => {
      onAbort?.();
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', stop, { once: true });
    // Settling after an abort is a no-op; the handlers also keep a late rejection from going unhandled.
    promise.finally(() => signal.removeEventListener('abort', stop)).then(resolve, reject);
  });
}
