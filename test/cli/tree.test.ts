import { describe, expect, it } from 'vitest';
import { LiveView } from '../../src/cli/live-view.js';
import { COLOR_STYLE, describeEvent, PLAIN_STYLE, renderTree } from '../../src/cli/render.js';
import { AgentTree, labelOf } from '../../src/cli/tree.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import type { HandleSnapshot } from '../../src/types.js';

const ref = (handleId: string, parentId: string | null = null, depth = 1) => ({ handleId, parentId, depth, goal: `Goal ${handleId}: details`, model: 'm' });

function handle(id: string, status: HandleSnapshot['status'], tokens = 0): HandleSnapshot {
  return {
    id,
    name: id,
    status,
    parentId: null,
    depth: 1,
    role: 'leaf',
    agentType: 'general',
    model: 'm',
    goal: `Goal ${id}: details`,
    createdAt: '',
    updatedAt: '',
  revision: 1,
    lastInput: null,
    lastOutput: null,
    error: null,
    queueSize: 0,
    queuedPreview: null,
    closed: false,
    waitingForSlot: false,
    usage: { inputTokens: tokens, outputTokens: 0 },
    runs: 0,
    lastOutcome: null,
    previousStatus: null,
  partialOutput: null,
    worktree: null,
    awaitingApproval: null,
    progress: null,
    budget: null,
    onParentStop: 'cascade',
  };
}

const stats = (tokens: number) => ({ apiCalls: 1, usage: { inputTokens: tokens, outputTokens: 0 }, toolTrace: [], model: 'm', startedAt: 0 });

/** A clock the test moves by hand. */
function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function feed(tree: AgentTree, time: ReturnType<typeof clock>, events: RuntimeEvent[]) {
  for (const event of events) {
    time.advance(100);
    tree.apply(event);
  }
}

describe('the agent tree', () => {
  it('labels an agent by its goal up to the colon', () => {
    expect(labelOf('Map the files: list them', 'x')).toBe('Map the files');
    expect(labelOf(null, 'sa_1')).toBe('sa_1');
    expect(labelOf('a'.repeat(60), 'x')).toBe(`${'a'.repeat(39)}…`);
  });

  it('follows status, current tool, tool count, tokens and elapsed time from runtime events', () => {
    const time = clock();
    const tree = new AgentTree(time.now);
    feed(tree, time, [
      { type: 'handle-spawn', ...ref('a'), handle: handle('a', 'idle') },
      { type: 'handle-spawn', ...ref('b'), handle: handle('b', 'idle') },
      { type: 'run-start', ...ref('a'), runId: 1, input: 'go' },
      { type: 'handle-update', ...ref('a'), handle: handle('a', 'running') },
      { type: 'run-start', ...ref('b'), runId: 1, input: 'go' },
      { type: 'tool-call-start', ...ref('a'), runId: 1, callId: 'c', tool: 'list_files', argumentBytes: 2 },
      { type: 'model-call-end', ...ref('b'), runId: 1, apiCalls: 1, usage: { inputTokens: 40, outputTokens: 2 } },
      { type: 'handle-update', ...ref('b'), handle: handle('b', 'running', 42) },
    ]);
    const a = tree.get('a')!;
    expect([a.tool, a.toolCount, tree.root.tool, tree.root.toolCount]).toEqual(['list_files', 1, 'delegation', 1]);
    expect(renderTree(tree, time.now(), { style: PLAIN_STYLE, width: 200, showIds: true })).toEqual([
      expect.stringMatching(/^\S parent agent +running +▸ delegation +1 tool +— +0\.8s$/) as string,
      expect.stringMatching(/^├─ \S Goal a \(a\) +running +▸ list_files +1 tool +0 tok +0\.5s$/) as string,
      expect.stringMatching(/^└─ \S Goal b \(b\) +running +thinking +0 tools +42 tok +0\.3s$/) as string,
    ]);
    feed(tree, time, [
      { type: 'tool-call-end', ...ref('a'), runId: 1, callId: 'c', tool: 'list_files', ok: true, resultBytes: 10, durationMs: 1 },
      { type: 'run-end', ...ref('a'), runId: 1, outcome: 'completed', output: 'ok', partialOutput: null, error: null, errorCode: null, details: undefined, stats: stats(120), durationMs: 700 },
      { type: 'handle-update', ...ref('a'), handle: handle('a', 'completed', 120) },
      { type: 'run-end', ...ref('b'), runId: 1, outcome: 'interrupted', output: null, partialOutput: null, error: null, errorCode: null, details: undefined, stats: stats(42), durationMs: 600 },
      { type: 'handle-update', ...ref('b'), handle: handle('b', 'interrupted', 42) },
    ]);
    tree.finishRoot('interrupted', null);
    const lines = renderTree(tree, time.now() + 5_000, { style: PLAIN_STYLE, width: 200, showIds: false });
    expect(lines[1]).toMatch(/^├─ ✔ Goal a +completed +1 tool +120 tok +0\.7s$/);
    expect(lines[2]).toMatch(/^└─ ■ Goal b +interrupted +0 tools +42 tok +0\.7s$/);
    expect(lines[0]).toMatch(/^■ parent agent +interrupted/);
  });

  it('nests grandchildren under their parent and cuts lines to the terminal width', () => {
    const time = clock();
    const tree = new AgentTree(time.now);
    feed(tree, time, [
      { type: 'handle-spawn', ...ref('a'), handle: handle('a', 'running') },
      { type: 'handle-spawn', ...ref('c', null), handle: handle('c', 'running') },
      { type: 'handle-spawn', ...ref('b', 'a', 2), handle: handle('b', 'running') },
    ]);
    expect(tree.ordered().map((row) => row.id)).toEqual(['parent', 'a', 'b', 'c']);
    const lines = renderTree(tree, time.now(), { style: PLAIN_STYLE, width: 40, showIds: false });
    // The spinner's frame depends on the time: compare without it.
    expect(lines.map((line) => line.replace(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, '*').slice(0, 10))).toEqual(['* parent a', '├─ * Goal ', '   └─ * Go', '└─ * Goal ']);
    expect(lines.every((line) => line.length <= 40)).toBe(true);
  });

  it('prints one line per notable event in plain mode', () => {
    const tree = new AgentTree(() => 0);
    const spawn: RuntimeEvent = { type: 'handle-spawn', ...ref('a'), handle: handle('a', 'idle') };
    tree.apply(spawn);
    expect(describeEvent(spawn, tree, 1_234)).toBe('[  1.23s]   + a spawned by the parent agent: Goal a');
    expect(describeEvent({ type: 'text-delta', ...ref('a'), runId: 1, delta: 'x' }, tree, 0)).toBeNull();
    expect(
      describeEvent({ type: 'run-end', ...ref('a'), runId: 1, outcome: 'completed', output: 'ok', partialOutput: null, error: null, errorCode: null, details: undefined, stats: stats(1_500), durationMs: 2_000 }, tree, 0),
    ).toBe('[  0.00s]   a completed: 0 tools, 1,500 tokens, 2.0s');
  });
});

