/**
 * Results you can check: a task's (or agent type's) `outputSchema`, which the
 * child's final answer must match, and `requireEvidence` and `verify`, which
 * judge whether what it claims is so. The checks are code, given by the
 * caller; the model's `delegate_task` tool takes none.
 */
import { z } from 'zod';
import { BadArgumentError } from '../errors.js';
import type { DelegationResult, Evidence, SchemaError, ToolTraceEntry } from '../types.js';

/** A task's result before its checks: what `checkedResult` completes. */
export type UncheckedResult = Omit<DelegationResult, 'value' | 'schemaError' | 'evidence' | 'verified' | 'verificationReason'>;

/** What a `verify` function may answer: a boolean, or a verdict with its reason. */
export interface VerifyVerdict {
  ok: boolean;
  /** Why; shown as the result's `verificationReason`. @default a sentence saying verify passed or rejected it */
  reason?: string;
}

/**
 * Checks a finished task's result (the file exists, the id is real, …):
 * called once the child's task completed and its answer matched the
 * `outputSchema`, with the result as the caller will get it (`value`,
 * `evidence`, `summary`, `worktree`, …). A throw counts as a rejection.
 */
export type VerifyResult = (result: Readonly<DelegationResult>) => boolean | VerifyVerdict | Promise<boolean | VerifyVerdict>;

/** The checks of a task or an agent type; a task's own override its agent type's, field by field. */
export interface ResultChecks {
  /**
   * A zod schema the child's final answer must match: the answer is parsed
   * (plain JSON, or the first fenced json block) and validated; the result's
   * `value` is zod's output. The goal tells the child the JSON Schema. On a
   * mismatch the child gets one more turn with the problems; a second
   * mismatch ends the task with status `error`, `errorCode`
   * `'schema_mismatch'` and `schemaError`. @default none
   */
  outputSchema?: z.core.$ZodType | undefined;
  /** The child's tool calls must report evidence (`{ output, evidence }` results); none makes `verified` false. @default false */
  requireEvidence?: boolean | undefined;
  /** Judges the result; its verdict is `verified` with `verificationReason`. @default none */
  verify?: VerifyResult | undefined;
}

/** The fields of {@link ResultChecks}: code-only, never the model's. */
export const CHECK_FIELDS = ['outputSchema', 'requireEvidence', 'verify'] as const;

/**
 * The checks among an object's fields, checked: a BadArgumentError names the
 * field (`tasks[1].outputSchema`) and says what was expected.
 */
export function checkResultChecks(fields: Readonly<Record<string, unknown>>, prefix: string): ResultChecks {
  const { outputSchema, requireEvidence, verify } = fields;
  if (outputSchema !== undefined && !(outputSchema instanceof z.core.$ZodType)) {
    const zod3 = typeof outputSchema === 'object' && outputSchema !== null && '_def' in outputSchema && !('_zod' in outputSchema);
    throw new BadArgumentError(`${prefix}outputSchema`, zod3 ? "a zod 4 schema (from `import { z } from 'zod'` with zod 4, or 'zod/v4'), not a zod 3 one" : 'a zod schema (z.object({…}), z.array(…), …)', outputSchema);
  }
  if (requireEvidence !== undefined && typeof requireEvidence !== 'boolean') throw new BadArgumentError(`${prefix}requireEvidence`, 'a boolean', requireEvidence);
  if (verify !== undefined && typeof verify !== 'function') throw new BadArgumentError(`${prefix}verify`, 'a function (result) => boolean | { ok, reason }', verify);
  return {
    ...(outputSchema !== undefined ? { outputSchema } : {}),
    ...(requireEvidence !== undefined ? { requireEvidence } : {}),
    ...(verify !== undefined ? { verify: verify as VerifyResult } : {}),
  };
}

/** A task's checks over its agent type's: the task's field when it gives one. `null` when there are none. */
export function effectiveChecks(task: ResultChecks, type: ResultChecks | undefined): ResultChecks | null {
  const outputSchema = task.outputSchema ?? type?.outputSchema;
  const requireEvidence = task.requireEvidence ?? type?.requireEvidence;
  const verify = task.verify ?? type?.verify;
  if (outputSchema === undefined && requireEvidence !== true && verify === undefined) return null;
  return { outputSchema, requireEvidence, verify };
}

/** What the child is told after its goal when its answer must match a schema. */
export function answerInstructions(schema: z.core.$ZodType): string {
  let shape = '';
  try {
    shape = `, matching this JSON Schema:\n\`\`\`json\n${JSON.stringify(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }))}\n\`\`\``;
  } catch {
    // A schema JSON Schema cannot show (cycles, custom types) is still checked; the child is told the form only.
  }
  return `\n\nYour final answer must be JSON only (plain, or in one \`\`\`json block)${shape}\nIt is parsed and checked by code.`;
}

/** The answer parsed and validated, or why not. */
export type ParsedAnswer = { ok: true; value: unknown } | { ok: false; error: SchemaError };

/** The JSON an answer holds: all of it, else its first ```json block (else its first fenced block). */
function jsonOf(answer: string): { ok: true; json: unknown } | { ok: false; problem: string } {
  const candidates = [answer.trim()];
  const fences = [...answer.matchAll(/```([A-Za-z0-9_-]*)[ \t]*\r?\n([\s\S]*?)```/g)];
  const fenced = fences.find((fence) => fence[1]?.toLowerCase() === 'json') ?? fences[0];
  if (fenced?.[2] !== undefined) candidates.push(fenced[2].trim());
  let problem = 'the answer is empty';
  for (const text of candidates) {
    if (text === '') continue;
    try {
      return { ok: true, json: JSON.parse(text) as unknown };
    } catch (error) {
      problem = `it is not JSON (${error instanceof Error ? error.message : String(error)})`;
    }
  }
  return { ok: false, problem: fenced ? problem : `${problem}; expected plain JSON or one \`\`\`json block` };
}

