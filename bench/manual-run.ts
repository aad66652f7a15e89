/** A run function for the core runtime that ends only when told to. */
export class ManualRun {
  #pending: ((output: string) => void) | null = null;
  #onStart: (() => void) | null = null;

  /** The `run` option: a run that waits for {@link ManualRun.finish}. */
  readonly run = (): Promise<string> =>
    new Promise<string>((resolve) => {
      this.#pending = resolve;
      const onStart = this.#onStart;
      this.#onStart = null;
      onStart?.();
    });

  /** True while a run has started and not been finished. */
  get started(): boolean {
    return this.#pending !== null;
  }

  /** Resolves once a run has started (at once if one is pending). */
  whenStarted(): Promise<void> {
    if (this.started) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onStart = resolve;
    });
  }

  /** Ends the pending run with `output`. */
  finish(output: string): void {
    const resolve = this.#pending;
    this.#pending = null;
    resolve?.(output);
  }
}
