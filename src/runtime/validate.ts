import { BadArgumentError } from '../errors.js';
import type { SupervisorLimits } from '../machines/supervisor.js';
import type { RunLimits } from '../types.js';
import type { RuntimeBaseOptions } from './runtime-types.js';
import { DEFAULT_PROGRESS_INTERVAL_MS } from './activity.js';

const isPositiveInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1;

/** The supervisor's limits among the given options, and only those that are set. */
export function pickLimits(options: Partial<SupervisorLimits>): Partial<SupervisorLimits> {
  const picked: Partial<SupervisorLimits> = {};
  if (options.maxSpawnDepth !== undefined) picked.maxSpawnDepth = options.maxSpawnDepth;
  if (options.maxConcurrentChildren !== undefined) picked.maxConcurrentChildren = options.maxConcurrentChildren;
  if (options.maxConcurrentRuns !== undefined) picked.maxConcurrentRuns = options.maxConcurrentRuns;
  return picked;
}

/** Checks every limit; throws BadArgumentError naming the first bad one. */
export function validateLimits(limits: SupervisorLimits): SupervisorLimits {
  if (!isPositiveInteger(limits.maxSpawnDepth)) {
    throw new BadArgumentError('maxSpawnDepth', 'an integer >= 1', limits.maxSpawnDepth);
  }
  if (!isPositiveInteger(limits.maxConcurrentChildren)) {
    throw new BadArgumentError('maxConcurrentChildren', 'an integer >= 1', limits.maxConcurrentChildren);
  }
  if (limits.maxConcurrentRuns !== null && !isPositiveInteger(limits.maxConcurrentRuns)) {
    throw new BadArgumentError('maxConcurrentRuns', 'an integer >= 1 or null', limits.maxConcurrentRuns);
  }
  return { ...limits };
}

/** A message is a non-empty string. */
export function requireMessage(message: unknown): string {
  if (typeof message !== 'string' || message.trim().length === 0) {
    throw new BadArgumentError('message', 'a non-empty string', message);
  }
  return message;
}

/** A timeout is a finite number of milliseconds >= 0 (at most 2^31 - 1, the timer limit). */
export function requireTimeout(timeoutMs: unknown, name = 'timeoutMs'): number {
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > 2_147_483_647) {
    throw new BadArgumentError(name, 'a finite number of milliseconds between 0 and 2147483647', timeoutMs);
  }
  return timeoutMs;
}

/** An options argument: `undefined` means none; anything but a plain object is refused. */
export function optionsObject<T extends object>(value: T | undefined | null, name: string): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadArgumentError(name, 'an object', value);
  }
  return value;
}

/** A function, if given. */
export function optionalFunction(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') throw new BadArgumentError(name, 'a function', value);
}

/** An array of non-empty strings, if given. */
export function optionalStringArray(value: unknown, name: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.length === 0)) {
    throw new BadArgumentError(name, 'an array of non-empty strings', value);
  }
}

/** Checks an optional limit in milliseconds or tokens; `null` when not given. */
function optionalLimit(value: unknown, name: string, tokens = false): number | null {
  if (value === undefined || value === null) return null;
  if (tokens) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new BadArgumentError(name, 'an integer >= 1', value);
    return value;
  }
  // 0 would end every run at once: a limit is at least 1 ms; leave it out (or null) for none.
  if (value === 0) throw new BadArgumentError(name, 'a number of milliseconds >= 1 (leave it out, or null, for no limit)', value);
  return requireTimeout(value, name);
}

/** The approval and progress options, checked, with their defaults. */
export function validateActivityOptions(options: RuntimeBaseOptions): { onApproval: NonNullable<RuntimeBaseOptions['onApproval']> | null; approvalTimeoutMs: number | null; progressIntervalMs: number | null } {
  const { onApproval } = options;
  if (onApproval !== undefined && typeof onApproval !== 'function' && onApproval !== 'events') {
    throw new BadArgumentError('onApproval', "a function (request) => { approve, reason? }, or 'events' (answer with runtime.approve())", onApproval);
  }
  const progressIntervalMs = options.progressIntervalMs === undefined ? DEFAULT_PROGRESS_INTERVAL_MS : requireTimeout(options.progressIntervalMs, 'progressIntervalMs');
  return {
    onApproval: onApproval ?? null,
    approvalTimeoutMs: optionalLimit(options.approvalTimeoutMs, 'approvalTimeoutMs'),
    progressIntervalMs: progressIntervalMs === 0 ? null : progressIntervalMs,
  };
}

/** Validates the options every runtime takes; throws a typed error naming the first bad one. */
export function validateCoreOptions(options: RuntimeBaseOptions): RunLimits {
  optionalFunction(options.onSubagentStart, 'onSubagentStart');
  optionalFunction(options.onSubagentStop, 'onSubagentStop');
  optionalFunction(options.onListenerError, 'onListenerError');
  validateActivityOptions(options);
  const inspect: unknown = options.inspect;
  if (inspect !== undefined && typeof inspect !== 'function' && (typeof inspect !== 'object' || inspect === null)) {
    throw new BadArgumentError('inspect', 'an inspection observer (a function or an object with `next`)', inspect);
  }
  if (options.inspection !== undefined && (typeof options.inspection !== 'object' || options.inspection === null)) {
    throw new BadArgumentError('inspection', 'an object of inspection options', options.inspection);
  }
  return {
    childTimeoutMs: optionalLimit(options.childTimeoutMs, 'childTimeoutMs'),
    staleTimeoutMs: optionalLimit(options.staleTimeoutMs, 'staleTimeoutMs'),
    maxRunTokens: optionalLimit(options.maxRunTokens, 'maxRunTokens', true),
  };
}

/** The edit distance of two short strings (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Refuses a key an options object does not take (a misspelt option would
 * otherwise be ignored without a word), naming the known key it is closest to.
 */
export function rejectUnknownKeys(value: object, known: readonly string[], where?: string): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = known.find((candidate) => candidate.toLowerCase() === key.toLowerCase()) ?? known.find((candidate) => distance(candidate, key) <= 2);
    const expected = near ? `left out: it is not an option (did you mean \`${near}\`?)` : `left out: it is not an option (the options are ${known.join(', ')})`;
    throw new BadArgumentError(where ? `${where}.${key}` : key, expected, (value as Record<string, unknown>)[key]);
  }
}
