import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime, RuntimeOptions } from '../../src/agent/create-runtime.js';
import { createAgentTools } from '../../src/agent-tools/agent-tools.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import { reply, scriptByConversation } from '../../src/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { useFakeServers } from '../support/fake-servers.js';

type ProgressEvent = Extract<RuntimeEvent, { type: 'progress' }>;

const fakeServer = useFakeServers();
let runtime: Runtime | undefined;
closeAfterEach(() => [runtime]);
afterEach(() => {
  vi.useRealTimers();
});

const API_KEY = 'key-for-progress-test-0123456789';
const LAST_WORDS = 'Checking the logs first.';

/** A tool that holds its call until released (or its call is stopped). */
function slowTool() {
  let release: () => void = () => {};
  let started: () => void = () => {};
  const running = new Promise<void>((resolve) => (started = resolve));
  const tool = defineTool({
    name: 'slow_tool',
    toolset: 'read',
    description: 'Takes its time.',
    parameters: z.object({}),
    execute: (_args, { signal }) =>
      new Promise<string>((resolve) => {
        release = () => resolve('slow result');
        signal.addEventListener('abort', () => resolve('stopped'), { once: true });
        started();
      }),
  });
  return { tool, running, release: () => release() };
}

/** The model says something long (a key in it), calls `slow_tool`, then answers. */
async function modelRuntime(options: Partial<RuntimeOptions>) {
  const text = `${'noise '.repeat(150)}token ${API_KEY} ${LAST_WORDS}`;
  const { server } = await fakeServer({
    script: scriptByConversation((turn) =>
      turn.lastRole === 'tool' ? reply.text('all done') : reply.toolCall('slow_tool', {}, { content: text, usage: { promptTokens: 12, completionTokens: 5 } }),
    ),
  });
  const slow = slowTool();
  const client = new OpenAI({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0, logLevel: 'off' });
  runtime = createRuntime({ client, model: 'fake-model', tools: [slow.tool], ...options });
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => events.push(event));
  return { server, slow, events };
}

/** Resolves with the first progress event that matches. */
function progressWhere(target: Runtime, matches: (event: ProgressEvent) => boolean): Promise<ProgressEvent> {
  return new Promise((resolve) => {
    const stop = target.subscribe((event) => {
      if (event.type === 'progress' && matches(event)) {
        stop();
        resolve(event);
      }
    });
  });
}

const FAKED: Parameters<typeof vi.useFakeTimers>[0] = { toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] };

/** A custom run that says it started a tool, then waits until released: no I/O, so the clock can be faked. */
function heldRuntime(progressIntervalMs: number | undefined) {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  runtime = createRuntime({
    run: async (_input, context) => {
      context.emit({ type: 'tool-call-start', callId: 'call_1', tool: 'held_tool', argumentBytes: 2 });
      await held;
      return 'done';
    },
    ...(progressIntervalMs === undefined ? {} : { progressIntervalMs }),
  });
  const progress: ProgressEvent[] = [];
  runtime.subscribe((event) => event.type === 'progress' && progress.push(event));
  return { progress, release: () => release() };
}

