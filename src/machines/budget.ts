/**
 * A handle's budget as its chart keeps it: what was reserved for it at spawn,
 * what its children hold, its deadline, and the arithmetic the chart's guards
 * read. Spend is the chart's own (its usage and its run's journal), so a run
 * past its budget ends by a transition, whatever the work does.
 */
import type { BudgetView, ModelPrice, Usage } from '../types.js';
import { tokensOf } from '../usage.js';

/** What a spawn reserved for a handle: fixed for its life, apart from the deadline. */
export interface BudgetGrant {
  /** Tokens (input + output) of its own runs and its children's, together; `null`: no limit. */
  tokens: number | null;
  /** Dollars, as above; `null`: no limit. */
  costUsd: number | null;
  /** The price of its model, to turn its tokens into dollars (required with `costUsd`). */
  price: ModelPrice | null;
  /** Epoch milliseconds: a run still going then ends `timeout`; `null`: none. */
  deadline: number | null;
}

/** The budget in the handle's context: the grant, the deadline as extended, and what its children hold. */
export interface BudgetState extends BudgetGrant {
  /** Held by its children: each open child's reservation, each closed child's spend. */
  heldTokens: number;
  heldCostUsd: number;
}

/** The parts of the handle's context the budget reads. */
interface BudgetContext {
  results: { usage: Usage };
  run: { stats: { usage: Usage } } | null;
  budget: BudgetState | null;
  spec: { limits: { maxRunTokens: number | null } };
}

/** Dollars of a usage at a price. */
export const costAt = (price: ModelPrice, usage: Usage): number =>
  (usage.inputTokens * price.inputPerMillion + usage.outputTokens * price.outputPerMillion) / 1_000_000;

/** What the handle's own runs spent, the run in flight included. */
export function ownSpend(context: BudgetContext): Usage {
  const run = context.run?.stats.usage;
  const usage = context.results.usage;
  return run ? { inputTokens: usage.inputTokens + run.inputTokens, outputTokens: usage.outputTokens + run.outputTokens } : usage;
}

/** What the handle has committed of its budget: its own spend and what its children hold. */
export function committed(context: BudgetContext): { tokens: number; costUsd: number | null } {
  const spent = ownSpend(context);
  const budget = context.budget;
  const held = budget ? { tokens: budget.heldTokens, costUsd: budget.heldCostUsd } : { tokens: 0, costUsd: 0 };
  const price = budget?.price ?? null;
  return { tokens: tokensOf(spent) + held.tokens, costUsd: price ? costAt(price, spent) + held.costUsd : null };
}

/**
 * The tokens a model request of the run in flight may still produce: the
 * least of the budget's remainder and the run's `maxRunTokens` remainder;
 * `null` when neither is set. Never below 0.
 */
export function tokensLeft(context: BudgetContext): number | null {
  let left: number | null = null;
  const perRun = context.spec.limits.maxRunTokens;
  if (perRun !== null) left = perRun - (context.run ? tokensOf(context.run.stats.usage) : 0);
  const budget = context.budget;
  const now = budget ? committed(context) : null;
  if (budget?.tokens != null) {
    const fromBudget = budget.tokens - now!.tokens;
    left = left === null ? fromBudget : Math.min(left, fromBudget);
  }
  if (budget?.costUsd != null && budget.price && budget.price.outputPerMillion > 0) {
    const dollars = budget.costUsd - (now!.costUsd ?? 0);
    const fromCost = Math.floor((dollars * 1_000_000) / budget.price.outputPerMillion);
    left = left === null ? fromCost : Math.min(left, fromCost);
  }
  return left === null ? null : Math.max(0, left);
}

/** Why the run in flight is over its budget (`maxRunTokens`, tokens or cost), or `null` while it is within. */
export function overrun(context: BudgetContext): string | null {
  const perRun = context.spec.limits.maxRunTokens;
  if (perRun !== null && context.run) {
    const spent = tokensOf(context.run.stats.usage);
    if (spent > perRun) return `The run spent ${spent} tokens, over maxRunTokens (${perRun}), and was stopped`;
  }
  const budget = context.budget;
  if (!budget || (budget.tokens === null && budget.costUsd === null)) return null;
  const now = committed(context);
  if (budget.tokens !== null && now.tokens > budget.tokens) {
    return `The handle's budget of ${budget.tokens} tokens is spent (${now.tokens}: ${now.tokens - budget.heldTokens} by its own runs, ${budget.heldTokens} held by its children); the run was stopped`;
  }
  if (budget.costUsd !== null && now.costUsd !== null && now.costUsd > budget.costUsd) {
    return `The handle's budget of $${budget.costUsd} is spent ($${now.costUsd.toFixed(6)}); the run was stopped`;
  }
  return null;
}

/** A fresh budget state from its grant (`null` with no limit and no deadline). */
export function budgetStateOf(grant: BudgetGrant | null | undefined): BudgetState | null {
  if (!grant || (grant.tokens === null && grant.costUsd === null && grant.deadline === null)) return null;
  return { ...grant, heldTokens: 0, heldCostUsd: 0 };
}

/** The budget as snapshots show it. */
export function budgetViewOf(context: BudgetContext): BudgetView | null {
  const budget = context.budget;
  if (!budget) return null;
  const spent = ownSpend(context);
  const now = committed(context);
  return {
    tokens: budget.tokens,
    costUsd: budget.costUsd,
    deadline: budget.deadline === null ? null : new Date(budget.deadline).toISOString(),
    spent: { tokens: tokensOf(spent), costUsd: budget.price ? costAt(budget.price, spent) : null },
    held: { tokens: budget.heldTokens, costUsd: budget.heldCostUsd },
    remaining: {
      tokens: budget.tokens === null ? null : Math.max(0, budget.tokens - now.tokens),
      costUsd: budget.costUsd === null ? null : Math.max(0, budget.costUsd - (now.costUsd ?? 0)),
    },
  };
}
