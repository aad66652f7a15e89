/**
 * The runtime's public API and options: the handle API, delegation and the
 * root agent, and what `createRuntime` takes. Types only.
 */
import type { ModelPrices } from '../delegation/delegation-types.js';
import type { AgentType } from '../delegation/agent-types.js';
import type { DelegatingRuntime } from '../delegation/delegating-runtime.js';
import type { ModelRun, ModelRunOptions } from '../runtime/model-run.js';
import type { RunContextOf, RunOf } from '../runtime/run-types.js';
import type { RuntimeBaseOptions } from '../runtime/runtime-types.js';
import type { AnyTool } from '../toolkit/define-tool.js';
import type { TelemetryHooks } from '../telemetry-hooks.js';
import type { RunExecutor } from '../runtime/executor.js';
import type { AgentAnswer, AgentOptions } from './parent-agent.js';

export type * from '../runtime/run-types.js';
export type * from '../runtime/runtime-types.js';
export type * from '../delegation/delegating-runtime.js';

/** The runtime: the handle API, delegation, and the root agent. */
export interface Runtime extends DelegatingRuntime {
  /**
   * Runs the root agent (depth 0) on a user message: it has your tools and the
   * delegation tools, delegates, gets its subagents' results back, and answers.
   * Results of its background delegations re-enter its conversation when they
   * arrive. Needs a model run.
   */
  runAgent(message: string, options?: AgentOptions): Promise<AgentAnswer>;
}

/** @deprecated The same as {@link Runtime}. */
export type SubagentsRuntime = Runtime;

/** What a run gets beside its input. */
export type RunContext = RunContextOf<Runtime>;

/** The work a handle does for one input. Should honour `context.signal`; a limit ends the run regardless. */
export type AgentRun = RunOf<Runtime>;

export interface RuntimeOptions extends RuntimeBaseOptions, ModelRunOptions {
  /**
   * What a handle does with each input: a function `(input, context) =>
   * output`, or `modelRun({ … })` for the model loop. Without it, the model
   * options given here (`client` or `providers`, `model`, …) make a
   * `modelRun` of them.
   */
  run?: AgentRun | ModelRun;
  /** The root agent's tools; children get subsets of them. @default [] */
  tools?: readonly AnyTool[];
  /** Tools no child ever gets. @default ['delegate_task', 'clarify', 'memory', 'send_message', 'execute_code'] */
  blockedTools?: readonly string[];
  /** Agent types beside `general`, `explore`, `plan` and `verify`. */
  agentTypes?: readonly AgentType[];
  /** Cap on model calls per run, on top of each agent type's own. @default 50 */
  maxIterations?: number;
  /** Background delegations in flight at once; more are refused. @default 3 */
  maxBackground?: number;
  /** Most tasks one `delegate_task` call may carry. @default maxConcurrentChildren */
  maxBatchSize?: number;
  /** Prices per model, for cost in results. */
  prices?: ModelPrices;
  /**
   * The root agent's working directory: every subagent's lies inside it, and
   * tools receive the calling agent's as `ToolContext.cwd`. The process-wide
   * working directory is never changed.
   * @default process.cwd() when the runtime is created
   */
  cwd?: string;
  /**
   * Where the git worktrees of handles with `isolation: 'worktree'` are made
   * (one directory per handle, named after its id): absolute, or relative to
   * `cwd`. A directory inside your work tree shows up in its `git status`.
   * @default `subagents-worktrees` in the git common directory of each
   * repository (`.git/subagents-worktrees`), which `git status` does not see
   */
  worktreeDir?: string;
  /**
   * Estimated tokens (about 4 characters each) a subagent's model request may
   * carry: older turns are left out past it, never the system prompt, the
   * run's input or half of a tool call and its result; a run that cannot fit
   * even those fails with code `conversation_too_long`. Agent types may set
   * their own. @default no bound
   */
  maxConversationTokens?: number;
  /**
   * Traces every run, model call and tool call as spans nested along the
   * subagent tree: `openTelemetry()` from `subagents/opentelemetry`. Nothing
   * of a tracing library is loaded without it.
   */
  telemetry?: TelemetryHooks;
  /**
   * Where the handles' runs execute: in this process (the default), or on
   * workers over Redis with `bullmqExecutor({ connection, queue })`. Handles
   * with worktree isolation or the delegation tools run here regardless.
   * Closed at shutdown.
   */
  executor?: RunExecutor;
}

