/**
 * Token usage arithmetic: the one shape (`Usage`) and the one way spend is
 * added up, wherever it is kept (a run's journal, a handle, the root agent).
 */
import type { Usage } from './types.js';

/** A fresh usage of zero tokens. */
export const noUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0 });

/** Adds `usage` into `into`, in place, and returns `into`. */
export function addUsage(into: Usage, usage: Usage): Usage {
  into.inputTokens += usage.inputTokens;
  into.outputTokens += usage.outputTokens;
  return into;
}

/** The sum of two usages, as a new object. */
export const sumUsage = (a: Usage, b: Usage): Usage => ({ inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens });

/** Input plus output tokens. */
export const tokensOf = (usage: Usage): number => usage.inputTokens + usage.outputTokens;
