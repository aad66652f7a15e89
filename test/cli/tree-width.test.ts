import { describe, expect, it } from 'vitest';
import { COLOR_STYLE, PLAIN_STYLE, renderTree } from '../../src/cli/render.js';
import { AgentTree } from '../../src/cli/tree.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import type { HandleSnapshot } from '../../src/types.js';

const ref = (handleId: string, parentId: string | null, depth: number, goal: string) => ({ handleId, parentId, depth, goal, model: 'm' });

function handle(id: string, status: HandleSnapshot['status']): HandleSnapshot {
  return {
    id, name: id, status, parentId: null, depth: 1, role: 'leaf', agentType: 'general', model: 'm', goal: null, createdAt: '', updatedAt: '', revision: 1,
    lastInput: null, lastOutput: null, error: null, queueSize: 0, queuedPreview: null, closed: false, waitingForSlot: false,
    usage: { inputTokens: 0, outputTokens: 0 }, runs: 0, lastOutcome: null, previousStatus: null, partialOutput: null, worktree: null, awaitingApproval: null, progress: null, budget: null, onParentStop: 'cascade',
  };
}

const stats = (tokens: number) => ({ apiCalls: 1, usage: { inputTokens: tokens, outputTokens: 0 }, toolTrace: [], model: 'm', startedAt: 0 });
// eslint-disable-next-line no-control-regex
const visible = (line: string) => line.replace(/\u001b\[\d+m/g, '');

/** A tree of long goals, 6-digit token counts, minutes of elapsed time, three levels deep, every kind of activity. */
function busyTree(): { tree: AgentTree; now: number; tokens: Map<string, string> } {
  let now = 0;
  const tree = new AgentTree(() => now);
  const tokens = new Map<string, string>();
  const counts = { a: 123_456, b: 987_654, c: 456_789, d: 100_000 };
  const events: RuntimeEvent[] = [
    { type: 'handle-spawn', ...ref('a', null, 1, 'Map every file of the repository and count them by extension'), handle: handle('a', 'running') },
    { type: 'handle-spawn', ...ref('b', 'a', 2, 'Find every TODO and FIXME marker in the sources and list them'), handle: handle('b', 'running') },
    { type: 'handle-spawn', ...ref('c', 'b', 3, 'Read the README, the manifest and the changelog'), handle: handle('c', 'running') },
    { type: 'handle-spawn', ...ref('d', null, 1, 'Review the public API for naming consistency'), handle: handle('d', 'running') },
    { type: 'run-start', ...ref('a', null, 1, ''), runId: 1, input: 'go' },
    { type: 'run-start', ...ref('b', 'a', 2, ''), runId: 1, input: 'go' },
    { type: 'run-start', ...ref('c', 'b', 3, ''), runId: 1, input: 'go' },
    { type: 'run-start', ...ref('d', null, 1, ''), runId: 1, input: 'go' },
    { type: 'tool-call-start', ...ref('a', null, 1, ''), runId: 1, callId: 'x', tool: 'search_files_with_a_very_long_tool_name', argumentBytes: 2 },
    { type: 'model-call-end', ...ref('a', null, 1, ''), runId: 1, apiCalls: 1, usage: { inputTokens: counts.a, outputTokens: 0 } },
    { type: 'model-call-end', ...ref('b', 'a', 2, ''), runId: 1, apiCalls: 1, usage: { inputTokens: counts.b, outputTokens: 0 } },
    { type: 'text-delta', ...ref('b', 'a', 2, ''), runId: 1, delta: 'x' },
    { type: 'run-end', ...ref('c', 'b', 3, ''), runId: 1, outcome: 'interrupted', output: null, partialOutput: null, error: null, errorCode: null, details: undefined, stats: stats(counts.c), durationMs: 1 },
    { type: 'handle-update', ...ref('c', 'b', 3, ''), handle: { ...handle('c', 'interrupted'), usage: { inputTokens: counts.c, outputTokens: 0 } } },
    { type: 'model-call-end', ...ref('d', null, 1, ''), runId: 1, apiCalls: 1, usage: { inputTokens: counts.d, outputTokens: 0 } },
  ];
  for (const event of events) {
    now += 1_000;
    tree.apply(event);
  }
  now += 125_000;
  for (const [id, count] of Object.entries(counts)) tokens.set(id, count.toLocaleString('en-US'));
  return { tree, now, tokens };
}

describe('the terminal tree at the width of the terminal', () => {
  for (const width of [60, 80, 120]) {
    it(`fits ${width} columns with 6-digit token counts, every number whole`, () => {
      const { tree, now, tokens } = busyTree();
      for (const style of [PLAIN_STYLE, COLOR_STYLE]) {
        const lines = renderTree(tree, now, { style, width, showIds: false }).map(visible);
        expect(lines).toHaveLength(5);
        for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
        // No number is cut: nothing ends in a digit followed by the ellipsis.
        for (const line of lines) expect(line).not.toMatch(/\d…/);
        ['a', 'b', 'c', 'd'].forEach((id, index) => expect(lines[index === 3 ? 4 : index + 1]).toContain(tokens.get(id)));
        // Times are kept down to 60 columns, and shown whole.
        expect(lines[1]).toMatch(/ 2m\d\ds$/);
      }
    });
  }

  it('narrows text before it leaves out columns, then drops the tool count, the token unit and the activity', () => {
    const { tree, now } = busyTree();
    const at = (width: number) => renderTree(tree, now, { style: PLAIN_STYLE, width, showIds: false });
    expect(at(120)[1]).toMatch(/^├─ \S Map every file of the repository an… running +▸ search_files_with… +1 tool 123,456 tok +2m\d\ds$/);
    expect(at(80)[1]).toMatch(/^├─ \S Map every file of the r… running +▸ search_… +1 tool 123,456 tok +2m\d\ds$/);
    expect(at(60)[1]).toMatch(/^├─ \S Map every file of the repos… running +123,456 +2m\d\ds$/);
    expect(at(60)[3]).toMatch(/interrupted 456,789 +6\.0s$/);
  });
});
