/**
 * Budgets down the tree: what a spawn reserves from its parent's remainder,
 * and the settlement when a child closes (its spend replaces its
 * reservation, so what it did not use returns). The spend itself is counted
 * by each handle's chart; a parent's hold on its children is the chart's
 * `BUDGET.HOLD` event. The root (the runtime's own budget) has no chart: its
 * holds are kept here, beside the root agent's spend.
 */
import { BadArgumentError } from '../errors.js';
import { BudgetRefusedError, MAX_BUDGET_MS } from '../budget-errors.js';
import { budgetStateOf, committed, costAt, tokensLeft } from '../machines/budget.js';
import type { BudgetGrant, BudgetState } from '../machines/budget.js';
import type { ActorRefFrom } from 'xstate';
import type { HandleContext, HandleEmitted, HandleMachine } from '../machines/handle.js';
import type { Budget, BudgetView, HandleSnapshot, HandleStatus, ModelPrice, Usage } from '../types.js';

/** The keys a budget takes. */
const BUDGET_KEYS = ['tokens', 'costUsd', 'timeMs'] as const;

/** Checks a budget given by a caller: an object of positive finite numbers. */
export function checkBudget(value: unknown, field: string): Budget | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadArgumentError(field, 'an object { tokens?, costUsd?, timeMs? }', value);
  for (const [key, amount] of Object.entries(value)) {
    if (!(BUDGET_KEYS as readonly string[]).includes(key)) throw new BadArgumentError(`${field}.${key}`, `one of ${BUDGET_KEYS.join(', ')}`, key);
    if (amount === undefined) continue;
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) throw new BadArgumentError(`${field}.${key}`, 'a positive finite number', amount);
    if (key === 'timeMs' && amount > MAX_BUDGET_MS) throw new BadArgumentError(`${field}.${key}`, `at most ${MAX_BUDGET_MS} ms (about 24.8 days)`, amount);
  }
  return value;
}

/** The parts of a parent the ledger reads: its chart's context, or the root's stand-in. */
type Payer = Pick<HandleContext, 'run' | 'budget' | 'spec'> & { results: Pick<HandleContext['results'], 'usage'> };

/** One child's hold on its parent. */
interface Hold {
  parentId: string | null;
  reserved: { tokens: number; costUsd: number };
  now: { tokens: number; costUsd: number };
}

/** What the ledger needs from the runtime above. */
export interface LedgerDeps {
  /** The root agent's own spend, live. @default none */
  rootUsage?: () => Usage;
  /** The price of a model on a provider (`null`, `null`: the root agent's), for cost budgets. @default none */
  priceOf?: (model: string | null, provider: string | null) => ModelPrice | null;
}

/** The handle actors, by id. */
type Refs = ReadonlyMap<string, ActorRefFrom<HandleMachine>>;

