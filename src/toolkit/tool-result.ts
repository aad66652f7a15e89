/**
 * How agent-tool outcomes read for a model: handles as compact JSON views,
 * and every dispatched call as `{"ok":true,…}` or
 * `{"ok":false,"error":{"code","message","field"?}}`.
 */
import { BadArgumentError, SubagentsError } from '../errors.js';
import type { BudgetView, DelegationResult, Evidence, HandleSnapshot, Usage, WorktreeReport } from '../types.js';
import { toolResultToString } from './tool-arguments.js';
import { abortedPayload } from '../tool-failure.js';
import type { ToolErrorPayload } from '../tool-failure.js';
import { AgentToolError } from './tool-error.js';

/** Characters of an input shown back to the model in a handle view. */
const PREVIEW_LIMIT = 500;
/** Characters of an error message sent to the model. */
const MESSAGE_LIMIT = 4_000;

/** A handle as the model sees it. */
export interface HandleView {
  id: string;
  status: HandleSnapshot['status'];
  agentType: string;
  role: HandleSnapshot['role'];
  depth: number;
  model: string | null;
  goal: string | null;
  lastInput: string | null;
  lastOutput: string | null;
  lastOutcome: HandleSnapshot['lastOutcome'];
  error: string | null;
  queueSize: number;
  queuedPreview: string | null;
  waitingForSlot: boolean;
  runs: number;
  updatedAt: string;
  usage: Usage;
  /** Its git worktree, with worktree isolation. */
  worktree?: WorktreeView;
  /** Its budget and deadline, with what is left, when it has one. */
  budget?: BudgetView;
  /** Shown when it goes on after its parent is stopped (the default, `'cascade'`, is left out). */
  onParentStop?: 'detach';
  /** What its run in flight is doing; `null` when none is. */
  progress: ProgressView | null;
}

/** A run in flight as the model sees it: times relative to the moment of the view. */
export interface ProgressView {
  modelCalls: number;
  /** Tokens of this run so far. */
  tokens: number;
  currentTool: string | null;
  currentToolForMs: number | null;
  /** The tool whose call waits for the user's approval. */
  awaitingApprovalFor: string | null;
  lastActivityMsAgo: number;
  /** The end of its latest text (agent_status only). */
  lastText?: string | null;
}

/** A subagent's git worktree as the model sees it. */
export interface WorktreeView extends Pick<WorktreeReport, 'state' | 'path' | 'branch' | 'changed' | 'diffStat' | 'parentDirty'> {
  note: string;
}

/**
 * A worktree for the model: where it is, whether it was kept, and a note
 * saying what that means for the caller's own tree.
 *
 * @example
 * ```ts
 * const { results } = await runtime.delegate({ goal: 'Fix the typo', isolation: 'worktree' }).result;
 * const view = results[0]?.worktree ? worktreeView(results[0].worktree) : null;
 * ```
 */
export function worktreeView(worktree: WorktreeReport): WorktreeView {
  const notes = [
    worktree.state === 'kept'
      ? `Its changes are kept in the worktree \`${worktree.path}\` on branch \`${worktree.branch}\`, not in your tree: read them there, or merge the branch.`
      : worktree.state === 'removed'
        ? 'It changed nothing: its worktree and branch were removed.'
        : `It works in the worktree \`${worktree.path}\` on branch \`${worktree.branch}\`.`,
  ];
  if (worktree.error !== null) notes.push(`The worktree is kept because ${worktree.error}.`);
  if (worktree.parentDirty) notes.push('Your tree had uncommitted changes when the worktree was made; it does not have them.');
  const { state, path, branch, changed, diffStat, parentDirty } = worktree;
  return { state, path, branch, changed, diffStat, parentDirty, note: notes.join(' ') };
}

/**
 * A handle for the model: the full last output, other texts shortened.
 *
 * @example
 * ```ts
 * return { handle: handleView(runtime.get(id)) };
 * ```
 */
export function handleView(handle: HandleSnapshot): HandleView {
  return {
    id: handle.id,
    status: handle.status,
    agentType: handle.agentType,
    role: handle.role,
    depth: handle.depth,
    model: handle.model,
    goal: preview(handle.goal),
    lastInput: preview(handle.lastInput),
    lastOutput: handle.lastOutput,
    lastOutcome: handle.lastOutcome,
    error: handle.error,
    queueSize: handle.queueSize,
    queuedPreview: preview(handle.queuedPreview),
    waitingForSlot: handle.waitingForSlot,
    runs: handle.runs,
    updatedAt: handle.updatedAt,
    usage: { ...handle.usage },
    progress: progressView(handle, true),
    ...(handle.worktree ? { worktree: worktreeView(handle.worktree) } : {}),
    ...(handle.budget ? { budget: handle.budget } : {}),
    ...(handle.onParentStop === 'detach' ? { onParentStop: 'detach' as const } : {}),
  };
}

