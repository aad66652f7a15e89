/**
 * The runtime's public API: the handle and delegation methods and what they
 * take and return. Types only.
 */
import type { createActor } from 'xstate';
import type { SupervisorLimits, SupervisorMachine } from '../machines/supervisor.js';
import type { HandleSnapshot, HandleStatus, Role, Usage } from '../types.js';
import type { AnyTool } from '../toolkit/define-tool.js';
import type { AgentType } from '../delegation/agent-types.js';
import type { EventsOptions, RuntimeEvent, RuntimeListener } from '../runtime/events.js';
import type { WaitResult } from '../runtime/waiters.js';
import type { DelegateRequest, Delegation, DelegationOutcome } from '../delegation/delegation-types.js';
import type { AgentAnswer, AgentOptions } from './parent-agent.js';

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
  /** The named provider its model calls go to. @default the agent type's, else the default provider */
  provider?: string;
  /** What the handle is for, shown in events, snapshots and (with a model run) its prompt. */
  goal?: string | null;
  /** Background for its prompt (model runs). */
  context?: string;
  /** Toolsets to give it, intersected with its parent's (model runs). */
  toolsets?: string[];
}

/** @deprecated The same as {@link SpawnOptions}. */
export type ModelSpawnOptions = SpawnOptions;

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

/** What `shutdown()` resolves with: every input accepted but not processed, per handle. */
export interface ShutdownResult {
  unprocessed: Array<{ handleId: string; inputs: string[] }>;
}

/** The runtime: the handle API, delegation, and the root agent. */
export interface Runtime {
  /** @internal The supervisor actor, for the library's own tests and benchmarks. */
  readonly actor: ReturnType<typeof createActor<SupervisorMachine>>;
  readonly limits: Readonly<SupervisorLimits>;
  readonly options: Readonly<ResolvedOptions>;
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
   * Results of its background delegations re-enter its conversation when they
   * arrive. Needs a model run.
   */
  runAgent(message: string, options?: AgentOptions): Promise<AgentAnswer>;
  /**
   * Closes every handle (each run in flight ends `cancelled`), stops the
   * actors and resolves with every input that was accepted but not processed.
   */
  shutdown(): Promise<ShutdownResult>;
}

/** @deprecated The same as {@link Runtime}. */
export type SubagentsRuntime = Runtime;

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

