import { describe, expect, it } from 'vitest';
import { assign, createMachine, enqueueActions } from 'xstate';
import { handleMachine } from '../../src/machines/handle.js';
import type { HandleMachine } from '../../src/machines/handle.js';
import { checkHandleChart, describeMismatch, probeLimitTimers } from '../support/handle-model.js';
import type { EventKind, Mismatch } from '../support/handle-model.js';

/**
 * The model-based check must fail on a wrong chart: each mutant below breaks
 * one rule of the handle semantics, and the check has to report it at a step
 * that delivers the event the rule is about.
 */

type StateConfig = NonNullable<(typeof handleMachine.config)['states']>[string];

/** The chart with one state node's config changed (the implementations unchanged). */
function editState(path: string[], change: (node: StateConfig) => StateConfig): HandleMachine {
  const edit = (node: StateConfig, rest: string[]): StateConfig => {
    const [key, ...deeper] = rest;
    if (key === undefined) return change(node);
    return { ...node, states: { ...node.states, [key]: edit(node.states![key]!, deeper) } } as StateConfig;
  };
  const config = edit(handleMachine.config as StateConfig, path);
  return createMachine(config as Parameters<typeof createMachine>[0], handleMachine.implementations as never) as unknown as HandleMachine;
}

const interruptCancels = () =>
  editState(['running', 'working'], (working) => ({
    ...working,
    on: { ...working.on, 'RUN.INTERRUPT': { ...(working.on!['RUN.INTERRUPT'] as object), target: '#handle.cancelled' } },
  }));

/** Progress stays in `active` by a targetless transition instead of entering it anew: the stale timer is never re-armed. */
const progressDoesNotRearm = () =>
  editState(['running', 'working', 'active'], (active) => {
    const branches = active.on!['RUN.PROGRESS'] as object[];
    return { ...active, on: { ...active.on, 'RUN.PROGRESS': [...branches.slice(0, -1), { actions: 'touch' }] } } as StateConfig;
  });

/** Stale detection also runs while the run waits for its children: `waiting` arms the stale timer and ends the run when it fires, as `active` does. */
const staleWhileWaiting = () => {
  const active = handleMachine.config.states!.running!.states!.working!.states!.active!;
  return editState(['running', 'working', 'waiting'], (waiting) => ({
    ...waiting,
    entry: 'armStaleTimeout',
    exit: 'disarmStaleTimeout',
    on: { ...waiting.on, 'LIMIT.STALE': active.on!['LIMIT.STALE'] },
  }));
};

/** Each limit timer is armed with the other limit's delay (same events, same ids). */
const swappedLimits = () =>
  handleMachine.provide({
    actions: {
      armChildTimeout: enqueueActions(({ context, enqueue }) => {
        const limit = context.spec.limits.staleTimeoutMs;
        if (limit !== null) enqueue.raise({ type: 'LIMIT.CHILD_TIMEOUT' }, { delay: limit, id: 'limit.childTimeout' });
      }),
      armStaleTimeout: enqueueActions(({ context, enqueue }) => {
        const limit = context.spec.limits.childTimeoutMs;
        if (limit !== null) enqueue.raise({ type: 'LIMIT.STALE' }, { delay: limit, id: 'limit.staleTimeout' });
      }),
    },
  });

interface Mutant {
  name: string;
  delegated: boolean;
  build: () => HandleMachine;
  /** The step that must be reported: the event kind(s) and the state node it was delivered in. */
  kinds: EventKind[];
  node: RegExp;
}

