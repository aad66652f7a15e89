/**
 * Every public error the library throws. Each one carries the data a caller
 * needs to react without parsing the message, and a message that says what
 * was expected and what came.
 */

/** Base class of every error thrown by subagents. */
export abstract class SubagentsError extends Error {
  /** A stable machine-readable code, also used by the LLM-facing tools. */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No handle (or delegation) is known under the given id. */
export class UnknownHandleError extends SubagentsError {
  readonly code = 'unknown_handle';
  constructor(
    readonly handleId: string,
    readonly known: readonly string[] = [],
  ) {
    const hint =
      known.length === 0
        ? 'no handles exist'
        : `known ids: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}`;
    super(`Expected the id of an existing subagent handle, got \`${handleId}\` (${hint})`);
  }
}

/** The handle is closed and takes no input until it is resumed. */
export class HandleClosedError extends SubagentsError {
  readonly code = 'handle_closed';
  constructor(readonly handleId: string) {
    super(`Handle \`${handleId}\` is closed and takes no input; call resume(\`${handleId}\`) first`);
  }
}

/** A spawn was asked of a parent that already sits at the maximum depth. */
export class DepthLimitError extends SubagentsError {
  readonly code = 'depth_limit';
  constructor(
    readonly depth: number,
    readonly maxSpawnDepth: number,
  ) {
    super(
      `Expected the parent's depth to be below maxSpawnDepth (${maxSpawnDepth}), got depth ${depth}; ` +
        `raise \`maxSpawnDepth\` in createRuntime() to allow deeper nesting`,
    );
  }
}

/** Spawning is paused: new spawns fail fast while running children go on. */
export class SpawningPausedError extends SubagentsError {
  readonly code = 'spawning_paused';
  constructor() {
    super('Spawning is paused; call pauseSpawning(false) to allow new subagents');
  }
}

/** Too many background delegations are in flight. */
export class BackgroundLimitError extends SubagentsError {
  readonly code = 'background_limit';
  constructor(
    readonly active: number,
    readonly maxBackground: number,
  ) {
    super(
      `Expected fewer than ${maxBackground} background delegations in flight, got ${active}; ` +
        `wait for one to finish or raise \`maxBackground\``,
    );
  }
}

/** An argument did not have the expected shape or value. */
export class BadArgumentError extends SubagentsError {
  readonly code = 'bad_argument';
  constructor(
    readonly argument: string,
    readonly expected: string,
    readonly received: unknown,
  ) {
    super(`Expected \`${argument}\` to be ${expected}, got ${describeValue(received)}`);
  }
}

/** The runtime was shut down and accepts no more work. */
export class RuntimeShutDownError extends SubagentsError {
  readonly code = 'runtime_shut_down';
  constructor() {
    super('The runtime has been shut down and accepts no more work');
  }
}

/** A run was stopped because it spent more tokens than its budget. */
export class TokenBudgetError extends SubagentsError {
  readonly code = 'token_budget';
  constructor(
    readonly spent: number,
    readonly maxRunTokens: number,
  ) {
    super(`The run spent ${spent} tokens, over maxRunTokens (${maxRunTokens}), and was stopped`);
  }
}

/** A run ended because it exceeded its time budget or stopped making progress. */
export class RunTimeoutError extends SubagentsError {
  readonly code = 'timeout';
  constructor(
    readonly kind: 'child_timeout' | 'stale',
    readonly limitMs: number,
  ) {
    super(
      kind === 'child_timeout'
        ? `The run exceeded childTimeoutMs (${limitMs} ms) and was stopped`
        : `The run made no model or tool progress for ${limitMs} ms (staleTimeoutMs) and was stopped`,
    );
  }
}

/**
 * Renders a received value for an error message: short, with its type, never
 * the whole of a huge string.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    return `string \`${shown}\`${value.length > 60 ? ` (${value.length} characters)` : ''}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} \`${String(value)}\``;
  }
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return 'an object';
}
