/**
 * The runtime's public shapes: what a run gets and returns, the options, and
 * the handle API. Types only, so every layer can name them without importing
 * the implementation.
 */
import type { InspectionEvent, Observer, createActor } from 'xstate';
import type { HandleEmitted, HandleInput } from '../machines/handle.js';
import type { SupervisorLimits, SupervisorMachine } from '../machines/supervisor.js';
import type { ChatMessage, HandleSnapshot, HandleStatus, QueuedInput, Role, RunStats, Usage } from '../types.js';
import type { EventsOptions, RuntimeEvent, RuntimeListener, SubagentRef } from './events.js';
import type { InspectionSanitizeOptions } from './inspection.js';
import type { WaitResult } from './waiters.js';
import type { LogLevel, Logger } from './logger.js';
import type { AnyTool } from '../tools/define-tool.js';
import type { AgentType } from '../tools/agent-types.js';
import type { DelegateRequest, Delegation, DelegationOutcome, ModelPrices } from './delegation-types.js';
import type { ChatClient } from './model-call.js';
import type { AgentAnswer, AgentOptions } from './parent-agent.js';

/** The static facts of a handle a run may need. */
export type RunHandleInfo = Omit<HandleInput, 'key' | 'limits' | 'delegated'>;

/** Progress a run reports; the runtime adds who it is about. */
export type RunProgressEvent = Extract<
  RuntimeEvent,
  { type: 'text-delta' | 'thinking-delta' | 'tool-call-start' | 'tool-call-end' | 'model-call-end' }
> extends infer E
  ? E extends RuntimeEvent
    ? Omit<E, keyof SubagentRef | 'runId'>
    : never
  : never;

/** What a run gets beside its input. */
export interface RunContext {
  /** Fires when the run is interrupted, cancelled, closed, timed out or shut down: pass it to every request. */
  signal: AbortSignal;
  handle: RunHandleInfo;
  runId: number;
  /** The handle's conversation before this run (earlier runs, whatever their outcome). */
  conversation: readonly ChatMessage[];
  /** Reports progress as a runtime event; progress also re-arms stale detection. */
  emit: (event: RunProgressEvent) => void;
  /** Adds spend as it happens, so it is kept (and budgeted) even if the run is stopped. */
  reportUsage: (usage: Usage) => void;
  /** Adds a complete message to the handle's conversation: kept whatever the run's outcome. */
  record: (message: ChatMessage) => void;
  /** The text produced so far that is not yet an answer (reported as `partialOutput` if the run does not complete). */
  setPartialOutput: (text: string | null) => void;
  /** Tells the handle the run is alive; `waiting: true` while it waits for its own background children (not stale). */
  progress: (state?: { waiting?: boolean }) => void;
  /** What the run did so far; folded into the handle when the run ends, whatever the outcome. Update it in place. */
  stats: RunStats;
  /** The runtime itself, so an orchestrator's run can delegate further. */
  runtime: Runtime;
}

/** What a run may return: its output text, or the text with usage and details. */
export type AgentRunResult = string | { output: string; usage?: Usage; details?: unknown };

/** The work a handle does for one input. Should honour `context.signal`; a limit ends the run regardless. */
export type AgentRun = (input: string, context: RunContext) => Promise<AgentRunResult>;

/** The event passed to `onSubagentStart` / `onSubagentStop`. */
export type SubagentStartEvent = Extract<RuntimeEvent, { type: 'run-start' }>;
export type SubagentStopEvent = Extract<RuntimeEvent, { type: 'run-end' }>;

