/**
 * Evidence a tool reports beside its output: a tool returns
 * `{ output, evidence: [{ kind, value }] }`, the model reads the output, and
 * the run's trace keeps the evidence, so a delegation can check a subagent's
 * claims against what its tools did.
 */
import type { Evidence } from '../types.js';

/** What a tool returns to report evidence: `output` is what the model reads. */
export interface ToolResultWithEvidence<TOutput = unknown> {
  output: TOutput;
  evidence: Evidence[];
}

/** Longest `kind`, in characters. */
const KIND_LIMIT = 64;
/** Longest `value`, in characters. */
const VALUE_LIMIT = 4_000;

/**
 * A tool result with evidence, checked: a plain object with exactly the keys
 * `output` and `evidence` (evidence an array of `{ kind, value }` strings).
 *
 * @example
 * ```ts
 * const result = withEvidence('Created `notes.md`.', [{ kind: 'file', value: '/work/project/notes.md' }]);
 * ```
 */
export function withEvidence<TOutput>(output: TOutput, evidence: readonly Evidence[]): ToolResultWithEvidence<TOutput> {
  return { output, evidence: evidence.map((entry) => ({ kind: entry.kind, value: entry.value })) };
}

/**
 * Splits what a tool returned into what the model reads and the evidence.
 * A result that is not `{ output, evidence }` (exactly those two keys) is
 * all output. Malformed evidence throws, saying which entry and why: a tool
 * that means to report evidence should hear of its mistake, not lose it silently.
 *
 * @example
 * ```ts
 * splitEvidence({ output: 'done', evidence: [{ kind: 'file', value: '/tmp/a' }] }, 'my_tool'); // { output: 'done', evidence: [ … ] }
 * splitEvidence('done', 'my_tool'); // { output: 'done', evidence: [] }
 * ```
 */
export function splitEvidence(result: unknown, toolName: string): { output: unknown; evidence: Evidence[] } {
  if (!isEvidenceShaped(result)) return { output: result, evidence: [] };
  const { output, evidence } = result;
  if (!Array.isArray(evidence)) throw new Error(`The tool \`${toolName}\` returned \`evidence\` that is not an array of { kind, value }`);
  return {
    output,
    evidence: evidence.map((entry: unknown, index) => {
      const problem = entryProblem(entry);
      if (problem) throw new Error(`The tool \`${toolName}\` returned \`evidence[${index}]\` that is not { kind, value }: ${problem}`);
      const { kind, value } = entry as Evidence;
      return { kind, value };
    }),
  };
}

function isEvidenceShaped(result: unknown): result is { output: unknown; evidence: unknown } {
  if (typeof result !== 'object' || result === null || Object.getPrototypeOf(result) !== Object.prototype) return false;
  const keys = Object.keys(result);
  return keys.length === 2 && keys.includes('output') && keys.includes('evidence');
}

function entryProblem(entry: unknown): string | null {
  if (typeof entry !== 'object' || entry === null) return 'expected an object';
  const { kind, value } = entry as Record<string, unknown>;
  if (typeof kind !== 'string' || kind.trim() === '' || kind.length > KIND_LIMIT) return `expected \`kind\` to be a non-empty string of at most ${KIND_LIMIT} characters`;
  if (typeof value !== 'string' || value === '' || value.length > VALUE_LIMIT) return `expected \`value\` to be a non-empty string of at most ${VALUE_LIMIT} characters`;
  return null;
}
