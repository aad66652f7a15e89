/** A run function for the core runtime that ends only when told to. */
export class ManualRun {
  #pending: ((output: string) => void) | null = null;

  /** The `run` option: a run that waits for {@link ManualRun.finish}. */
  readonly run = (): Promise<string> =>
    new Promise<string>((resolve) => {
      this.#pending = resolve;
    });

  /** True while a run has started and not been finished. */
  get started(): boolean {
    return this.#pending !== null;
  }

  /** Ends the pending run with `output`. */
  finish(output: string): void {
    const resolve = this.#pending;
    this.#pending = null;
    resolve?.(output);
  }
}
