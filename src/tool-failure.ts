/**
 * The one format a failed tool call reads as for the model, wherever it
 * failed (the executor, the agent tools, a call the run's end cut off):
 * `{"ok":false,"error":{"code","message","field"?}}`. It sits beside the
 * errors, below every layer, so the charts write it too.
 */

/** What a failed call tells the model. */
export interface ToolErrorPayload {
  /** Stable, machine-readable: `bad_argument`, `unknown_handle`, `depth_limit`, … */
  code: string;
  message: string;
  /** The argument at fault, when one is. */
  field?: string;
}

/**
 * What a call stopped by the end of its caller's run tells the model, whatever
 * stopped it: the same payload for an abort the tool saw, a call the executor
 * did not start, and a call the run ended before its result came.
 *
 * @example
 * ```ts
 * failureJson(abortedPayload()); // '{"ok":false,"error":{"code":"aborted","message":"The call was stopped …"}}'
 * ```
 */
export function abortedPayload(detail?: string): ToolErrorPayload {
  return { code: 'aborted', message: `The call was stopped because your run was ${detail ?? 'interrupted, cancelled or closed'}.` };
}

/**
 * `{"ok":false,"error":{…}}`.
 *
 * @example
 * ```ts
 * failureJson({ code: 'unknown_tool', field: 'name', message: '…' });
 * ```
 */
export function failureJson(payload: ToolErrorPayload): string {
  return JSON.stringify({ ok: false, error: payload });
}
