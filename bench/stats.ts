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

/** Per-repetition ratios `a[i] / b[i]` of two series timed in the same repetitions, and their median and range. */
export function pairedRatios(a: readonly number[], b: readonly number[]): { median: number; min: number; max: number; ratios: number[] } {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`Expected two series of the same non-zero length, got ${a.length} and ${b.length}`);
  const ratios = a.map((value, index) => value / b[index]!);
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), ratios };
}

/** `median (min–max)` of paired ratios. */
export const formatPaired = (paired: { median: number; min: number; max: number }): string =>
  `${formatRatio(paired.median)} (${formatRatio(paired.min)}–${formatRatio(paired.max)})`;