describe('live progress', () => {
  it('emits a progress event every progressIntervalMs while a run is in flight, and none after it ends', async () => {
    vi.useFakeTimers(FAKED);
    const { progress, release } = heldRuntime(50);
    const handle = runtime!.spawn({ message: 'go' });
    await vi.advanceTimersByTimeAsync(49);
    expect(progress).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(progress).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(150);
    expect(progress.map((event) => event.elapsedMs)).toEqual([50, 100, 150, 200]);
    expect(progress[3]).toMatchObject({ handleId: handle.id, runId: 1, currentTool: { name: 'held_tool', callId: 'call_1' }, toolElapsedMs: 200, awaitingApproval: null });
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime!.get(handle.id).status).toBe('completed');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(progress).toHaveLength(4);
  });

  it('emits them every 5000 ms by default', async () => {
    vi.useFakeTimers(FAKED);
    const { progress, release } = heldRuntime(undefined);
    runtime!.spawn({ message: 'go' });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(progress).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(progress).toHaveLength(1);
    release();
  });

  it('emits none with progressIntervalMs: 0', async () => {
    vi.useFakeTimers(FAKED);
    const { progress, release } = heldRuntime(0);
    const handle = runtime!.spawn({ message: 'go' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runtime!.get(handle.id).status).toBe('running');
    expect(progress).toHaveLength(0);
    // The snapshot still shows what the run is doing.
    expect(runtime!.get(handle.id).progress?.currentTool?.name).toBe('held_tool');
    release();
  });

  it('over a model run: tokens, model calls, the current tool and the text tail, in events, the snapshot, agent_status and list_agents', async () => {
    const { slow, events } = await modelRuntime({ progressIntervalMs: 20 });
    const delegation = runtime!.delegate({ goal: 'read the logs' });
    const [handleId] = delegation.handleIds;
    await slow.running;
    const first = await progressWhere(runtime!, (event) => event.currentTool?.name === 'slow_tool');
    // A few more, to see the interval between them.
    await progressWhere(runtime!, (event) => event.elapsedMs >= first.elapsedMs + 60);

    expect(first).toMatchObject({ handleId, depth: 1, runId: 1, apiCalls: 1, usage: { inputTokens: 12, outputTokens: 5 }, awaitingApproval: null });
    expect(first.lastModelCallEndedAt).not.toBeNull();
    expect(first.toolElapsedMs).toBeGreaterThanOrEqual(0);
    // Bounded: the last 300 characters at most (fewer where a key was replaced).
    expect(first.textTail!.length).toBeLessThanOrEqual(300);
    expect(first.textTail!.length).toBeGreaterThan(250);
    expect(first.textTail?.endsWith(`token [redacted] ${LAST_WORDS}`)).toBe(true);
    const ticks = events.filter((event): event is ProgressEvent => event.type === 'progress').map((event) => event.elapsedMs);
    for (let index = 1; index < ticks.length; index += 1) expect(ticks[index]! - ticks[index - 1]!).toBeGreaterThanOrEqual(15);

    const snapshot = runtime!.get(handleId!);
    expect(snapshot.status).toBe('running');
    expect(snapshot.progress).toMatchObject({ apiCalls: 1, usage: { inputTokens: 12, outputTokens: 5 }, currentTool: { name: 'slow_tool' }, textTail: first.textTail });

    const dispatch = createToolDispatcher(runtime!, createAgentTools(runtime!), { handleId: null });
    const status = JSON.parse(await dispatch('agent_status', JSON.stringify({ target: handleId }))) as { handle: { progress: Record<string, unknown> } };
    expect(status.handle.progress).toMatchObject({ modelCalls: 1, tokens: 17, currentTool: 'slow_tool', awaitingApprovalFor: null, lastText: first.textTail });
    expect(status.handle.progress.currentToolForMs).toEqual(expect.any(Number));
    const listed = JSON.parse(await dispatch('list_agents', '{}')) as { agents: Array<{ progress: Record<string, unknown> }> };
    expect(listed.agents[0]?.progress).toMatchObject({ modelCalls: 1, tokens: 17, currentTool: 'slow_tool' });
    expect(listed.agents[0]?.progress).not.toHaveProperty('lastText');

    slow.release();
    const { results } = await delegation.result;
    expect(results[0]?.status).toBe('completed');
    expect(runtime!.get(handleId!).progress).toBeNull();
    expect(JSON.stringify(events)).not.toContain(API_KEY);
  });

  it('a child timeout says what the run was doing: the tool and for how long, the last model call, the last text', async () => {
    await modelRuntime({ childTimeoutMs: 300 });
    const { results } = await runtime!.delegate({ goal: 'read the logs' }).result;
    expect(results[0]?.status).toBe('timeout');
    expect(results[0]?.error).toMatch(
      /^The run exceeded childTimeoutMs \(300 ms\) and was stopped\. When stopped it was running tool `slow_tool` for \d+ ms; its last model call \(1 in all\) ended \d+ ms before; its last text: ".*token \[redacted\] Checking the logs first\."$/,
    );
    expect(results[0]?.error).not.toContain(API_KEY);
  });

  it('a stale timeout says the same', async () => {
    await modelRuntime({ staleTimeoutMs: 150 });
    const delegation = runtime!.delegate({ goal: 'read the logs' });
    const { results } = await delegation.result;
    expect(results[0]?.status).toBe('timeout');
    expect(results[0]?.error).toMatch(/no model or tool progress for 150 ms \(staleTimeoutMs\) and was stopped\. When stopped it was running tool `slow_tool` for \d+ ms; its last model call/);
    expect(runtime!.get(delegation.handleIds[0]!).error).toBe(results[0]?.error);
  });

  it('a timeout before any model call says so', async () => {
    const { server } = await fakeServer({ script: () => reply.hang() });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake-model', childTimeoutMs: 100 });
    const { results } = await runtime.delegate({ goal: 'wait' }).result;
    expect(results[0]?.error).toMatch(/When stopped it was running no tool; no model call had ended; it had produced no text$/);
  });
});
