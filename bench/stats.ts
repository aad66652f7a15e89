/** Small statistics helpers for the benchmarks: order statistics and formatting. */

/** The `fraction` quantile (0–1) of `samples`, nearest-rank on a sorted copy. */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) throw new RangeError('Expected at least one sample, got none');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (samples: readonly number[]): number => percentile(samples, 0.5);

/** Milliseconds with a precision that suits their size. */
export function formatMs(ms: number): string {
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (Math.abs(bytes) >= 1024) return `${(bytes / 1024).toFixed(2)} KB`;
  return `${bytes.toFixed(0)} B`;
}

export const formatRatio = (ratio: number): string => `${ratio.toFixed(3)}×`;

/** Runs the garbage collector when node was started with `--expose-gc`. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
}

export const hasGc = (): boolean => typeof (globalThis as { gc?: unknown }).gc === 'function';
