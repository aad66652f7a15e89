import { describe, expect, it } from 'vitest';
import { handleMachine } from '../../src/machines/handle.js';
import { EVENT_KINDS, checkHandleChart, describeMismatch } from '../support/handle-model.js';
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
