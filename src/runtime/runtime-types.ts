/**
 * The handle API's shapes: the options every runtime takes, the handle
 * methods and what they return, and the internal handle API the layers above
 * build on. Types only.
 */
import type { InspectionEvent, Observer, createActor } from 'xstate';
import type { HandleEmitted } from '../machines/handle.js';
import type { StopReach, SupervisorLimits, SupervisorMachine } from '../machines/supervisor.js';
import type { SubagentsError } from '../errors.js';
import type { Budget, BudgetView, ChatMessage, HandleSetup, HandleSnapshot, HandleStatus, OnParentStop, QueuedInput, Role, RunLimits } from '../types.js';
import type { EventHub, EventsOptions, RuntimeEvent, RuntimeEventType, RuntimeListener } from './events.js';
import type { InspectionSanitizeOptions } from './inspection.js';
import type { LogLevel, Logger } from '../logger.js';
import type { SubagentStartEvent, SubagentStopEvent } from './run-types.js';
import type { WaitResult } from './waiters.js';
import type { ApprovalAnswer, ApprovalHandler } from './approvals.js';
import type { ApprovalAsk, ApprovalDecision } from '../toolkit/define-tool.js';
import type { Store, StoreContents } from '../store/store-types.js';
import type { HandleContext } from '../machines/handle.js';

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
  /** Tokens (input + output) one run may spend: each request asks for no more, and past it the run ends `budget_exceeded`. @default none */
  maxRunTokens?: number;
  /**
   * The budget of the whole tree (the root agent and every handle): tokens,
   * dollars (at `prices`) and wall time from now. Each spawn reserves its
   * child's part from its parent's remainder. @default none
   */
  budget?: Budget;
  /** Secrets to redact from errors, events and inspection output (the clients' keys are added by createRuntime). */
  secrets?: readonly string[];
  /**
   * Who answers calls of tools that need approval (`needsApproval`). A
   * function is called with each request (its answer, sync or async,
   * decides); `'events'`: the host answers `approval-request` events with
   * `runtime.approve()`. Either way `runtime.approve()` may answer first.
   * @default none: every call that needs approval is denied, with a message the model reads
   */
  onApproval?: ApprovalHandler | 'events';
  /** A request not answered within this is denied (`decidedBy: 'timeout'`). @default none: it waits (the run's own limits still apply) */
  approvalTimeoutMs?: number;
  /** Milliseconds between the `progress` events of each run in flight; `0` emits none. @default 5000 */
  progressIntervalMs?: number;
  /**
   * Where the runtime keeps its handles, delegations and background
   * deliveries, so that a new runtime on the same store restores them:
   * `fileStore(dir)` survives the process. The runtime closes it at shutdown.
   * @default none: nothing is kept
   */
  store?: Store;
  /**
   * What a restore does with a handle's run that was in flight when its
   * process died: it always ends `interrupted` ("lost on restart");
   * `'rerun'` also sends a copy of its input as a new input (handles you
   * spawned; a delegation's child reports the loss to its delegation).
   * @default 'interrupt'
   */
  restorePolicy?: 'interrupt' | 'rerun';
}

/** Options of `shutdown()`. */
export interface ShutdownOptions {
  /**
   * Leave every handle in the store as it is, unprocessed inputs included,
   * for the next runtime on it (nothing is handed back). Without it, every
   * handle is closed and its inputs handed back, in the store too.
   * @default false
   */
  keep?: boolean;
}

export interface SendOptions {
  /** Abort the current run and run this input next, ahead of the queue. @default false */
  interrupt?: boolean;
}