/** The ledger of one runtime: `budget` is the runtime's own (the root's). */
export function createLedger(budget: Budget | undefined, deps: LedgerDeps, refs: Refs) {
  const rootState: BudgetState | null = budgetStateOf(
    budget && {
      tokens: budget.tokens ?? null,
      costUsd: budget.costUsd ?? null,
      price: deps.priceOf?.(null, null) ?? null,
      deadline: budget.timeMs === undefined ? null : Date.now() + budget.timeMs,
    },
  );
  if (rootState?.costUsd != null && rootState.price === null) {
    throw new BadArgumentError('budget.costUsd', "a price for the root agent's model in `prices` (a cost budget counts dollars)", 'no price for it');
  }
  const rootUsage = deps.rootUsage ?? (() => ({ inputTokens: 0, outputTokens: 0 }));
  const root = (): Payer => ({ results: { usage: rootUsage() }, run: null, budget: rootState, spec: { limits: { maxRunTokens: null } } as HandleContext['spec'] });
  const contextOf = (id: string) => refs.get(id)?.getSnapshot().context;
  const payerOf = (parentId: string | null): Payer | undefined => (parentId === null ? root() : contextOf(parentId));
  const holds = new Map<string, Hold>();

  /** Moves a child's hold on its parent to `to`, telling the parent's chart (or the root) the difference. */
  function adjust(hold: Hold, to: { tokens: number; costUsd: number }): void {
    const delta = { tokens: to.tokens - hold.now.tokens, costUsd: to.costUsd - hold.now.costUsd };
    hold.now = to;
    if (delta.tokens === 0 && delta.costUsd === 0) return;
    if (hold.parentId === null) {
      if (rootState) {
        rootState.heldTokens += delta.tokens;
        rootState.heldCostUsd += delta.costUsd;
      }
      return;
    }
    const parent = refs.get(hold.parentId);
    parent?.send({ type: 'BUDGET.HOLD', ...delta });
    // A parent already closed has settled: what changed below it passes on up.
    if (parent?.getSnapshot().value === 'closed') ledger.statusChanged(hold.parentId, 'closed');
  }

  const ledger = {
    /**
     * What a new child of `parentId` gets: its budget as planned (see
     * {@link plan}; refused past the parent's remainder), and the parent's
     * deadline at the latest. `null`: no limit and no deadline.
     */
    grant(parentId: string | null, given: Budget | undefined, price: ModelPrice | null): BudgetGrant | null {
      const payer = payerOf(parentId);
      const budget = payer?.budget ?? null;
      const requested = ledger.plan(parentId, [given])[0];
      const tokens = requested?.tokens ?? null;
      const costUsd = requested?.costUsd ?? null;
      if (costUsd !== null && price === null) throw new BadArgumentError('budget.costUsd', 'a price for the child\'s model in `prices` (a cost budget counts dollars)', 'no price');
      const parentDeadline = budget?.deadline ?? null;
      let deadline = parentDeadline;
      if (requested?.timeMs !== undefined) {
        deadline = Date.now() + requested.timeMs;
        if (parentDeadline !== null && deadline > parentDeadline) throw new BudgetRefusedError('timeMs', requested.timeMs, Math.max(0, parentDeadline - Date.now()), parentId);
      }
      if (tokens === null && costUsd === null && deadline === null) return null;
      return { tokens, costUsd, price, deadline };
    },
    /**
     * The budgets of the children one call starts, worked out together before
     * any is spawned: each asked-for budget as it is, the others an even share
     * of half what the asked-for ones leave. Refused (nothing spawned) when the
     * asked-for ones together exceed the parent's remainder.
     */
    plan(parentId: string | null, requests: ReadonlyArray<Budget | undefined>): Array<Budget | undefined> {
      const budget = payerOf(parentId)?.budget ?? null;
      const deadline = budget?.deadline ?? null;
      for (const request of requests) {
        if (deadline !== null && request?.timeMs !== undefined && Date.now() + request.timeMs > deadline) {
          throw new BudgetRefusedError('timeMs', request.timeMs, Math.max(0, deadline - Date.now()), parentId);
        }
      }
      if (!budget || (budget.tokens === null && budget.costUsd === null)) return [...requests];
      const payer = payerOf(parentId)!;
      const now = committed(payer);
      const planned = requests.map((request) => ({ ...request }));
      for (const dimension of ['tokens', 'costUsd'] as const) {
        const limit = budget[dimension];
        if (limit === null) continue;
        const left = limit - (dimension === 'tokens' ? now.tokens : (now.costUsd ?? 0));
        const asked = requests.reduce((sum, request) => sum + (request?.[dimension] ?? 0), 0);
        const others = requests.filter((request) => request?.[dimension] === undefined).length;
        if (left <= 0 || asked > left) throw new BudgetRefusedError(dimension, asked || null, Math.max(0, dimension === 'tokens' ? left : round(left)), parentId);
        if (others === 0) continue;
        const share = dimension === 'tokens' ? Math.floor((left - asked) / 2 / others) : (left - asked) / 2 / others;
        if (share <= 0) throw new BudgetRefusedError(dimension, null, Math.max(0, dimension === 'tokens' ? left - asked : round(left - asked)), parentId);
        for (const child of planned) child[dimension] ??= share;
      }
      return planned;
    },
    /** The child now holds its reservation on its parent. */
    reserve(id: string, parentId: string | null, grant: BudgetGrant | null): void {
      const payer = payerOf(parentId);
      if (!grant || !payer?.budget) return;
      const reserved = reservedOf(payer.budget, grant);
      const hold: Hold = { parentId, reserved, now: { tokens: 0, costUsd: 0 } };
      holds.set(id, hold);
      adjust(hold, reserved);
    },
    /** Puts back a restored child's hold: its parent's chart restored its own, so only the root's is added to. */
    restore(id: string, parentId: string | null, grant: BudgetGrant | null, closed: boolean): void {
      const payer = payerOf(parentId);
      if (!grant || !payer?.budget) return;
      const reserved = reservedOf(payer.budget, grant);
      const hold: Hold = { parentId, reserved, now: reserved };
      const context = contextOf(id);
      if (closed && context) {
        hold.now = settledOf(hold, context);
      }
      holds.set(id, hold);
      if (parentId === null && rootState) {
        rootState.heldTokens += hold.now.tokens;
        rootState.heldCostUsd += hold.now.costUsd;
      }
    },
    /** A closed child may be resumed only if its parent can hold its reservation again. */
    checkResume(id: string): void {
      const hold = holds.get(id);
      const payer = hold && payerOf(hold.parentId);
      if (!hold || !payer?.budget) return;
      const now = committed(payer);
      for (const dimension of ['tokens', 'costUsd'] as const) {
        const limit = payer.budget[dimension];
        const more = hold.reserved[dimension] - hold.now[dimension];
        const left = limit === null ? Infinity : limit - (dimension === 'tokens' ? now.tokens : (now.costUsd ?? 0));
        if (more > 0 && more > left) throw new BudgetRefusedError(dimension, hold.reserved[dimension], Math.max(0, round(left)), hold.parentId, `\`${id}\` was not resumed`);
      }
    },
    /** Settles at close (the child's spend replaces its reservation); a resumed child holds its reservation again. */
    statusChanged(id: string, status: HandleStatus): void {
      const hold = holds.get(id);
      const context = contextOf(id);
      if (!hold || !context) return;
      if (status === 'closed') {
        adjust(hold, settledOf(hold, context));
      } else if (hold.now !== hold.reserved) {
        adjust(hold, hold.reserved);
      }
    },
    /** The runtime's own budget as `usage()` shows it (`null`: none). */
    rootView(): BudgetView | null {
      if (!rootState) return null;
      const spent = rootUsage();
      const now = committed(root());
      return {
        tokens: rootState.tokens,
        costUsd: rootState.costUsd,
        deadline: rootState.deadline === null ? null : new Date(rootState.deadline).toISOString(),
        spent: { tokens: spent.inputTokens + spent.outputTokens, costUsd: rootState.price ? costAt(rootState.price, spent) : null },
        held: { tokens: rootState.heldTokens, costUsd: rootState.heldCostUsd },
        remaining: {
          tokens: rootState.tokens === null ? null : Math.max(0, rootState.tokens - now.tokens),
          costUsd: rootState.costUsd === null ? null : Math.max(0, rootState.costUsd - (now.costUsd ?? 0)),
        },
      };
    },
    /** A handle's deadline `ms` later (from now when it has none), at most its parent's. */
    extended(context: Readonly<HandleContext>, ms: number): number {
      const parentDeadline = payerOf(context.spec.parentId)?.budget?.deadline ?? null;
      const wanted = Math.max(context.budget?.deadline ?? 0, Date.now()) + ms;
      return parentDeadline === null ? wanted : Math.min(wanted, parentDeadline);
    },
    /**
     * What a handle's chart emitted, as the ledger reads it: a child settles
     * at its close; a run stopped at its budget takes its subtree with it
     * (each child as its stop policy says).
     */
    observe(id: string, event: HandleEmitted, commands: { stopChildren(id: string): void }): void {
      if (event.type === 'status') ledger.statusChanged(id, event.status);
      else if (event.type === 'run-end' && event.outcome === 'budget_exceeded') queueMicrotask(() => commands.stopChildren(id));
    },
    forget(id: string): void {
      holds.delete(id);
    },
    /** The runtime's budget methods. */
    methods(requireRef: (id: string) => ActorRefFrom<HandleMachine>, snapshotOf: (id: string) => HandleSnapshot) {
      return {
        extendDeadline(id: string, ms: number): HandleSnapshot {
          const ref = requireRef(id);
          if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0 || ms > MAX_BUDGET_MS) throw new BadArgumentError('ms', `a positive number of milliseconds, at most ${MAX_BUDGET_MS}`, ms);
          ref.send({ type: 'DEADLINE.SET', deadline: ledger.extended(ref.getSnapshot().context, ms) });
          return snapshotOf(id);
        },
        rootBudget: () => ledger.rootView(),
        rootTokensLeft: () => (rootState ? tokensLeft(root()) : null),
        deadlineOf: (id: string | null): number | null => (id === null ? (rootState?.deadline ?? null) : (contextOf(id)?.budget?.deadline ?? null)),
      };
    },
  };
  return ledger;
}

export type Ledger = ReturnType<typeof createLedger>;

/** What a child holds on a parent while open: its grant, in the dimensions the parent limits. */
const reservedOf = (parent: BudgetState, grant: BudgetGrant) => ({
  tokens: parent.tokens === null ? 0 : (grant.tokens ?? 0),
  costUsd: parent.costUsd === null ? 0 : (grant.costUsd ?? 0),
});

/** What a closed child holds: its spend (its own and its subtree's), in the dimensions it was reserved in. */
function settledOf(hold: Hold, context: Payer): { tokens: number; costUsd: number } {
  const spent = committed(context);
  return { tokens: hold.reserved.tokens === 0 ? 0 : spent.tokens, costUsd: hold.reserved.costUsd === 0 ? 0 : (spent.costUsd ?? 0) };
}

const round = (dollars: number) => Math.round(dollars * 1e6) / 1e6;
