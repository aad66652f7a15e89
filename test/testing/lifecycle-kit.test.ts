import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { markdownBlocks } from '../support/doc-examples.js';
import type { AgentRun } from '../../src/agent/create-runtime.js';
import { LifecycleCheckError } from '../../src/errors.js';
import { checkLifecycle, formatLifecyclePath, lifecyclePaths } from '../../src/testing/index.js';
import type { FakeServer, LifecycleInvariantContext } from '../../src/testing/index.js';

/** One model call over HTTP, the way a run of yours might make it. */
async function callModel(server: FakeServer, input: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake', messages: [{ role: 'user', content: input }] }),
    ...(signal ? { signal } : {}),
  });
}

async function answerOf(response: Response): Promise<string> {
  const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
  return body.choices[0]!.message.content;
}

/** A run as it should be: the signal goes to the request, a failure is an Error. */
const correctRun = (server: FakeServer): AgentRun =>
  async (input, { signal }) => {
    const response = await callModel(server, input, signal);
    if (!response.ok) throw new Error(`the model answered ${response.status}`);
    return answerOf(response);
  };

/** Forgets to pass the signal on: an interrupted run keeps its request, and itself, going. */
const ignoresAbort = (server: FakeServer): AgentRun =>
  async (input) => {
    const response = await callModel(server, input);
    if (!response.ok) throw new Error(`the model answered ${response.status}`);
    return answerOf(response);
  };

/** Swallows every failure, the abort included, and reports success. */
const succeedsAfterAbort = (server: FakeServer): AgentRun =>
  async (input, { signal }) => {
    try {
      const response = await callModel(server, input, signal);
      return response.ok ? await answerOf(response) : 'no answer';
    } catch {
      return 'done anyway';
    }
  };

/** Throws a string when the model fails. */
const throwsNonError = (server: FakeServer): AgentRun =>
  async (input, { signal }) => {
    const response = await callModel(server, input, signal);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the bug under test
    if (!response.ok) throw `model failed with ${response.status}`;
    return answerOf(response);
  };

async function failureOf(check: Promise<unknown>): Promise<LifecycleCheckError> {
  const error = await check.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(LifecycleCheckError);
  return error as LifecycleCheckError;
}

describe('checkLifecycle (subagents/testing)', () => {
  it('passes a run that honours its signal and fails with Errors, on every edge of the lifecycle', async () => {
    const paths = lifecyclePaths({ strategy: 'edges' });
    const started = performance.now();
    const report = await checkLifecycle({ run: correctRun, paths });
    console.log(`lifecycle kit: ${report.paths} paths, ${report.steps} steps, ${report.runs} runs in ${Math.round(performance.now() - started)} ms`);
    expect(report.paths).toBe(paths.length);
    expect(report.steps).toBe(paths.reduce((total, path) => total + path.length, 0));
    expect(report.runs).toBeGreaterThan(report.paths);
  }, 120_000);

  it('passes the random walks and the shortest paths too', async () => {
    for (const strategy of ['shortest', 'random'] as const) {
      const report = await checkLifecycle({ run: correctRun, paths: lifecyclePaths({ strategy, seed: 3, count: 30 }) });
      expect(report.paths).toBeGreaterThan(10);
    }
  }, 120_000);

  it('catches a run that ignores its AbortSignal, at the shortest path that shows it', async () => {
    const error = await failureOf(checkLifecycle({ run: ignoresAbort, budgetMs: 300 }));
    expect(error.message).toMatch(/^the run ignores its AbortSignal: its model request stayed open after `(cancel|close|interrupt|send\(interrupt\))`\n {2}path: {5}spawn → send → (cancel|close|interrupt|send\(interrupt\))\n/);
    expect(error.path).toHaveLength(2);
  });

  it('catches a run that reports success after an abort', async () => {
    const error = await failureOf(checkLifecycle({ run: succeedsAfterAbort }));
    expect(error.message).toMatch(/^the run reported success after `(cancel|close|interrupt|send\(interrupt\))` aborted it\n/);
    expect(error.path).toHaveLength(2);
    expect(error.actual).toBe('it resolved with string "done anyway"');
  });

  it('catches a run that throws something that is not an Error', async () => {
    const error = await failureOf(checkLifecycle({ run: throwsNonError }));
    expect(error.message).toBe(
      [
        'the run failed with something that is not an Error',
        '  path:     spawn → send → fail',
        '  expected: an Error (its message and cause reach the run-end event)',
        '  actual:   string "model failed with 500"',
      ].join('\n'),
    );
  });

  it('catches a run that ends without waiting for its model, and checks invariants of yours', async () => {
    const eager = await failureOf(checkLifecycle({ run: () => () => Promise.resolve('instant'), paths: [['send']] }));
    expect(eager.message).toMatch(/^run #1 ended before its model answered\n {2}path: {5}spawn → send\n/);

    // An invariant that holds passes; one that does not (a queue never grows) fails where it first breaks.
    const queueSize = ({ runtime, handleId, expected }: LifecycleInvariantContext) => expect(runtime.get(handleId).queueSize).toBe(expected.queue.length);
    const holds = await checkLifecycle({ run: correctRun, paths: lifecyclePaths({ strategy: 'shortest' }), invariants: [queueSize] });
    expect(holds.paths).toBeGreaterThan(10);
    const invariant = await failureOf(
      checkLifecycle({ run: correctRun, paths: [['send', 'send', 'finish']], invariants: [({ runtime, handleId }) => expect(runtime.get(handleId).queueSize).toBe(0)] }),
    );
    expect(invariant.path).toEqual(['send', 'send']);
  });

  it('the README example runs as written and prints what its comment says', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const block = markdownBlocks(readFileSync(`${root}README.md`, 'utf8'), 'README.md').find((candidate) => candidate.tags.includes('lifecycle-example'));
    expect(block, 'the README has the lifecycle example').toBeDefined();
    const printed = block!.code
      .split('\n')
      .filter((line) => line.startsWith('// ') && /^\/\/ (the | {2})/.test(line))
      .map((line) => line.slice(3));
    // Inside the repository (ignored by git), with the package name pointing at the source.
    const directory = `${root}.doc-examples/run-${process.pid}`;
    mkdirSync(directory, { recursive: true });
    const file = `${directory}/readme-lifecycle-example.ts`;
    writeFileSync(file, block!.code.replaceAll("'subagents/testing'", `'${root}src/testing/index.js'`));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import(/* @vite-ignore */ file);
      expect(log.mock.calls.map((call) => String(call[0]))).toEqual([printed.join('\n')]);
    } finally {
      log.mockRestore();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('writes paths as a line to paste', () => {
    expect(formatLifecyclePath(['send', 'send(interrupt)', 'close'])).toBe('spawn → send → send(interrupt) → close');
  });
});