describe('the live view', () => {
  it('redraws the tree in place on a terminal and gives the cursor back', () => {
    const written: string[] = [];
    const tree = new AgentTree(() => 0);
    const view = new LiveView({ write: (text: string) => written.push(text), isTTY: true, columns: 80 }, tree, {
      mode: 'tty',
      style: COLOR_STYLE,
      startedAt: 0,
      now: () => 0,
      redrawMs: 60_000,
    });
    view.start();
    tree.apply({ type: 'handle-spawn', ...ref('a'), handle: handle('a', 'running') });
    view.note('hello');
    view.stop();
    const output = written.join('');
    expect(output.startsWith('\u001b[?25l')).toBe(true);
    // The note moves up over the one-line tree, clears it, prints, and the two-line tree is drawn again.
    expect(output).toContain('\u001b[1F\u001b[Jhello\n\u001b[2K');
    expect(output).toContain('\u001b[2F\u001b[2K');
    expect(output.endsWith('\u001b[?25h')).toBe(true);
    view.stop();
    expect(written.join('')).toBe(output);
  });

  it('prints plain lines and the final tree without any escape code elsewhere', () => {
    const written: string[] = [];
    const tree = new AgentTree(() => 0);
    const view = new LiveView({ write: (text: string) => written.push(text) }, tree, { mode: 'plain', style: PLAIN_STYLE, startedAt: 0, now: () => 0 });
    view.start();
    const event: RuntimeEvent = { type: 'handle-spawn', ...ref('a'), handle: handle('a', 'idle') };
    tree.apply(event);
    view.event(event);
    view.stop();
    const output = written.join('');
    expect(output).not.toContain('\u001b');
    expect(output.split('\n')).toEqual([
      '[  0.00s]   + a spawned by the parent agent: Goal a',
      expect.stringMatching(/^⠋ parent agent/) as string,
      expect.stringMatching(/^└─ ○ Goal a \(a\) +idle/) as string,
      '',
    ]);
  });
});