const MUTANTS: Mutant[] = [
  {
    name: 'close records the wrong previous status',
    delegated: false,
    build: () => handleMachine.provide({ actions: { rememberStatus: assign(({ context }) => ({ inputs: { ...context.inputs, previousStatus: 'idle' as const } })) } }),
    kinds: ['HANDLE.CLOSE'],
    node: /^(?!idle$)/,
  },
  {
    name: 'interrupting a run cancels the handle',
    delegated: false,
    build: interruptCancels,
    kinds: ['RUN.INTERRUPT'],
    node: /^running\.working\./,
  },
  {
    name: 'a stale slot grant starts the run',
    delegated: false,
    build: () => handleMachine.provide({ guards: { isCurrentSlot: ({ event }) => event.type === 'SLOT.GRANTED' } }),
    kinds: ['SLOT.GRANTED stale'],
    node: /^running\.awaitingSlot$/,
  },
  {
    name: 'the token budget ends a run that is at the limit, not past it',
    delegated: false,
    build: () =>
      handleMachine.provide({
        guards: {
          overBudget: ({ context }) =>
            context.run !== null && context.spec.limits.maxRunTokens !== null && context.run.stats.usage.inputTokens + context.run.stats.usage.outputTokens >= context.spec.limits.maxRunTokens,
        },
      }),
    kinds: ['spend at limit'],
    node: /^running\.working\./,
  },
  {
    name: 'the queue is served last in, first out',
    delegated: false,
    build: () =>
      handleMachine.provide({
        actions: {
          takeQueuedInput: enqueueActions(({ context, enqueue }) => {
            const next = context.inputs.queue.at(-1) ?? null;
            enqueue.assign({ current: next, results: { ...context.results, lastInput: next?.message ?? null }, inputs: { ...context.inputs, queue: context.inputs.queue.slice(0, -1) } });
          }),
        },
      }),
    kinds: ['done', 'error', 'childTimeout', 'staleTimeout', 'spend over limit', 'HANDLE.RESUME'],
    node: /^(running\.working\.|interrupted$)/,
  },
  {
    name: 'inputs handed back by cancel or close are not reported',
    delegated: false,
    build: () =>
      handleMachine.provide({
        actions: {
          handBackInputs: enqueueActions(({ context, enqueue }, params: { withCurrent: boolean }) => {
            const returned = params.withCurrent && context.current ? [context.current, ...context.inputs.queue] : context.inputs.queue;
            enqueue.assign({ inputs: { ...context.inputs, returned, queue: [] }, ...(params.withCurrent ? { current: null } : {}) });
          }),
        },
      }),
    kinds: ['RUN.CANCEL', 'HANDLE.CLOSE'],
    node: /^(running\.|interrupted$)/,
  },
  {
    name: 'progress does not re-arm stale detection',
    delegated: false,
    build: progressDoesNotRearm,
    kinds: ['RUN.PROGRESS', 'RUN.PROGRESS not waiting', 'spend at limit', 'staleTimeout'],
    node: /^running\.working\.active$/,
  },
  {
    name: 'stale detection runs while the run waits for its children',
    delegated: false,
    build: staleWhileWaiting,
    kinds: ['RUN.PROGRESS', 'RUN.PROGRESS waiting', 'spend at limit', 'childTimeout'],
    node: /^running\.working\.waiting$/,
  },
  {
    name: 'the limit timers wait for each other\'s limit',
    delegated: false,
    build: swappedLimits,
    kinds: ['RUN.PROGRESS', 'RUN.PROGRESS not waiting', 'RUN.PROGRESS waiting', 'spend at limit', 'staleTimeout', 'childTimeout'],
    node: /^running\.working\./,
  },
  {
    name: 'a delegated input interrupted before it started is requeued instead of handed back',
    delegated: true,
    build: () => handleMachine.provide({ guards: { isDelegated: () => false } }),
    kinds: ['RUN.INTERRUPT'],
    node: /^running\.awaitingSlot$/,
  },
];

describe('the handle model check catches a wrong chart', () => {
  for (const delegated of [false, true]) {
    it(`passes the chart as written (delegated: ${delegated})`, async () => {
      const report = await checkHandleChart(handleMachine, { delegated, maxMismatches: 1 });
      expect(report.mismatches.map(describeMismatch)).toEqual([]);
    }, 120_000);
  }

  for (const mutant of MUTANTS) {
    it(`fails when ${mutant.name}`, async () => {
      const report = await checkHandleChart(mutant.build(), { delegated: mutant.delegated, maxMismatches: 1 });
      const [first] = report.mismatches as [Mismatch | undefined];
      expect(first, 'the mutant is reported').toBeDefined();
      const message = describeMismatch(first!);
      expect(mutant.kinds, message).toContain(first!.kind);
      expect(first!.node, message).toMatch(mutant.node);
    }, 120_000);
  }

  it('fails when an unset limit still sets a timer (one that waits as long as a timer can)', async () => {
    const NEVER_MS = 2_147_483_647;
    const mutant = handleMachine.provide({
      actions: {
        armChildTimeout: enqueueActions(({ context, enqueue }) => {
          enqueue.raise({ type: 'LIMIT.CHILD_TIMEOUT' }, { delay: context.spec.limits.childTimeoutMs ?? NEVER_MS, id: 'limit.childTimeout' });
        }),
      },
    });
    const probe = await probeLimitTimers(mutant, { childTimeoutMs: null, staleTimeoutMs: null, maxRunTokens: null });
    expect(probe.armedAtStart).not.toEqual([]);
    expect(probe.pendingBeforeWait).not.toBe(0);
  });
});