/** `items[0].name`; `(answer)` for the whole answer. */
const pathText = (path: readonly PropertyKey[]) =>
  path.length === 0 ? '(answer)' : path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`)).join('');

/**
 * Parses an answer and validates it against the schema (refinements may be
 * async). `attempts` is how many answers were checked, this one included.
 */
export async function parseAnswer(schema: z.core.$ZodType, answer: string, attempts: number): Promise<ParsedAnswer> {
  const json = jsonOf(answer);
  let issues: SchemaError['issues'];
  if (!json.ok) issues = [{ path: '(answer)', message: json.problem }];
  else {
    try {
      const result = await z.core.safeParseAsync(schema, json.json);
      if (result.success) return { ok: true, value: result.data };
      issues = result.error.issues.map((issue) => ({ path: pathText(issue.path), message: issue.message }));
    } catch (error) {
      issues = [{ path: '(answer)', message: `the output schema threw: ${error instanceof Error ? error.message : String(error)}` }];
    }
  }
  const listed = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  return { ok: false, error: { message: `The answer does not match the output schema (${tries}): ${listed}`, issues, answer, attempts } };
}

/** The follow-up the child gets once: what was wrong with its answer, and what to send instead. */
export function retryMessage(error: SchemaError): string {
  const lines = error.issues.map((issue) => `- \`${issue.path}\`: ${issue.message}`);
  return (
    `Your answer was refused: it must be JSON matching the required output schema, and it does not:\n${lines.join('\n')}\n` +
    'Answer again with only the corrected JSON (plain, or in one ```json block) and nothing else.'
  );
}

/** The evidence of a trace's successful calls, in order. */
export function evidenceOf(trace: readonly ToolTraceEntry[]): Evidence[] {
  return trace.flatMap((entry) => (entry.ok && entry.evidence ? entry.evidence.map(({ kind, value }) => ({ kind, value })) : []));
}

/**
 * A task's result with its checks applied: the answer parsed against the
 * schema (a mismatch makes the task an error), the evidence listed, and the
 * verdict of `requireEvidence` and `verify`.
 */
export async function checkedResult(result: UncheckedResult, checks: ResultChecks | null, attempts: number): Promise<DelegationResult> {
  let checked = withChecks(result, evidenceOf(result.toolTrace));
  if (!checks) return checked;
  if (checks.outputSchema && checked.status === 'completed') {
    const parsed = await parseAnswer(checks.outputSchema, checked.summary, attempts);
    if (parsed.ok) checked.value = parsed.value;
    else {
      const { message } = parsed.error;
      // The run completed (exitReason says so); the task did not: its answer is not what was asked for.
      checked = { ...checked, status: 'error', summary: message, error: message, errorCode: 'schema_mismatch', schemaError: parsed.error };
    }
  }
  if (checks.requireEvidence !== true && !checks.verify) return checked;
  const verdict = await verdictOf(checked, checks);
  checked.verified = verdict.ok;
  checked.verificationReason = verdict.reason;
  return checked;
}

/** The result with its checks' fields not yet set, every field in one literal (a spread plus five more would make a slow, dictionary-mode object). */
function withChecks(result: UncheckedResult, evidence: DelegationResult['evidence']): DelegationResult {
  return {
    taskIndex: result.taskIndex,
    handleId: result.handleId,
    goal: result.goal,
    usage: result.usage,
    cost: result.cost,
    model: result.model,
    deniedToolsets: result.deniedToolsets,
    degradedToLeaf: result.degradedToLeaf,
    worktree: result.worktree,
    status: result.status,
    summary: result.summary,
    partialOutput: result.partialOutput,
    exitReason: result.exitReason,
    apiCalls: result.apiCalls,
    durationMs: result.durationMs,
    toolTrace: result.toolTrace,
    error: result.error,
    errorCode: result.errorCode,
    value: null,
    schemaError: null,
    evidence,
    verified: null,
    verificationReason: null,
  };
}

async function verdictOf(result: DelegationResult, checks: ResultChecks): Promise<{ ok: boolean; reason: string }> {
  if (result.schemaError) return { ok: false, reason: 'Not verified: its answer does not match the output schema.' };
  if (result.status !== 'completed') return { ok: false, reason: `Not verified: the task ended \`${result.status}\` before its result could be checked.` };
  if (checks.requireEvidence === true && result.evidence.length === 0) {
    return { ok: false, reason: 'Not verified: evidence was required and its tool calls reported none (no file written, id created or URL given).' };
  }
  if (!checks.verify) return { ok: true, reason: `Evidence reported: ${result.evidence.length} item${result.evidence.length === 1 ? '' : 's'}.` };
  let answer: unknown;
  try {
    answer = await checks.verify(Object.freeze({ ...result }));
  } catch (error) {
    return { ok: false, reason: `Not verified: the verify function threw: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof answer === 'boolean') return { ok: answer, reason: answer ? 'The verify function accepted the result.' : 'Not verified: the verify function rejected the result.' };
  if (typeof answer === 'object' && answer !== null && typeof (answer as VerifyVerdict).ok === 'boolean') {
    const { ok, reason } = answer as VerifyVerdict;
    const given = typeof reason === 'string' && reason.trim() !== '' ? reason : null;
    return { ok, reason: given ?? (ok ? 'The verify function accepted the result.' : 'Not verified: the verify function rejected the result.') };
  }
  return { ok: false, reason: 'Not verified: the verify function returned neither a boolean nor { ok, reason }.' };
}
