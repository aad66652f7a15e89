/**
 * `checkDelegationFlows`: random flows of the LLM-facing agent tools, called
 * as a parent agent calls them, on a runtime of yours whose children run
 * against the fake model server; invariants checked after every call.
 */
import { createRuntime } from '../agent/create-runtime.js';
import type { AgentRun, AgentRunResult, RuntimeOptions } from '../agent/create-runtime.js';
import { createAgentTools } from '../agent-tools/agent-tools.js';
import { createToolDispatcher } from '../agent-tools/dispatch.js';
import { BadArgumentError, DelegationFlowCheckError } from '../errors.js';
import type { RuntimeEvent } from '../runtime/events.js';
import { startFakeServer } from './fake-server.js';
import { nextCall, resolveRefs, seededRandom, toolsetsOf } from './flow-calls.js';
import type { FlowCall, FlowState } from './flow-calls.js';
import { checkAnswer, checkCompleted, checkInputsEnded, checkRequestTools, checkToolSubsets, inputKey, until, withinBudget } from './flow-checks.js';
import type { Failure, ToolAnswer } from './flow-checks.js';
import { reply } from './replies.js';
import type { FakeServer } from './types.js';

/** Options of `checkDelegationFlows`: a run, or runtime options, each made for the fake model server the check starts. */
export interface CheckDelegationFlowsOptions {
  /** Your run function, given the fake model server to call (`server.url` is an OpenAI-compatible base URL). */
  run?: (server: FakeServer) => AgentRun;
  /** Or your runtime options: a model run pointed at `server.url`, your tools, agent types, blocked tools … */
  runtimeOptions?: (server: FakeServer) => RuntimeOptions;
  /** Flows to run, each on a fresh runtime. @default 20 */
  count?: number;
  /** Calls per flow. @default 12 */
  maxSteps?: number;
  /** The same seed runs the same calls. @default 1 */
  seed?: number;
  /** How long the fake model takes to answer (children are then still running when the next call comes). @default 2 */
  latencyMs?: number;
  /** How long one call, or the shutdown at the end of a flow, may take to settle. @default 5000 */
  budgetMs?: number;
}

/** What a passing check ran. */
export interface DelegationFlowsReport {
  flows: number;
  calls: number;
  /** Calls the tools refused with `{"ok":false,…}` (a closed target, an unknown id, a limit …). */
  refusals: number;
  /** Model requests the children made. */
  requests: number;
}

interface FlowRun {
  shown: string[];
  failure: Failure | null;
  /** The index in `shown` of the call after which the check failed. */
  failedAt: number;
  calls: number;
  refusals: number;
  requests: number;
}

type Flows = Required<Pick<CheckDelegationFlowsOptions, 'latencyMs' | 'budgetMs'>> & { options: (server: FakeServer) => RuntimeOptions };

/**
 * Runs `count` random flows of `delegate_task` (waited for and in the
 * background), `spawn_agent`, `send_input`, `wait_agent`, `interrupt_agent`,
 * `close_agent` and `resume_agent`, called through `createToolDispatcher` as
 * the root agent calls them, with arguments drawn from the handles made so far
 * and the toolsets and agent types of your runtime. After every call it checks
 * that the answer is JSON (`{"ok":false,"error":{code,message}}` on refusal),
 * never a throw; that every child's tools are within its parent's and hold no
 * blocked tool, and that each model request offered only its child's tools;
 * that a delegation answers once per task and reports `completed` only for a
 * run that completed; that no run resolved after its signal aborted. After
 * `shutdown()`: every accepted input ended exactly once, every background
 * delegation ended once, no model request is left open. The first failure
 * is shrunk to as few calls as still fail and thrown as a
 * `DelegationFlowCheckError`.
 *
 * @example
 * ```ts
 * const report = await checkDelegationFlows({
 *   runtimeOptions: (server) => ({
 *     client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }),
 *     model: 'fake',
 *     tools: [readFile],
 *   }),
 *   count: 10,
 *   seed: 42,
 * });
 * console.log(`${report.flows} flows, ${report.calls} calls`);
 * ```
 */
