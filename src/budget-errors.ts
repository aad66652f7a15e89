/** The errors of budgets and deadlines. */
import { SubagentsError } from './errors.js';

/** The longest time a budget or an extension may give, in milliseconds (the longest a timer waits: about 24.8 days). */
export const MAX_BUDGET_MS = 2 ** 31 - 1;

/** What a budget is counted in. */
export type BudgetDimension = 'tokens' | 'costUsd' | 'timeMs';

/**
 * A spawn asked for more than its parent has left (or its parent has nothing
 * left): nothing was spawned. `remaining` is the parent's remainder in that
 * dimension (milliseconds to its deadline for `timeMs`).
 */
export class BudgetRefusedError extends SubagentsError {
  readonly code = 'budget_refused';
  constructor(
    readonly dimension: BudgetDimension,
    readonly requested: number | null,
    readonly remaining: number,
    readonly parentId: string | null,
    /** What did not happen because of it. */
    outcome = 'nothing was spawned',
  ) {
    const parent = parentId === null ? 'the runtime' : `\`${parentId}\``;
    const asked = requested === null ? 'a share of it' : `${requested}`;
    const unit = dimension === 'tokens' ? ' tokens' : dimension === 'timeMs' ? ' ms to its deadline' : ' USD';
    super(`Expected a budget within what ${parent} has left (${remaining}${unit} of budget.${dimension}), got a request for ${asked}: ${outcome}`);
  }
}

/** A run stopped at its budget: a model answer cut off at the tokens left, or no tokens left for the next request. */
export class BudgetExceededError extends SubagentsError {
  readonly code = 'budget_exceeded';
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(reason, options);
  }
}