/** A handle in a list: outputs shortened too, its run's text left out. */
export function handleSummary(handle: HandleSnapshot): HandleView {
  return { ...handleView(handle), lastOutput: preview(handle.lastOutput), progress: progressView(handle, false) };
}

function progressView(handle: HandleSnapshot, withText: boolean, now = Date.now()): ProgressView | null {
  const progress = handle.progress;
  if (!progress) return null;
  const ago = (iso: string) => Math.max(0, now - Date.parse(iso));
  return {
    modelCalls: progress.apiCalls,
    tokens: progress.usage.inputTokens + progress.usage.outputTokens,
    currentTool: progress.currentTool?.name ?? null,
    currentToolForMs: progress.currentTool ? ago(progress.currentTool.startedAt) : null,
    awaitingApprovalFor: handle.awaitingApproval?.tool ?? null,
    lastActivityMsAgo: ago(progress.lastActivityAt),
    ...(withText ? { lastText: progress.textTail } : {}),
  };
}

/** Evidence items shown to the model; the count says how many there are in all. */
const EVIDENCE_SHOWN = 5;

/** Evidence for the model: how many, and the first few as `kind: value`. */
export function evidenceView(evidence: readonly Evidence[]): { count: number; items: string[] } {
  return { count: evidence.length, items: evidence.slice(0, EVIDENCE_SHOWN).map(({ kind, value }) => `${kind}: ${value.length > 200 ? `${value.slice(0, 200)}…` : value}`) };
}

/**
 * A delegated task's checks for the model, in few fields: `verified` with
 * its reason when the task has checks, the evidence when there is any.
 *
 * @example
 * ```ts
 * const { results } = await runtime.delegate({ goal: 'Write notes.md', requireEvidence: true }).result;
 * const view = results[0] ? checkView(results[0]) : {}; // { verified: false, verification: 'Not verified: …' }
 * ```
 */
export function checkView(result: Pick<DelegationResult, 'verified' | 'verificationReason' | 'evidence'>) {
  return {
    ...(result.verified !== null ? { verified: result.verified, verification: result.verificationReason } : {}),
    ...(result.evidence.length > 0 ? { evidence: evidenceView(result.evidence) } : {}),
  };
}

function preview(text: string | null): string | null {
  if (text === null || text.length <= PREVIEW_LIMIT) return text;
  return `${text.slice(0, PREVIEW_LIMIT)}… (${text.length} characters)`;
}

/**
 * The payload for any thrown value: SubagentsError subclasses keep their code
 * (and field), aborts read `aborted`, anything else `tool_failed`.
 *
 * @example
 * ```ts
 * errorPayloadOf(new BadArgumentError('goal', 'a non-empty string', '')); // { code: 'bad_argument', field: 'goal', … }
 * ```
 */
export function errorPayloadOf(error: unknown): ToolErrorPayload {
  if (error instanceof AgentToolError) {
    return { code: error.code, message: clip(error.message), ...(error.field !== null ? { field: error.field } : {}) };
  }
  if (error instanceof BadArgumentError) return { code: error.code, message: clip(error.message), field: error.argument };
  if (error instanceof SubagentsError) return { code: error.code, message: clip(error.message) };
  if (isAbort(error)) return abortedPayload();
  if (error instanceof Error) return { code: 'tool_failed', message: clip(`${error.name}: ${error.message}`) };
  return { code: 'tool_failed', message: clip(`The tool failed: ${toolResultToString(error)}`) };
}

function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'name' in error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function clip(message: string): string {
  return message.length > MESSAGE_LIMIT ? `${message.slice(0, MESSAGE_LIMIT)}… (${message.length} characters)` : message;
}

/**
 * `{"ok":true,…}`: a plain object's fields beside `ok`, anything else under `result`.
 *
 * @example
 * ```ts
 * successJson({ delivery: 'queued' }); // '{"ok":true,"delivery":"queued"}'
 * successJson('done'); // '{"ok":true,"result":"done"}'
 * ```
 */
export function successJson(result: unknown): string {
  const payload =
    typeof result === 'object' && result !== null && !Array.isArray(result) && Object.getPrototypeOf(result) === Object.prototype
      ? // `ok` stays the first key and keeps its value whatever the result holds.
        Object.assign({ ok: true }, result, { ok: true })
      : { ok: true, result: result === undefined ? null : result };
  try {
    return JSON.stringify(payload, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  } catch {
    // Circular or otherwise unserialisable: the tool's text form still reaches the model.
    return JSON.stringify({ ok: true, result: toolResultToString(result) });
  }
}