export async function checkDelegationFlows(options: CheckDelegationFlowsOptions): Promise<DelegationFlowsReport> {
  if ((options.run === undefined) === (options.runtimeOptions === undefined)) {
    throw new BadArgumentError('options', 'exactly one of `run` and `runtimeOptions`, each a function of the fake model server', options);
  }
  const { count = 20, maxSteps = 12, seed = 1, latencyMs = 2, budgetMs = 5000 } = options;
  const random = seededRandom(seed);
  const report: DelegationFlowsReport = { flows: 0, calls: 0, refusals: 0, requests: 0 };
  const flows: Flows = { latencyMs, budgetMs, options: options.runtimeOptions ?? ((server) => ({ run: options.run!(server) })) };
  for (let flow = 0; flow < count; flow += 1) {
    const calls: FlowCall[] = [];
    const result = await runFlow(flows, (state, step) => {
      if (step >= maxSteps) return null;
      calls.push(nextCall(random, state, flow, step));
      return calls[step]!;
    });
    report.flows += 1;
    report.calls += result.calls;
    report.refusals += result.refusals;
    report.requests += result.requests;
    if (result.failure) {
      const shrunk = await shrink(calls.slice(0, result.failedAt + 1), result, flows);
      const [problem, expected, actual] = shrunk.failure!;
      throw new DelegationFlowCheckError(shrunk.shown.slice(0, shrunk.failedAt + 1), problem, expected, actual, seed, flow);
    }
  }
  return report;
}

/**
 * Drops calls one at a time, last first, while the flow still fails the same
 * way: the shortest flow found is the one shown. The failing call is kept (a
 * failure found at shutdown keeps none in particular).
 */
async function shrink(calls: FlowCall[], failed: FlowRun, flows: Flows): Promise<FlowRun> {
  let best = failed;
  const atShutdown = (run: FlowRun, length: number) => run.failedAt >= length;
  for (let index = calls.length - (atShutdown(failed, calls.length) ? 1 : 2); index >= 0; index -= 1) {
    const candidate = calls.filter((_, kept) => kept !== index);
    const result = await runFlow(flows, (_, step) => candidate[step] ?? null);
    if (result.failure && result.failure[0] === best.failure![0]) {
      calls = candidate.slice(0, result.failedAt + 1);
      best = result;
      index = Math.min(index, calls.length - (atShutdown(result, calls.length) ? 0 : 1));
    }
  }
  return best;
}

