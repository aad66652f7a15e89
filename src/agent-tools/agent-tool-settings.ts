/**
 * What every agent tool shares: the slice of the runtime it drives, the
 * settings of the tool set, and facts about the calling agent read from the
 * runtime at the moment they are needed.
 */
import { BadArgumentError } from '../errors.js';
import type { DelegatingRuntime as SubagentsRuntime } from '../delegation/delegating-runtime.js';
import { knownAgentTypes as knownTypesFor } from '../delegation/task-schema.js';
import type { AgentType } from '../delegation/agent-types.js';

/** The runtime API the agent tools use. */
export type AgentToolsRuntime = Pick<
  SubagentsRuntime,
  | 'spawn'
  | 'send'
  | 'wait'
  | 'interrupt'
  | 'close'
  | 'cancel'
  | 'resume'
  | 'get'
  | 'list'
  | 'delegate'
  | 'limits'
  | 'options'
  | 'toolsOf'
  | 'workingDirectory'
  | 'budget'
  | 'extendDeadline'
> &
  Partial<Pick<SubagentsRuntime, 'taskResult'>>;

/** Options of {@link createAgentTools}. */
export interface AgentToolsOptions {
  /**
   * Most tasks one `delegate_task` call may carry; read at each call, so it
   * follows `setLimits`.
   * @default `runtime.options.maxBatchSize` when the runtime has it, else `limits.maxConcurrentChildren`
   */
  maxBatchSize?: number;
  /** Shortest wait `wait_agent` honours: shorter ones are raised to it, so a model cannot busy-poll. @default 1000 */
  minWaitMs?: number;
  /** Longest wait `wait_agent` honours: longer ones are cut to it. @default 600000 */
  maxWaitMs?: number;
  /** Wait when `timeout_ms` is left out. @default 30000 */
  defaultWaitMs?: number;
  /**
   * Whether `delegate_task` runs in the background when the caller leaves
   * `background` out (its description says which). A caller whose requests
   * time out, such as an MCP client, is better served by `true`.
   * @default false
   */
  backgroundByDefault?: boolean;
  /**
   * How the combined result of a background delegation reaches the caller,
   * as a clause of the tool's description and answer.
   * @default 'the combined result arrives later as a message'
   */
  backgroundDelivery?: string;
}

/** The settings after defaults and checks. */
export interface AgentToolsSettings {
  readonly runtime: AgentToolsRuntime;
  /** The batch size allowed now. */
  maxBatchSize(): number;
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
  readonly defaultWaitMs: number;
  readonly backgroundByDefault: boolean;
  readonly backgroundDelivery: string;
}

/** How a background result reaches an agent that runs the model loop. */
export const DEFAULT_BACKGROUND_DELIVERY = 'the combined result arrives later as a message';

const TIMER_LIMIT_MS = 2_147_483_647;

/**
 * Checks the options and fills in the defaults.
 *
 * @throws {BadArgumentError} when an option is invalid.
 * @example
 * ```ts
 * const settings = resolveAgentToolsSettings(runtime, { maxBatchSize: 5 });
 * settings.maxBatchSize(); // 5
 * ```
 */
export function resolveAgentToolsSettings(runtime: AgentToolsRuntime, options: AgentToolsOptions = {}): AgentToolsSettings {
  const integer = (name: keyof AgentToolsOptions, value: unknown, fallback: number, minimum: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > TIMER_LIMIT_MS) {
      throw new BadArgumentError(name, `an integer between ${minimum} and ${TIMER_LIMIT_MS}`, value);
    }
    return value;
  };
  const fixedBatch = options.maxBatchSize === undefined ? undefined : integer('maxBatchSize', options.maxBatchSize, 1, 1);
  const minWaitMs = integer('minWaitMs', options.minWaitMs, 1_000, 0);
  const maxWaitMs = integer('maxWaitMs', options.maxWaitMs, 600_000, 0);
  if (maxWaitMs < minWaitMs) throw new BadArgumentError('maxWaitMs', `at least minWaitMs (${minWaitMs})`, maxWaitMs);
  const defaultWaitMs = integer('defaultWaitMs', options.defaultWaitMs, Math.min(Math.max(30_000, minWaitMs), maxWaitMs), 0);
  if (defaultWaitMs < minWaitMs || defaultWaitMs > maxWaitMs) {
    throw new BadArgumentError('defaultWaitMs', `between minWaitMs (${minWaitMs}) and maxWaitMs (${maxWaitMs})`, defaultWaitMs);
  }
  if (options.backgroundByDefault !== undefined && typeof options.backgroundByDefault !== 'boolean') {
    throw new BadArgumentError('backgroundByDefault', 'a boolean', options.backgroundByDefault);
  }
  if (options.backgroundDelivery !== undefined && (typeof options.backgroundDelivery !== 'string' || options.backgroundDelivery.trim() === '')) {
    throw new BadArgumentError('backgroundDelivery', 'a non-empty string', options.backgroundDelivery);
  }
  return {
    runtime,
    backgroundByDefault: options.backgroundByDefault ?? false,
    backgroundDelivery: options.backgroundDelivery ?? DEFAULT_BACKGROUND_DELIVERY,
    maxBatchSize: () => fixedBatch ?? runtimeBatchSize(runtime) ?? runtime.limits.maxConcurrentChildren,
    minWaitMs,
    maxWaitMs,
    defaultWaitMs,
  };
}

/** A batch size the runtime itself configures, if it has that setting. */
function runtimeBatchSize(runtime: AgentToolsRuntime): number | undefined {
  const options: object = runtime.options;
  if (!('maxBatchSize' in options)) return undefined;
  const value = options.maxBatchSize;
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : undefined;
}

/** The caller's depth as the runtime knows it; `fallback` when the handle is unknown to it. */
export function callerDepth(runtime: Pick<AgentToolsRuntime, 'get'>, handleId: string | null, fallback = 0): number {
  if (handleId === null) return 0;
  try {
    return runtime.get(handleId).depth;
  } catch {
    return fallback;
  }
}

/** Every agent type a task may name: the user's first (they may replace a built-in one), then the built-in ones. */
export function knownAgentTypes(runtime: AgentToolsRuntime): AgentType[] {
  return knownTypesFor(runtime.options.agentTypes);
}
