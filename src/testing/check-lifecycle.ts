/**
 * `checkLifecycle`: replays lifecycle paths on a real runtime with your run
 * (or your runtime options) against the fake model server, and checks every
 * step against the handle spec. Plain async code: any test runner will do.
 */
import { createRuntime } from '../agent/create-runtime.js';
import type { AgentRun, AgentRunResult, Runtime, RuntimeOptions } from '../agent/create-runtime.js';
import type { RuntimeEvent } from '../runtime/events.js';
import { BadArgumentError, LifecycleCheckError } from '../errors.js';
import { describeEvent, isWorkingState } from './handle-spec.js';
import { startHeldModel } from './held-model.js';
import type { HeldModel } from './held-model.js';
import { initialLifecycleState, lifecycleStep } from './lifecycle-model.js';
import type { LifecyclePath, LifecycleState, LifecycleStep } from './lifecycle-model.js';
import { lifecyclePaths } from './lifecycle-paths.js';
import { reply } from './replies.js';
import type { FakeServer } from './types.js';

/** What an invariant of yours is given after every step. */
export interface LifecycleInvariantContext {
  runtime: Runtime;
  handleId: string;
  path: LifecyclePath;
  /** The index in `path` of the step just taken. */
  step: number;
  /** The state the spec expects now. */
  expected: LifecycleState;
}

/** A check of your own after every step: throw (or reject) to fail the path. */
export type LifecycleInvariant = (context: LifecycleInvariantContext) => void | Promise<void>;

/** Options of `checkLifecycle`: a run, or runtime options, each made for the fake model server the check starts. */
export interface CheckLifecycleOptions {
  /** Your run function, given the fake model server to call (`server.url` is an OpenAI-compatible base URL). */
  run?: (server: FakeServer) => AgentRun;
  /** Or your runtime options (a model run pointed at `server.url`, your tools, agent types, hooks …). */
  runtimeOptions?: (server: FakeServer) => RuntimeOptions;
  /** @default lifecyclePaths({ strategy: 'edges' }) */
  paths?: readonly LifecyclePath[];
  invariants?: readonly LifecycleInvariant[];
  /** How long a step may take to show its effect (a request aborted, a run settled, an event delivered) before it fails. @default 2000 */
  budgetMs?: number;
}

/** What a passing check replayed. */
export interface LifecycleCheckReport {
  paths: number;
  steps: number;
  /** Runs started over all paths. */
  runs: number;
}

interface RunCall {
  runId: number;
  signal: AbortSignal;
  result: { ok: true; output: AgentRunResult } | { ok: false; error: unknown } | null;
}

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function preview(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return `${typeof value} ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`;
}

function describeRuntimeEvent(event: RuntimeEvent): string | null {
  switch (event.type) {
    case 'handle-update':
      return describeEvent.status(event.handle.status);
    case 'run-start':
      return describeEvent.runStart(event.runId, event.input);
    case 'run-end':
      return `run-end #${event.runId} ${event.outcome}`;
    case 'input-end':
      if (event.handedBack) return describeEvent.handedBack(event.input, event.handedBack);
      if (event.runId === null || event.outcome === null) return `input-end ${JSON.stringify(event.input)} neither processed nor handed back`;
      return describeEvent.processed(event.input, event.runId, event.outcome);
    default:
      return null;
  }
}

/**
 * Replays each lifecycle path on a fresh runtime running your run (or your
 * runtime options) against a fake model server that holds every request
 * until a `finish` or `fail` step answers it; after every step it checks the
 * status the spec expects, the runtime events (one outcome per started run,
 * every accepted input ended once), that a run stopped by interrupt, cancel
 * or close saw its signal abort, closed its model request and rejected, that
 * a failing run throws an Error, the hooks once per run, and your own
 * invariants. The first failure throws a `LifecycleCheckError` whose message
 * is the path up to the failing step (shortest paths are replayed first),
 * what was expected and what happened.
 *
 * @example
 * ```ts
 * const report = await checkLifecycle({
 *   run: (server) => async (input, { signal }) => {
 *     const response = await fetch(`${server.url}/chat/completions`, {
 *       method: 'POST',
 *       headers: { 'content-type': 'application/json' },
 *       body: JSON.stringify({ model: 'fake', messages: [{ role: 'user', content: input }] }),
 *       signal,
 *     });
 *     if (!response.ok) throw new Error(`the model answered ${response.status}`);
 *     return 'done';
 *   },
 * });
 * console.log(`${report.paths} paths, ${report.steps} steps`);
 * ```
 */
