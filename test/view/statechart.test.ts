import { describe, expect, it } from 'vitest';
import { handleMachine } from '../../src/machines/handle.js';
import { activeStateIds, describeMachine } from '../../src/view/statechart.js';
import type { ChartNode } from '../../src/view/statechart.js';

const find = (node: ChartNode, id: string): ChartNode | undefined => (node.id === id ? node : node.children.map((child) => find(child, id)).find(Boolean));

describe('the statechart the view draws', () => {
  const chart = describeMachine(handleMachine);

  it('nests the handle chart’s states as the machine defines them', () => {
    expect(chart.children.map((node) => node.key)).toEqual(['idle', 'running', 'completed', 'error', 'interrupted', 'cancelled', 'closed']);
    expect(chart.initial).toBe('idle');
    const running = find(chart, 'handle.running')!;
    expect(running).toMatchObject({ type: 'compound', initial: 'awaitingSlot' });
    expect(running.children.map((node) => node.key)).toEqual(['awaitingSlot', 'working']);
    expect(find(chart, 'handle.running.working')!.children.map((node) => node.key)).toEqual(['active', 'waiting']);
  });

  it('lists each state’s transitions with their targets and guards, combined guards by their parts', () => {
    expect(find(chart, 'handle.closed')!.transitions).toEqual([{ event: 'HANDLE.RESUME', targets: ['handle.idle'], guard: null, reenter: false }]);
    expect(find(chart, 'handle.interrupted')!.transitions).toContainEqual({ event: 'HANDLE.RESUME', targets: ['handle.running'], guard: 'hasQueuedInput', reenter: false });
    const progress = find(chart, 'handle.running.working.waiting')!.transitions.filter((transition) => transition.event === 'RUN.PROGRESS');
    expect(progress.map((transition) => transition.guard)).toContain('overBudget');
    expect(progress.some((transition) => transition.guard?.includes(' and '))).toBe(true);
    const settled = find(chart, 'handle.running.working')!.transitions.filter((transition) => transition.event === 'xstate.done.actor.agentRun');
    expect(settled.map((transition) => transition.targets[0])).toEqual(['handle.running', 'handle.completed']);
  });

  it('makes every state of a value active, outermost first', () => {
    expect(activeStateIds('handle', 'idle')).toEqual(['handle', 'handle.idle']);
    expect(activeStateIds('handle', { running: { working: 'waiting' } })).toEqual(['handle', 'handle.running', 'handle.running.working', 'handle.running.working.waiting']);
    // Every id it names exists in the chart.
    for (const id of activeStateIds('handle', { running: { working: 'active' } })) expect(find(chart, id)).toBeDefined();
  });
});
