import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { handleMachine } from '../../src/machines/handle.js';
import { checkLifecycle, expectLifecycle, lifecyclePaths } from '../../src/testing/index.js';
import { CHILD_TIMEOUT_MS, EVENT_KINDS, STALE_TIMEOUT_MS, checkHandleChart, describeMismatch, probeLimitTimers } from '../support/handle-model.js';
import type { CheckReport } from '../support/handle-model.js';

const NODES = [
  'idle',
  'running.awaitingSlot',
  'running.working.active',
  'running.working.waiting',
  'completed',
  'error',
  'interrupted',
  'cancelled',
  'closed',
];

function summary(report: CheckReport): string {
  const { plan } = report;
  return `${plan.states} states, ${plan.edges} edges, ${plan.paths.length} paths, ${plan.steps} steps`;
}

describe('handle statechart (model-based: xstate/graph paths replayed on a real actor, checked against the spec oracle)', () => {
  for (const delegated of [false, true]) {
    it(`behaves as the spec says on every step of every path (delegated: ${delegated})`, async () => {
      const report = await checkHandleChart(handleMachine, { delegated });
      console.log(`handle model (delegated: ${delegated}): ${summary(report)}, longest path ${Math.max(...report.plan.paths.map((path) => path.length))}`);
      expect(report.mismatches.map(describeMismatch).slice(0, 5), `${report.mismatches.length} paths differ from the oracle`).toEqual([]);

      expect([...report.coverage.nodes].sort()).toEqual([...NODES].sort());
      // Every event kind reaches every state node, except those the bounds never offer there.
      const missing = NODES.flatMap((node) => EVENT_KINDS.map((kind) => `${node}|${kind}`)).filter((pair) => !report.coverage.pairs.has(pair));
      // A run's error event can only come from a run: outside `working` it needs an aborted run to settle late.
      expect(missing.filter((pair) => !pair.endsWith('|error')), 'every (state, event) pair is delivered to a real actor').toEqual([]);
      expect(report.coverage.lateSettlements).toBeGreaterThan(0);
      expect(report.coverage.budgetEnds).toBeGreaterThan(0);
      expect(report.coverage.clockTimers).toBeGreaterThan(0);
    }, 120_000);
  }
});

describe('handle limit timers (simulated clock)', () => {
  it('an unset limit costs no timer: a run with no limits sets none and runs on however long it takes', async () => {
    const probe = await probeLimitTimers(handleMachine, { childTimeoutMs: null, staleTimeoutMs: null, maxRunTokens: null });
    expect(probe).toEqual({
      armedAtStart: [],
      armedByProgress: [],
      pendingBeforeWait: 0,
      nodeAfterWait: 'running.working.active',
      runsEndedAfterWait: 0,
      runStillActive: true,
    });
  });

  it('a set limit arms exactly its own timer, and it ends the run', async () => {
    const staleOnly = await probeLimitTimers(handleMachine, { childTimeoutMs: null, staleTimeoutMs: STALE_TIMEOUT_MS, maxRunTokens: null });
    // Back to active and plain progress each arm stale detection anew (the one before is cancelled).
    expect(staleOnly).toMatchObject({ armedAtStart: [STALE_TIMEOUT_MS], armedByProgress: [STALE_TIMEOUT_MS, STALE_TIMEOUT_MS], pendingBeforeWait: 1 });
    expect(staleOnly).toMatchObject({ nodeAfterWait: 'error', runsEndedAfterWait: 1, runStillActive: false });

    const childOnly = await probeLimitTimers(handleMachine, { childTimeoutMs: CHILD_TIMEOUT_MS, staleTimeoutMs: null, maxRunTokens: null });
    expect(childOnly).toMatchObject({ armedAtStart: [CHILD_TIMEOUT_MS], armedByProgress: [], pendingBeforeWait: 1 });
    expect(childOnly).toMatchObject({ nodeAfterWait: 'error', runsEndedAfterWait: 1, runStillActive: false });
  });
});

describe('the runtime and its model run, through the public lifecycle kit (subagents/testing)', () => {
  it('the spec the kit walks is the one the chart test checks: an interrupt keeps the queue, a resume runs it', () => {
    expect(expectLifecycle(['send', 'send', 'interrupt', 'resume']).map((step) => [step.state.status, step.events])).toEqual([
      ['running', ['status running', 'run-start #1 "input-0"']],
      ['running', []],
      ['interrupted', ['run-end #1 interrupted', 'input-end "input-0" processed by #1 (interrupted)', 'status interrupted']],
      ['running', ['status running', 'run-start #2 "input-1"']],
    ]);
  });

  it('the model run passes every edge of the lifecycle, each step checked on a real runtime over HTTP', async () => {
    const paths = lifecyclePaths({ strategy: 'edges' });
    const report = await checkLifecycle({
      runtimeOptions: (server) => ({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake-model', maxRetries: 0, logger: 'error' }),
      paths,
    });
    console.log(`lifecycle kit over the model run: ${report.paths} paths, ${report.steps} steps, ${report.runs} runs`);
    expect(report).toMatchObject({ paths: paths.length });
    expect(report.runs).toBeGreaterThan(paths.length);
  }, 120_000);
});
