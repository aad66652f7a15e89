/**
 * The runtime's public shapes: the options and the handle API, and the
 * internal handle API the layers above build on. Types only, so every layer
 * can name them without importing the implementation.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { HandleEmitted } from '../machines/handle.js';
import type { SupervisorLimits } from '../machines/supervisor.js';
import type { SubagentsError } from '../errors.js';
import type { HandleSetup, HandleSnapshot, QueuedInput, Role, RunLimits } from '../types.js';
import type { EventHub } from './events.js';
import type { InspectionSanitizeOptions } from './inspection.js';
import type { LogLevel, Logger } from '../logger.js';
import type { AnyTool } from '../toolkit/define-tool.js';
import type { AgentType } from '../delegation/agent-types.js';
import type { ModelPrices } from '../delegation/delegation-types.js';
import type { AgentRun, SubagentStartEvent, SubagentStopEvent } from './run-types.js';
import type { ModelRun, ModelRunOptions } from './model-run.js';
import type { Runtime, SendOptions, ShutdownResult } from '../agent/runtime-api.js';

export type * from './run-types.js';
export type * from '../agent/runtime-api.js';

/** What every runtime takes, whatever its runs do. */
export interface RuntimeBaseOptions extends Partial<SupervisorLimits> {
  /**
   * Any XState inspection observer (for instance from `@statelyai/inspect`).
   * It is sent sanitised events: no keys or clients, long strings cut, the
   * supervisor's bookkeeping as counts.
   */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** How inspection events are sanitised (extra secrets to redact, string and array caps). */
  inspection?: InspectionSanitizeOptions;
  /** Called once when each run starts. */
  onSubagentStart?: (event: SubagentStartEvent) => void;
  /** Called exactly once when each run ends, however it ends. */
  onSubagentStop?: (event: SubagentStopEvent) => void;
  /** Where errors thrown by listeners and hooks go. @default the logger's `error` */
  onListenerError?: (error: unknown) => void;
  /**
   * Where the runtime and the model loop write what they have to say (listener
   * errors, failed handle actors, retried model calls at `debug`); secrets are
   * redacted. A logger (`console`, pino, winston …) or a level for the console.
   * Given explicitly, the `openai` client's own logging goes through it too.
   * @default the console at `warn`
   */
  logger?: Logger | LogLevel;
  /** A run longer than this ends with outcome `timeout` (the handle goes to `error`). @default none */
  childTimeoutMs?: number;
  /** A run that reports no progress (events, usage) for this long ends with outcome `timeout`. @default none */
  staleTimeoutMs?: number;
  /** Tokens (input + output) one run may spend; past it the run ends in `error`. @default none */
  maxRunTokens?: number;
  /** Secrets to redact from errors, events and inspection output (the clients' keys are added by createRuntime). */
  secrets?: readonly string[];
}

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
  /** A directory children work in; told to them in their prompt. */
  workspacePath?: string;
}

/** What the handle API needs of the options (validated). @internal */
export interface HandleApiOptions extends Omit<RuntimeBaseOptions, 'childTimeoutMs' | 'staleTimeoutMs' | 'maxRunTokens' | 'secrets'> {
  runLimits: RunLimits;
  secrets: readonly string[];
}

/** A spawn as the handle API takes it: every field decided. @internal */
export interface HandleSpawn {
  name: string | undefined;
  parentId: string | null;
  role: Role;
  agentType: string;
  model: string | null;
  goal: string | null;
  setup: HandleSetup | null;
  /** A delegation's child: an input interrupted before it started ends there. */
  delegated: boolean;
  message?: string | undefined;
}

/** The handle API the layers above build on. @internal */
export interface HandleApi
  extends Pick<
    Runtime,
    'actor' | 'limits' | 'send' | 'wait' | 'interrupt' | 'cancel' | 'close' | 'resume' | 'forget' | 'get' | 'list' | 'pauseSpawning' | 'setLimits' | 'subscribe' | 'events'
  > {
  readonly hub: EventHub;
  spawn(request: HandleSpawn): HandleSnapshot;
  /** Sends an input and returns it (with its sequence number, to match its `input-end`). */
  enqueue(id: string, message: string, options?: SendOptions): QueuedInput;
  /** The handle and its descendants, deepest first (none for an unknown id). */
  subtree(id: string): string[];
  /** The setup the handle carries (`null`: none, or no such handle). */
  setupOf(id: string): HandleSetup | null;
  /** The depth of a parent (`null`: the root agent, 0); `undefined` for an unknown id. */
  depthOf(parentId: string | null): number | undefined;
  /** Why a child of this parent would be refused now, or `null`. */
  spawnRefusal(parentId: string | null): SubagentsError | null;
  /**
   * Listens to what a handle's chart emits (any number of listeners). Called
   * synchronously after the transition: it may resolve promises but must not
   * call into the runtime. Returns the unsubscribe function.
   */
  listen(id: string, listener: (event: HandleEmitted) => void): () => void;
  shutdown(): ShutdownResult;
}