export async function checkLifecycle(options: CheckLifecycleOptions): Promise<LifecycleCheckReport> {
  if ((options.run === undefined) === (options.runtimeOptions === undefined)) {
    throw new BadArgumentError('options', 'exactly one of `run` and `runtimeOptions`, each a function of the fake model server', options);
  }
  const budgetMs = options.budgetMs ?? 2000;
  const paths = options.paths ?? lifecyclePaths({ strategy: 'edges' });
  const model = await startHeldModel();
  const report: LifecycleCheckReport = { paths: 0, steps: 0, runs: 0 };
  try {
    const base = options.runtimeOptions ? options.runtimeOptions(model.server) : { run: options.run!(model.server) };
    for (const path of paths) {
      report.runs += await replay(path, base, model, budgetMs, options.invariants ?? []);
      report.paths += 1;
      report.steps += path.length;
    }
    return report;
  } finally {
    await model.server.close();
  }
}

/** Replays one path; returns the runs it started, or throws at the first step that differs from the spec. */
async function replay(path: LifecyclePath, base: RuntimeOptions, model: HeldModel, budgetMs: number, invariants: readonly LifecycleInvariant[]): Promise<number> {
  const calls: RunCall[] = [];
  const log: string[] = [];
  const starts: number[] = [];
  const stops: number[] = [];
  const userRun = base.run;
  const run: RuntimeOptions['run'] =
    typeof userRun === 'function'
      ? (input, context) => {
          const call: RunCall = { runId: context.runId, signal: context.signal, result: null };
          calls.push(call);
          let promise: Promise<AgentRunResult>;
          try {
            promise = Promise.resolve(userRun(input, context));
          } catch (error) {
            // Whatever was thrown is what a run rejecting with it would give.
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
            promise = Promise.reject(error);
          }
          promise.then(
            (output) => void ((call.result = { ok: true, output }), model.wake()),
            (error: unknown) => void ((call.result = { ok: false, error }), model.wake()),
          );
          return promise;
        }
      : userRun;
  const runtime = createRuntime({
    ...base,
    ...(run === undefined ? {} : { run }),
    onSubagentStart: (event) => (starts.push(event.runId), base.onSubagentStart?.(event)),
    onSubagentStop: (event) => (stops.push(event.runId), base.onSubagentStop?.(event)),
  });
  let handleId = '';
  runtime.subscribe((event) => {
    const line = 'handleId' in event && event.handleId === handleId ? describeRuntimeEvent(event) : null;
    if (line !== null) log.push(line);
    model.wake();
  });
  // The spawn itself reports `handle-spawn`, not a status.
  const expectedLog: string[] = [];
  let index = -1;
  const fail = (problem: string, expected: string, actual: string): never => {
    throw new LifecycleCheckError(path.slice(0, index + 1), problem, expected, actual);
  };
  const callOf = (runId: number) => calls.find((call) => call.runId === runId);
  try {
    handleId = runtime.spawn({ name: 'checked' }).id;
    let expected = initialLifecycleState();
    await checkEvents(0);
    for (index = 0; index < path.length; index += 1) {
      const step = path[index]!;
      const before = expected;
      const expectation = lifecycleStep(before, step);
      const inFlight = isWorkingState(before) ? callOf(before.runsStarted) : undefined;
      const openBefore = model.open();
      const logBefore = expectedLog.length;
      let thrown: { error: unknown } | null = null;
      try {
        act(step, expectation.input ?? '');
      } catch (error) {
        thrown = { error };
      }
      if (expectation.refused !== (thrown !== null)) {
        const refusal = `\`${step}\` to be ${expectation.refused ? 'refused' : 'accepted'} by a ${before.status} handle`;
        fail(`the handle API ${expectation.refused ? 'accepted' : 'refused'} \`${step}\``, refusal, thrown ? `it threw ${preview(thrown.error)}` : 'it returned');
      }
      const runEnded = isWorkingState(before) && expectation.state.runsEnded > before.runsEnded;
      if (runEnded && step !== 'finish' && step !== 'fail') await checkAborted(step, openBefore, inFlight);
      if (runEnded && (step === 'finish' || step === 'fail')) await answer(step, expectedLog.length + expectation.events.length, inFlight);
      expectedLog.push(...expectation.events);
      if (isWorkingState(expectation.state)) await checkReachesModel(expectation.state.runsStarted);
      await checkEvents(logBefore);
      const status = runtime.get(handleId).status;
      if (status !== expectation.state.status) fail('the handle is not in the status the spec says', expectation.state.status, status);
      const runIds = (prefix: string) => log.filter((line) => line.startsWith(prefix)).map((line) => Number(/#(\d+)/.exec(line)?.[1]));
      if (JSON.stringify(starts) !== JSON.stringify(runIds('run-start'))) fail('onSubagentStart was not called once per run start', `runs ${runIds('run-start').join(', ')}`, `runs ${starts.join(', ')}`);
      if (JSON.stringify(stops) !== JSON.stringify(runIds('run-end'))) fail('onSubagentStop was not called once per run end', `runs ${runIds('run-end').join(', ')}`, `runs ${stops.join(', ')}`);
      for (const invariant of invariants) {
        try {
          await invariant({ runtime, handleId, path, step: index, expected: expectation.state });
        } catch (error) {
          fail('an invariant of yours failed', 'it holds', preview(error));
        }
      }
      expected = expectation.state;
    }
    return starts.length;
  } finally {
    model.release();
    await runtime.shutdown();
  }

  function act(step: LifecycleStep, message: string): void {
    switch (step) {
      case 'send':
      case 'send(interrupt)':
        runtime.send(handleId, message, { interrupt: step === 'send(interrupt)' });
        return;
      case 'interrupt':
      case 'cancel':
      case 'close':
      case 'resume':
        runtime[step](handleId);
        return;
      case 'finish':
      case 'fail':
        // The model answers in the wait that follows: the requests it holds, and any the run makes before it ends.
        return;
    }
  }

  /** A run stopped by the step: its signal aborts, its model request closes, and it rejects. */
  async function checkAborted(step: LifecycleStep, openBefore: ReturnType<HeldModel['open']>, inFlight: RunCall | undefined): Promise<void> {
    if (inFlight && !inFlight.signal.aborted) fail(`the run's signal was not aborted by \`${step}\``, 'signal.aborted === true', 'false');
    const closed = await model.until(() => openBefore.every((held) => held.answered || held.request.aborted), budgetMs);
    if (!closed) fail(`the run ignores its AbortSignal: its model request stayed open after \`${step}\``, `the request closed within ${budgetMs} ms (pass \`signal\` to every request)`, 'still open');
    if (!inFlight) return;
    if (!(await model.until(() => inFlight.result !== null, budgetMs))) {
      fail(`the run ignores its AbortSignal: it did not settle after \`${step}\``, `the run settles within ${budgetMs} ms of its signal aborting`, 'still pending');
    }
    const result = inFlight.result!;
    if (result.ok) fail(`the run reported success after \`${step}\` aborted it`, "a rejection (with the signal's reason, say)", `it resolved with ${preview(result.output)}`);
  }

  /** The model answers the run in flight (again if it asks again) until the run has ended; a failing run throws an Error. */
  async function answer(step: 'finish' | 'fail', logLength: number, inFlight: RunCall | undefined): Promise<void> {
    for (let answers = 0; answers < 20; answers += 1) {
      for (const held of model.open()) held.answer(step === 'finish' ? reply.text(`answer ${answers + 1}`) : reply.status(500));
      const ended = () => log.length >= logLength && (inFlight === undefined || inFlight.result !== null);
      if (!(await model.until(() => ended() || model.open().length > 0, budgetMs))) break;
      if (ended()) break;
    }
    const result = inFlight?.result;
    if (step === 'fail' && result && !result.ok && !(result.error instanceof Error)) {
      fail('the run failed with something that is not an Error', 'an Error (its message and cause reach the run-end event)', preview(result.error));
    }
  }

  /** The run in flight calls the model and waits for its answer. */
  async function checkReachesModel(runId: number): Promise<void> {
    const reached = await model.until(() => model.open().length > 0 || (callOf(runId)?.result ?? null) !== null, budgetMs);
    const result = callOf(runId)?.result ?? null;
    if (result !== null) {
      fail(`run #${runId} ended before its model answered`, 'the run waits for the model it is given', result.ok ? `it resolved with ${preview(result.output)}` : `it rejected with ${preview(result.error)}`);
    }
    if (!reached) fail(`run #${runId} made no model request`, `a request to the fake model within ${budgetMs} ms`, 'none');
  }

  /** The runtime events match the spec's, in order: those of this step shown if not. */
  async function checkEvents(from: number): Promise<void> {
    await model.until(() => log.length >= expectedLog.length, budgetMs);
    await nextMacrotask();
    if (JSON.stringify(log) !== JSON.stringify(expectedLog)) {
      fail('the runtime events differ from the spec', expectedLog.slice(from).join('; ') || 'none', log.slice(from).join('; ') || 'none');
    }
  }
}
