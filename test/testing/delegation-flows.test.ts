import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AgentRun } from '../../src/agent/create-runtime.js';
import { DelegationFlowCheckError } from '../../src/errors.js';
import { checkDelegationFlows } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import type { AnyTool } from '../../src/toolkit/define-tool.js';
import { defineTool } from '../../src/toolkit/define-tool.js';

const readFile = defineTool({
  name: 'read_file',
  toolset: 'read',
  description: 'Reads a file.',
  parameters: z.object({ path: z.string() }),
  execute: () => 'text',
});
const writeFile = defineTool({
  name: 'write_file',
  toolset: 'write',
  description: 'Writes a file.',
  parameters: z.object({ path: z.string(), text: z.string() }),
  execute: () => 'written',
});

/** One model call over HTTP offering `tools`, the way a run of yours might make it. */
async function callModel(server: FakeServer, input: string, tools: readonly AnyTool[], signal: AbortSignal): Promise<string> {
  const response = await fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'fake',
      messages: [{ role: 'user', content: input }],
      ...(tools.length > 0 ? { tools: tools.map((tool) => ({ type: 'function', function: { name: tool.name, parameters: { type: 'object' } } })) } : {}),
    }),
    signal,
  });
  if (!response.ok) throw new Error(`the model answered ${response.status}`);
  const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
  return body.choices[0]!.message.content;
}

/** A run as it should be: it offers the model its handle's tools and passes its signal on. */
const correctRun = (server: FakeServer): AgentRun => (input, { signal, tools }) => callModel(server, input, tools, signal);

/** Offers the model every tool of the root agent, not its own: delegate_task and write_file reach a child that may not have them. */
const leaksTools = (server: FakeServer): AgentRun => (input, { signal, runtime }) => callModel(server, input, runtime.toolsOf(null), signal);

/** Swallows every failure, the abort included, and reports success. */
const succeedsAfterAbort = (server: FakeServer): AgentRun =>
  async (input, { signal, tools }) => {
    try {
      return await callModel(server, input, tools, signal);
    } catch {
      return 'done anyway';
    }
  };

async function failureOf(check: Promise<unknown>): Promise<DelegationFlowCheckError> {
  const error = await check.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DelegationFlowCheckError);
  return error as DelegationFlowCheckError;
}

describe('checkDelegationFlows (subagents/testing)', () => {
  it('passes the model run over the fake server, with tools in two toolsets, on a few seeds', async () => {
    for (const seed of [1, 2, 3]) {
      const started = performance.now();
      const report = await checkDelegationFlows({
        runtimeOptions: (server) => ({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake', tools: [readFile, writeFile] }),
        count: 8,
        seed,
      });
      console.log(`delegation flows, seed ${seed}: ${JSON.stringify(report)} in ${Math.round(performance.now() - started)} ms`);
      expect(report.flows).toBe(8);
      expect(report.calls).toBe(8 * 12);
      expect(report.refusals).toBeGreaterThan(0);
      expect(report.refusals).toBeLessThan(report.calls);
      expect(report.requests).toBeGreaterThan(0);
    }
  }, 60_000);

  it('passes a run of yours that offers its own tools and lets the abort through', async () => {
    const report = await checkDelegationFlows({ run: correctRun, count: 8, seed: 7 });
    expect(report.calls).toBe(8 * 12);
  }, 60_000);

  it('catches a run that offers the model tools its child does not have, with a short path', async () => {
    const error = await failureOf(checkDelegationFlows({ run: leaksTools, count: 8, seed: 1 }));
    console.log(error.message);
    expect(error.problem).toMatch(/offered tools its child does not have/);
    expect(error.actual).toMatch(/delegate_task/);
    expect(error.calls).toHaveLength(1);
    expect(error.message).toMatch(/\n {2}calls: +delegate_task\(\{"goal":"goal \[[\d.]+\]"/);
  }, 60_000);

  it('catches a run that reports success after an abort, with a short path', async () => {
    const error = await failureOf(checkDelegationFlows({ run: succeedsAfterAbort, count: 20, seed: 1 }));
    console.log(error.message);
    expect(error.problem).toMatch(/success after its signal aborted/);
    // What aborts the run is the last call: an interrupt, a close, an interrupting input, or the shutdown at the end of the flow.
    expect(error.calls.at(-1)).toMatch(/^(interrupt_agent|close_agent|send_input|shutdown)\(/);
    expect(error.calls.length).toBeLessThanOrEqual(13);
    expect(error.actual).toMatch(/^run #\d+ of sa_\S+ on "(goal|input) \[[\d./]+\]" resolved$/);
  }, 60_000);

  it('refuses options with neither or both of run and runtimeOptions', async () => {
    await expect(checkDelegationFlows({})).rejects.toThrow(/exactly one of `run` and `runtimeOptions`/);
  });
});
