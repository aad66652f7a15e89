/**
 * The runtime as the agent tools see it: the handle API, spawning children
 * with a setup, and delegation. Types only.
 */
import type { Budget, BudgetView, ChatMessage, HandleSnapshot, Isolation, OnParentStop, Role, Usage } from '../types.js';
import type { ContextMode } from './context-mode.js';
import type { AnyTool } from '../toolkit/define-tool.js';
import type { HandleMethods, ShutdownResult, ShutdownOptions } from '../runtime/runtime-types.js';
import type { AgentType } from './agent-types.js';
import type { DelegateRequest, Delegation, DelegationOutcome, DelegationResult } from './delegation-types.js';

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
  /** Its working directory: relative to the parent's, or absolute, and inside the parent's. @default the agent type's, else the parent's */
  cwd?: string;
  /** `'worktree'`: its runs work in a git worktree of their own. @default the agent type's, else 'none' */
  isolation?: Isolation;
  /**
   * What it (with everything it spawns) may spend, reserved from its parent's
   * remainder. @default the agent type's, else half its parent's remainder
   * (none when the parent has no budget); the parent's deadline at the latest
   */
  budget?: Budget;
  /** What it starts with of its parent's conversation. @default 'fresh' */
  contextMode?: ContextMode;
  /** The parent's conversation to fork (`contextMode` `'fork'` or `{ lastMessages }`). @default the parent handle's; none for the root agent */
  parentConversation?: readonly ChatMessage[];
  /**
   * Makes the call safe to repeat: a later spawn of the same parent
   * (`parentId`) with the same key returns the snapshot this call returned
   * and spawns nothing; the same key with other options is a
   * `BadArgumentError` (`parentConversation` is not compared). A key lives as
   * long as its handle (until it is forgotten), kept in the store if the
   * runtime has one. `spawn_agent` passes the model's tool-call id.
   * @default none
   */
  idempotencyKey?: string;
  /**
   * What it does when its parent is stopped (interrupt, cancel, close):
   * `'cascade'` stops with it; `'detach'` goes on, gives back the parent's
   * concurrency slot, and its result stays for `wait` or, when nobody waits,
   * goes to the nearest open ancestor's inbox. @default the agent type's, else 'cascade'
   */
  onParentStop?: OnParentStop;
}

/** @deprecated The same as {@link SpawnOptions}. */
export type ModelSpawnOptions = SpawnOptions;

/** The handle API with spawning of set-up children and delegation: what the agent tools drive. */
export interface DelegatingRuntime extends HandleMethods {
  readonly options: Readonly<ResolvedOptions>;
  spawn(options?: SpawnOptions): HandleSnapshot;
  /**
   * Starts one task or a batch and returns at once with the ids; `result`
   * resolves when every task ended. Bad requests throw synchronously.
   */
  delegate(request: DelegateRequest): Delegation;
  /** The result of a delegation by id (background or not), once it is complete. */
  delegation(delegationId: string): Promise<DelegationOutcome>;
  /**
   * The result of the task a handle was delegated, once its checks ran (an
   * output schema's retry included): `undefined` for a handle no delegation
   * of this runtime started (or one forgotten since).
   */
  taskResult(handleId: string): Promise<DelegationResult> | undefined;
  /** Background delegations still in flight. */
  readonly activeBackground: number;
  /** Tokens and cost of a handle and its descendants, or of everything when no id is given. */
  usage(id?: string): { own: Usage; total: Usage; cost: number | null; budget: BudgetView | null };
  /** The tools of a handle (or of the root agent). */
  toolsOf(id: string | null): readonly AnyTool[];
  /**
   * The working directory of a handle (`null`: the root agent), absolute: its
   * git worktree once made, with worktree isolation.
   * @throws {UnknownHandleError} for an id the runtime does not know.
   */
  workingDirectory(id: string | null): string;
  /** The budget of a handle, or of the whole runtime (`null`): limits, deadline, spend and remainder; `null` when it has none. */
  budget(id: string | null): BudgetView | null;
  /**
   * Closes every handle (each run in flight ends `cancelled`), stops the
   * actors and resolves with every input that was accepted but not processed.
   */
  shutdown(options?: ShutdownOptions): Promise<ShutdownResult>;
}

export interface ResolvedOptions {
  model: string | null;
  maxIterations: number;
  maxBackground: number;
  /** `undefined`: follows maxConcurrentChildren. */
  maxBatchSize: number | undefined;
  blockedTools: readonly string[];
  agentTypes: readonly AgentType[];
  /** The root agent's working directory, absolute with symbolic links resolved: every handle's lies inside it. */
  cwd: string;
  /** Where worktrees are made, absolute; `null`: `.git/subagents-worktrees` of each repository. */
  worktreeDir: string | null;
  /** Estimated tokens a handle's request may carry, unless its agent type says otherwise; `null`: no bound. */
  maxConversationTokens: number | null;
  /** The names of the model run's providers, the default first; empty for a custom run. */
  providers: readonly string[];
}