export interface CoreRuntimeOptions extends Partial<SupervisorLimits> {
  /** The work each run does. */
  run: AgentRun;
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

export interface SpawnOptions {
  /** First input; the handle starts working on it at once. */
  message?: string;
  /** A nickname: becomes the handle's id (must be unique). @default a generated id */
  name?: string;
  /** The parent handle; `null` for the root agent. @default null */
  parentId?: string | null;
  /** @default 'leaf' */
  role?: Role;
  /** @default 'general' */
  agentType?: string;
  /** Model override for this handle. */
  model?: string | null;
  /** What the handle is for, shown in events and snapshots. */
  goal?: string | null;
}

export interface SendOptions {
  /** Abort the current run and run this input next, ahead of the queue. @default false */
  interrupt?: boolean;
}

export interface WaitOptions {
  /** @default 30000 */
  timeoutMs?: number;
}

export interface CancelResult {
  handle: HandleSnapshot;
  /** Inputs that were queued and will not run, handed back. */
  discarded: string[];
  /** Descendants stopped with it, each with the inputs it handed back. */
  descendants: Array<{ id: string; discarded: string[] }>;
}

export interface CloseResult {
  handle: HandleSnapshot;
  previousStatus: HandleStatus;
  /** Inputs accepted but not processed, handed back. */
  unprocessed: string[];
  descendants: Array<{ id: string; previousStatus: HandleStatus; unprocessed: string[] }>;
}

/** What spawning a handle sets beside the public options (delegation uses it). */
export interface SpawnInternals {
  /** A delegation's child: an input interrupted before it started ends there. */
  delegated?: boolean;
}

/** What `shutdown()` resolves with: every input accepted but not processed, per handle. */
export interface ShutdownResult {
  unprocessed: Array<{ handleId: string; inputs: string[] }>;
}

/** The runtime as the layers above it see it. */
export interface CoreRuntime extends Runtime {
  /** Emits an event from a layer built on the runtime (delegation). */
  emit(event: RuntimeEvent): void;
  spawnWith(options: SpawnOptions, internals: SpawnInternals): HandleSnapshot;
  /** Sends an input and returns it (with its sequence number, to match its `input-end`). */
  enqueue(id: string, message: string, options?: SendOptions): QueuedInput;
  /**
   * Listens to what a handle's chart emits (any number of listeners). Called
   * synchronously after the transition: it may resolve promises but must not
   * call into the runtime. Returns the unsubscribe function.
   */
  listen(id: string, listener: (event: HandleEmitted) => void): () => void;
  readonly secrets: readonly string[];
}

/** The public runtime API. */
export interface Runtime {
  /** The root XState actor (the supervisor), for inspection. */
  readonly actor: ReturnType<typeof createActor<SupervisorMachine>>;
  readonly limits: Readonly<SupervisorLimits>;
  spawn(options?: SpawnOptions): HandleSnapshot;
  send(id: string, message: string, options?: SendOptions): HandleSnapshot;
  wait(ids: string | readonly string[], options?: WaitOptions): Promise<WaitResult>;
  interrupt(id: string): HandleSnapshot;
  cancel(id: string): CancelResult;
  close(id: string): CloseResult;
  resume(id: string): HandleSnapshot;
  /**
   * Frees a closed handle and its descendants (all must be closed): their
   * actors stop and their ids become unknown. Returns the ids forgotten.
   */
  forget(id: string): string[];
  get(id: string): HandleSnapshot;
  list(filter?: { parentId?: string | null; status?: HandleStatus }): HandleSnapshot[];
  pauseSpawning(paused?: boolean): void;
  setLimits(limits: Partial<SupervisorLimits>): void;
  subscribe(listener: RuntimeListener): () => void;
  /**
   * Events as an async iterable. At most `bufferSize` unread events are kept
   * (default 10,000): past that the oldest are dropped and one
   * `events-dropped` event says how many, before the next event delivered.
   */
  events(options?: EventsOptions | AbortSignal): AsyncIterableIterator<RuntimeEvent>;
  /**
   * Closes every handle (each run in flight ends `cancelled`), stops the
   * actors and resolves with every input that was accepted but not processed.
   */
  shutdown(): Promise<ShutdownResult>;
}

export interface RuntimeOptions extends Omit<CoreRuntimeOptions, 'run'> {
  /** An `openai` client (any OpenAI-compatible base URL). Required unless `run` is given. */
  client?: ChatClient;
  /** The default model. Required with `client`. */
  model?: string;
  /** The root agent's tools; children get subsets of them. @default [] */
  tools?: readonly AnyTool[];
  /** Replaces the model loop with your own run (tests, non-LLM work). */
  run?: AgentRun;
  /** Tools no child ever gets. @default ['delegate_task', 'clarify', 'memory', 'send_message', 'execute_code'] */
  blockedTools?: readonly string[];
  /** Agent types beside `general`, `explore`, `plan` and `verify`. */
  agentTypes?: readonly AgentType[];
  /** Cap on model calls per run, on top of each agent type's own. @default 50 */
  maxIterations?: number;
  /** Retries of a model call on 429, 5xx and connection errors, made by the runtime (honouring `Retry-After`). @default 2 */
  maxRetries?: number;
  /** Accept model responses without `finish_reason` (for servers that never send one). @default false */
  allowMissingFinishReason?: boolean;
  /** Background delegations in flight at once; more are refused. @default 3 */
  maxBackground?: number;
  /** Most tasks one `delegate_task` call may carry. @default maxConcurrentChildren */
  maxBatchSize?: number;
  /** Prices per model, for cost in results. */
  prices?: ModelPrices;
  /** A directory children work in; told to them in their prompt. */
  workspacePath?: string;
  /** Stream model responses. @default true */
  stream?: boolean;
  /** Extra fields for every chat completion request (temperature, …). */
  requestOptions?: Record<string, unknown>;
}

/** Spawn options for a model-backed handle. */
export interface ModelSpawnOptions extends SpawnOptions {
  context?: string;
  toolsets?: string[];
}

/** The runtime with delegation on top of the handle API. */
export interface SubagentsRuntime extends Omit<CoreRuntime, 'spawn'> {
  spawn(options?: ModelSpawnOptions): HandleSnapshot;
  /**
   * Starts one task or a batch and returns at once with the ids; `result`
   * resolves when every task ended. Bad requests throw synchronously.
   */
  delegate(request: DelegateRequest): Delegation;
  /** The result of a delegation by id (background or not), once it is complete. */
  delegation(delegationId: string): Promise<DelegationOutcome>;
  /** Background delegations still in flight. */
  readonly activeBackground: number;
  /** Tokens and cost of a handle and its descendants, or of everything when no id is given. */
  usage(id?: string): { own: Usage; total: Usage; cost: number | null };
  /** The tools of a handle (or of the root agent). */
  toolsOf(id: string | null): readonly AnyTool[];
  /**
   * Runs the root agent (depth 0) on a user message: it has your tools and the
   * delegation tools, delegates, gets its subagents' results back, and answers.
   * Results of its background delegations re-enter its conversation when they arrive.
   */
  runAgent(message: string, options?: AgentOptions): Promise<AgentAnswer>;
  readonly options: Readonly<ResolvedOptions>;
}

export interface ResolvedOptions {
  model: string | null;
  maxIterations: number;
  maxBackground: number;
  /** `undefined`: follows maxConcurrentChildren. */
  maxBatchSize: number | undefined;
  blockedTools: readonly string[];
  agentTypes: readonly AgentType[];
  workspacePath: string | null;
}