/** Runs one flow on a fresh runtime and fake model server; stops at the first failure. */
async function runFlow(flows: Flows, next: (state: FlowState, step: number) => FlowCall | null): Promise<FlowRun> {
  const { budgetMs } = flows;
  let answers = 0;
  const server = await startFakeServer({ script: () => reply.text(`done ${(answers += 1)}`), latencyMs: flows.latencyMs });
  const base = flows.options(server);
  const userRun = base.run;
  const lateSuccesses: string[] = [];
  // A function run is watched: one that resolves once its signal has aborted reports a success that did not happen.
  const run: AgentRun | undefined =
    typeof userRun === 'function'
      ? async (input, context) => {
          const output: AgentRunResult = await userRun(input, context);
          if (context.signal.aborted) lateSuccesses.push(`run #${context.runId} of ${context.handle.id} on ${JSON.stringify(input)}`);
          return output;
        }
      : undefined;
  const runtime = createRuntime({ ...base, ...(run ? { run } : {}) });
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => void events.push(event));
  const dispatch = createToolDispatcher(runtime, createAgentTools(runtime, { minWaitMs: 0 }), { handleId: null });
  const made: string[] = [];
  const accepted = new Map<string, number>();
  const backgrounds = new Map<string, number>();
  let checkedRequests = 0;
  const flow: FlowRun = { shown: [], failure: null, failedAt: -1, calls: 0, refusals: 0, requests: 0 };
  const accept = (handleId: string, input: string) => accepted.set(inputKey(handleId, input), (accepted.get(inputKey(handleId, input)) ?? 0) + 1);
  const state: FlowState = {
    get made() {
      return made.length;
    },
    toolsets: toolsetsOf(runtime.toolsOf(null)),
    agentTypes: ['general', 'explore', ...runtime.options.agentTypes.map((type) => type.name)],
  };
  try {
    for (let step = 0; ; step += 1) {
      const call = next(state, step);
      if (call === null) break;
      const args = resolveRefs(call.args, made) as Record<string, unknown>;
      flow.shown.push(`${call.tool}(${JSON.stringify(args)})`);
      flow.calls += 1;
      const failure = await callAndCheck(call, args);
      if (failure) return Object.assign(flow, { failure, failedAt: step });
    }
    await runtime.shutdown();
    flow.shown.push('shutdown()');
    const failure = await checkEnd();
    if (failure) Object.assign(flow, { failure, failedAt: flow.shown.length - 1 });
    return flow;
  } finally {
    await runtime.shutdown();
    flow.requests = server.requests.length;
    await server.close();
  }

  async function callAndCheck(call: FlowCall, args: Record<string, unknown>): Promise<Failure | null> {
    let text: string;
    try {
      text = await withinBudget(dispatch(call.tool, JSON.stringify(args)), budgetMs);
    } catch (error) {
      return [`\`${call.tool}\` threw, or did not answer, instead of answering the model`, `a JSON string within ${budgetMs} ms`, error instanceof Error ? `${error.name}: ${error.message}` : String(error)];
    }
    const answer = checkAnswer(call.tool, text);
    if (Array.isArray(answer)) return answer;
    if (!answer.ok) flow.refusals += 1;
    return (answer.ok ? record(call, args, answer) : null) ?? checkNow();
  }

  /** Notes the handles made and the inputs accepted by a call that succeeded; checks a waited delegation's results. */
  function record(call: FlowCall, args: Record<string, unknown>, answer: ToolAnswer): Failure | null {
    const goals = Array.isArray(args.tasks) ? (args.tasks as Array<{ goal: string }>).map((task) => task.goal) : [args.goal as string];
    if (call.tool === 'spawn_agent') {
      const id = (answer.handle as { id: string }).id;
      made.push(id);
      if (typeof args.message === 'string') accept(id, args.message);
    } else if (call.tool === 'send_input') {
      accept(String(args.target), String(args.message));
    } else if (call.tool === 'delegate_task' && answer.background === true) {
      backgrounds.set(answer.delegationId as string, goals.length);
      (answer.handleIds as string[]).forEach((id, index) => (made.push(id), accept(id, goals[index]!)));
    } else if (call.tool === 'delegate_task') {
      const results = [...(answer.results as Array<{ task: number; handleId: string; status: string }>)].sort((a, b) => a.task - b.task);
      const tasks = results.map((result) => result.task).join(', ');
      const expected = goals.map((_, index) => index).join(', ');
      if (tasks !== expected) return ['a delegation did not answer exactly once per task', `tasks ${expected}`, `tasks ${tasks || 'none'}`];
      results.forEach((result) => (made.push(result.handleId), accept(result.handleId, goals[result.task]!)));
      return checkCompleted(events, results);
    }
    return null;
  }

  /** The checks of every step: tools contained, requests within their child's tools, no success after an abort. */
  function checkNow(): Failure | null {
    const subsets = checkToolSubsets(runtime);
    if (subsets) return subsets;
    for (; checkedRequests < server.requests.length; checkedRequests += 1) {
      const failure = checkRequestTools(runtime, server.requests[checkedRequests]!);
      if (failure) return failure;
    }
    const late = lateSuccesses[0];
    return late ? ['a run reported success after its signal aborted', 'the run rejects once its signal aborts (pass `signal` on, let the abort through)', `${late} resolved`] : null;
  }

  /** After shutdown: background delegations ended once each with one result per task, inputs ended once each, no model request open. */
  async function checkEnd(): Promise<Failure | null> {
    const ended = (id: string) => events.filter((event) => event.type === 'delegation-end' && event.delegationId === id);
    const open = () => server.requests.filter((request) => !request.completed && !request.aborted && request.scriptError === null);
    await until(() => [...backgrounds.keys()].every((id) => ended(id).length > 0) && open().length === 0, budgetMs);
    for (const [id, tasks] of backgrounds) {
      const ends = ended(id);
      const results = ends.flatMap((event) => (event.type === 'delegation-end' ? event.results : []));
      if (ends.length !== 1 || results.length !== tasks) {
        return ['a background delegation did not end once with one result per task', `${id}: 1 delegation-end with ${tasks} results`, `${ends.length} delegation-end with ${results.length} results`];
      }
      const failure = checkCompleted(events, results);
      if (failure) return failure;
    }
    const stillOpen = open();
    if (stillOpen.length > 0) return ['a model request was left open after shutdown', 'every request answered or aborted', `requests #${stillOpen.map((request) => request.index).join(', #')} open`];
    return checkInputsEnded(events, accepted) ?? checkNow();
  }
}
