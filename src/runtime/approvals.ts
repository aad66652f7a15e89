/**
 * Approvals that reach the host: a tool call that needs approval becomes a
 * request (an `approval-request` event, the `onApproval` handler), and the
 * call waits until the host answers (`runtime.approve()` or the handler), the
 * request times out, or the caller's run ends. Each request ends exactly
 * once, with an `approval-end` event saying how and by whom.
 */
import { nanoid } from 'nanoid';
import { BadArgumentError } from '../errors.js';
import type { RunActivity } from '../machines/handle.js';
import type { ApprovalAsk, ApprovalDecision } from '../toolkit/define-tool.js';
import type { AgentRef, ApprovalRequest, RuntimeEvent } from './events.js';
import { sanitizeValue, valueSettings } from './sanitize-value.js';
import type { ValueSettings } from './sanitize-value.js';
import { errorText } from '../machines/handle.js';

/** The host's answer to an approval request. */
export interface ApprovalAnswer {
  approve: boolean;
  /** Why: shown to the model with a denial, and in the `approval-end` event. */
  reason?: string;
}

/** Answers approval requests: called once per request; may answer at once or later (a promise). */
export type ApprovalHandler = (request: ApprovalRequest) => ApprovalAnswer | Promise<ApprovalAnswer>;

/** Ended requests remembered, so that a late `approve()` says what became of its request. */
const ENDED_KEPT = 1_000;

/** Arguments shown to the host: whole (the host approves what it sees), secrets redacted. */
const ARGUMENT_SETTINGS: Omit<ValueSettings, 'secrets'> = { maxStringLength: 1_000_000, maxArrayItems: 10_000, maxDepth: 32 };

export interface ApprovalsOptions {
  /** A function, `'events'` (the host answers with `approve()`), or `null`: every request is denied. */
  handler: ApprovalHandler | 'events' | null;
  /** Requests not answered within this are denied; `null`: they wait. */
  timeoutMs: number | null;
  secrets: readonly string[];
  emit(event: RuntimeEvent): void;
  /** Where a handler that throws or answers nonsense is reported. */
  reportError(error: unknown): void;
}

interface Pending {
  who: AgentRef;
  tool: string;
  settle(decision: Omit<ApprovalDecision, 'requestId'>): void;
}

/** The approval requests of one runtime. */
export class Approvals {
  readonly #pending = new Map<string, Pending>();
  readonly #ended = new Map<string, ApprovalDecision>();
  readonly #settings: ValueSettings;

  constructor(private readonly options: ApprovalsOptions) {
    this.#settings = valueSettings({ ...ARGUMENT_SETTINGS, secrets: options.secrets });
  }

  /**
   * Asks the host about one call and resolves with the decision; never
   * rejects. While it waits, `activity.awaitingApproval` names the request
   * (the handle's snapshot shows it).
   */
  request(who: AgentRef, ask: ApprovalAsk, signal: AbortSignal, activity: RunActivity | null): Promise<ApprovalDecision> {
    const requestId = `ap_${nanoid(12)}`;
    const tool = ask.tool;
    if (signal.aborted) return Promise.resolve({ requestId, approved: false, reason: 'the run ended before the request was made', decidedBy: 'run-ended' });
    const { handler, timeoutMs } = this.options;
    const request: ApprovalRequest = { ...who, requestId, tool, arguments: sanitizeValue(ask.arguments, this.#settings) };
    this.options.emit({ type: 'approval-request', ...request });
    return new Promise<ApprovalDecision>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const onAbort = () => settle({ approved: false, reason: 'the run ended while the call waited for approval', decidedBy: 'run-ended' });
      const settle = (decision: Omit<ApprovalDecision, 'requestId'>) => {
        if (!this.#pending.delete(requestId)) return;
        if (timer !== null) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (activity?.awaitingApproval?.requestId === requestId) activity.awaitingApproval = null;
        const ended: ApprovalDecision = { requestId, ...decision };
        this.#remember(ended);
        this.options.emit({ type: 'approval-end', ...who, requestId, tool, approved: ended.approved, reason: ended.reason, decidedBy: ended.decidedBy });
        resolve(ended);
      };
      this.#pending.set(requestId, { who, tool, settle });
      if (handler === null) {
        settle({ approved: false, reason: 'this runtime has no approval handler (`onApproval`)', decidedBy: 'no-handler' });
        return;
      }
      if (activity) activity.awaitingApproval = { requestId, tool };
      signal.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== null) {
        timer = setTimeout(() => settle({ approved: false, reason: `nobody answered within ${timeoutMs} ms (approvalTimeoutMs)`, decidedBy: 'timeout' }), timeoutMs);
      }
      if (typeof handler === 'function') this.#ask(handler, request, settle);
    });
  }

  /**
   * Answers a pending request.
   *
   * @throws {BadArgumentError} for an id that is not a pending request (unknown, or already decided) or a bad answer.
   */
  approve(requestId: unknown, answer: unknown): void {
    if (typeof requestId !== 'string') throw new BadArgumentError('requestId', 'the id of a pending approval request (a string)', requestId);
    const pending = this.#pending.get(requestId);
    if (!pending) {
      const ended = this.#ended.get(requestId);
      const expected = ended
        ? `the id of a pending approval request; \`${requestId}\` was already ${ended.approved ? 'approved' : 'denied'} (by ${ended.decidedBy})`
        : `the id of a pending approval request of this runtime (${this.#pending.size} pending)`;
      throw new BadArgumentError('requestId', expected, requestId);
    }
    const checked = checkAnswer(answer, 'answer');
    pending.settle({ approved: checked.approve, reason: checked.reason ?? null, decidedBy: 'host' });
  }

  /** The requests waiting for an answer, oldest first. */
  pending(): Array<{ requestId: string; tool: string } & AgentRef> {
    return [...this.#pending].map(([requestId, { who, tool }]) => ({ ...who, requestId, tool }));
  }

  /** Ends every pending request (the runtime shuts down): each call is denied as stopped. */
  endAll(): void {
    for (const pending of [...this.#pending.values()]) {
      pending.settle({ approved: false, reason: 'the runtime shut down while the call waited for approval', decidedBy: 'run-ended' });
    }
  }

  #ask(handler: ApprovalHandler, request: ApprovalRequest, settle: Pending['settle']): void {
    // The handler runs outside the call that asked: a throw (sync or async) is a denial, never the tool's failure.
    Promise.resolve()
      .then(() => handler(request))
      .then((answer) => {
        const checked = checkAnswer(answer, 'the answer of onApproval');
        settle({ approved: checked.approve, reason: checked.reason ?? null, decidedBy: 'handler' });
      })
      .catch((error: unknown) => {
        this.options.reportError(error);
        settle({ approved: false, reason: `the approval handler failed: ${errorText(error)}`, decidedBy: 'handler' });
      });
  }

  #remember(decision: ApprovalDecision): void {
    this.#ended.set(decision.requestId, decision);
    if (this.#ended.size > ENDED_KEPT) this.#ended.delete(this.#ended.keys().next().value!);
  }
}

function checkAnswer(answer: unknown, name: string): ApprovalAnswer {
  if (typeof answer !== 'object' || answer === null || typeof (answer as { approve?: unknown }).approve !== 'boolean') {
    throw new BadArgumentError(name, '{ approve: boolean, reason?: string }', answer);
  }
  const { reason } = answer as { reason?: unknown };
  if (reason !== undefined && typeof reason !== 'string') throw new BadArgumentError(`${name}.reason`, 'a string', reason);
  return answer as ApprovalAnswer;
}