export interface WaitOptions {
  /** @default 30000 */
  timeoutMs?: number;
  /** Ends the wait (it resolves with what is pending then): a caller that gave up no longer counts as waiting. */
  signal?: AbortSignal;
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

/** What `shutdown()` resolves with: every input accepted but not processed, per handle. */
export interface ShutdownResult {
  unprocessed: Array<{ handleId: string; inputs: string[] }>;
}

/** The handle API over the charts: what every layer above builds on. Its methods need no `this` (`const { send } = runtime` works). */
export interface HandleMethods {
  /** @internal The supervisor actor, for the library's own tests and benchmarks. */
  readonly actor: ReturnType<typeof createActor<SupervisorMachine>>;
  readonly limits: Readonly<SupervisorLimits>;
  send(this: void, id: string, message: string, options?: SendOptions): HandleSnapshot;
  wait(this: void, ids: string | readonly string[], options?: WaitOptions): Promise<WaitResult>;
  interrupt(this: void, id: string): HandleSnapshot;
  cancel(this: void, id: string): CancelResult;
  close(this: void, id: string): CloseResult;
  resume(this: void, id: string): HandleSnapshot;
  /**
   * Frees a closed handle and its descendants (all must be closed): their
   * actors stop and their ids become unknown. Returns the ids forgotten.
   */
  forget(this: void, id: string): string[];
  get(this: void, id: string): HandleSnapshot;
  list(this: void, filter?: { parentId?: string | null; status?: HandleStatus }): HandleSnapshot[];
  pauseSpawning(this: void, paused?: boolean): void;
  setLimits(this: void, limits: Partial<SupervisorLimits>): void;
  /**
   * Moves a handle's deadline `ms` later (from its deadline, or from now when
   * it has none), never past its parent's: a run in flight gets the new
   * deadline at once. Returns the handle's snapshot.
   */
  extendDeadline(this: void, id: string, ms: number): HandleSnapshot;
  /** `types`: only events of these types reach the listener (the others are then not built for it). */
  subscribe(this: void, listener: RuntimeListener, types?: readonly RuntimeEventType[]): () => void;
  /**
   * Answers a pending approval request (from an `approval-request` event).
   * @throws {BadArgumentError} for an id that is unknown or already decided, or an answer not shaped `{ approve: boolean, reason?: string }`.
   */
  approve(this: void, requestId: string, answer: ApprovalAnswer): void;
  /** Asks the host to approve a call made by an agent (`null`: the root agent): what a tool dispatcher does for a tool that needs approval. */
  requestApproval(this: void, agentId: string | null, ask: ApprovalAsk, signal?: AbortSignal): Promise<ApprovalDecision>;
  /**
   * Events as an async iterable. At most `bufferSize` unread events are kept
   * (default 10,000): past that the oldest are dropped and one
   * `events-dropped` event says how many, before the next event delivered.
   */
  events(this: void, options?: EventsOptions | AbortSignal): AsyncIterableIterator<RuntimeEvent>;
}

/** What the handle API needs of the options (validated). @internal */
export interface HandleApiOptions extends Omit<RuntimeBaseOptions, 'childTimeoutMs' | 'staleTimeoutMs' | 'maxRunTokens' | 'secrets'> {
  runLimits: RunLimits;
  secrets: readonly string[];
  /** The root agent's model, for the events about its approvals. */
  rootModel?: string | null;
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
  /** Whether a stop of its parent stops it. @default 'cascade' */
  onParentStop?: OnParentStop | undefined;
  message?: string | undefined;
  /** Its budget; none: half its parent's remainder (see {@link HandleApi.planBudgets} for a call that starts several). */
  budget?: Budget | undefined;
}

/** The handle API the layers above build on. @internal */
export interface HandleApi extends HandleMethods {
  readonly hub: EventHub;
  spawn(request: HandleSpawn): HandleSnapshot;
  /** Spawns without building the snapshot `spawn` returns: its id. */
  spawnId(request: HandleSpawn): string;
  /** Sends an input and returns it (with its sequence number, to match its `input-end`). */
  enqueue(id: string, message: string, options?: SendOptions): QueuedInput;
  /** The handle and its descendants, deepest first (none for an unknown id). */
  subtree(id: string): string[];
  /** Who a stop of the handle reaches (it and its cascading descendants), and the detaching children it passes by. */
  stopReach(id: string): StopReach;
  /**
   * Called with the id of each child that goes on while its parent stops
   * (synchronously, in the supervisor's transition: it must not call into
   * the runtime). Returns the unsubscribe function.
   */
  onDetach(listener: (id: string) => void): () => void;
  /** Whether a `wait` is waiting for the handle now. */
  isWaitedFor(id: string): boolean;
  /** The setup the handle carries (`null`: none, or no such handle). */
  setupOf(id: string): HandleSetup | null;
  /** The handle's conversation so far: earlier runs' and the complete turns of the run in flight (empty for an unknown id). */
  conversationOf(id: string): readonly ChatMessage[];
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
  /** The store, if the runtime has one. */
  readonly store: Store | null;
  /**
   * The budgets of the children one call starts under `parentId`, before any
   * is spawned: asked-for ones as they are, the others an even share of half
   * the parent's remainder. Throws `BudgetRefusedError` when they do not fit.
   */
  planBudgets(this: void, parentId: string | null, requests: ReadonlyArray<Budget | undefined>): Array<Budget | undefined>;
  /** The runtime's own budget (the root's), spend and remainder; `null` without one. */
  rootBudget(): BudgetView | null;
  /** The tokens the root agent may still spend (`null`: unbounded). */
  rootTokensLeft(this: void): number | null;
  /** The deadline (epoch ms) of a handle, or of the root (`null`); `null` when none. */
  deadlineOf(id: string | null): number | null;
  /** A handle's chart context (read only), or `undefined` for an unknown id. */
  contextOf(id: string): Readonly<HandleContext> | undefined;
  /** What the store held when the runtime was created (once; then `null`): the layers above restore from it. */
  takeRestored(): StoreContents | null;
  /** Restored handles go on: those that waited for a slot ask again; with `'rerun'`, lost inputs are sent again. */
  startRestored(): void;
  shutdown(options?: ShutdownOptions): ShutdownResult;
}
