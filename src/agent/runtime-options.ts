import path from 'node:path';
import { checkBudget } from '../runtime/budgets.js';
import { BadArgumentError } from '../errors.js';
import { realDirectory } from '../delegation/working-directory.js';
import { defineAgentType } from '../delegation/agent-types.js';
import type { AgentType } from '../delegation/agent-types.js';
import type { AnyTool } from '../toolkit/define-tool.js';
import { DEFAULT_BLOCKED_TOOLS } from '../toolkit/toolsets.js';
import type { RunLimits } from '../types.js';
import { MODEL_RUN_KEYS, buildModelRun, isModelRun } from '../runtime/model-run.js';
import type { ModelRun } from '../runtime/model-run.js';
import type { ResolvedOptions } from '../delegation/delegating-runtime.js';
import type { AgentRun, RuntimeOptions } from './runtime-api.js';
import { isRunExecutor } from '../runtime/executor.js';
import { optionalStringArray, rejectUnknownKeys, validateCoreOptions } from '../runtime/validate.js';

/** Every option `createRuntime` takes: its own, and the model options that make a `modelRun` when no `run` is given. */
const RUNTIME_KEYS: readonly string[] = [
  'run', 'tools', 'blockedTools', 'agentTypes', 'maxIterations', 'maxBackground', 'maxBatchSize', 'prices', 'cwd', 'worktreeDir', 'maxConversationTokens',
  'maxSpawnDepth', 'maxConcurrentChildren', 'maxConcurrentRuns', 'inspect', 'inspection', 'onSubagentStart', 'onSubagentStop',
  'onListenerError', 'logger', 'childTimeoutMs', 'staleTimeoutMs', 'maxRunTokens', 'budget', 'secrets', 'telemetry', 'store', 'restorePolicy', 'executor', ...MODEL_RUN_KEYS,
  'onApproval', 'approvalTimeoutMs', 'progressIntervalMs',
];

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new BadArgumentError(name, 'an integer >= 1', value);
  return value;
}

/** createRuntime's options, checked: what runs, the run limits, and the delegation settings. */
export interface CheckedOptions {
  /** A custom run function, or `null` with a model run. */
  custom: AgentRun | null;
  strategy: ModelRun | null;
  runLimits: RunLimits;
  resolved: ResolvedOptions;
}

/** Checks every option of createRuntime; throws a typed error naming the first bad one. */
export function checkRuntimeOptions(options: RuntimeOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new BadArgumentError('options', 'an object with `run`, or `client` (or `providers`) and `model`', options);
  }
  rejectUnknownKeys(options, RUNTIME_KEYS);
  if (options.tools !== undefined && !Array.isArray(options.tools)) throw new BadArgumentError('tools', 'an array of tools from defineTool()', options.tools);
  (options.tools ?? []).forEach((tool: unknown, index) => {
    const candidate = tool as Partial<AnyTool> | null;
    if (typeof candidate !== 'object' || candidate === null || typeof candidate.name !== 'string' || typeof candidate.execute !== 'function' || typeof candidate.jsonSchema !== 'object') {
      throw new BadArgumentError(`tools[${index}]`, 'a tool made with defineTool()', tool);
    }
  });
  if (options.agentTypes !== undefined && !Array.isArray(options.agentTypes)) {
    throw new BadArgumentError('agentTypes', 'an array of agent types from defineAgentType()', options.agentTypes);
  }
  (options.agentTypes ?? []).forEach((agentType: unknown, index) => {
    if (typeof agentType !== 'object' || agentType === null) throw new BadArgumentError(`agentTypes[${index}]`, 'an agent type from defineAgentType()', agentType);
    defineAgentType(agentType as AgentType);
  });
  optionalStringArray(options.blockedTools, 'blockedTools');
  checkBudget(options.budget, 'budget');
  if (options.prices !== undefined && (typeof options.prices !== 'object' || options.prices === null || Array.isArray(options.prices))) {
    throw new BadArgumentError('prices', 'a plain object', options.prices);
  }
  for (const [model, price] of Object.entries(options.prices ?? {})) {
    const valid = typeof price === 'object' && price !== null && Number.isFinite(price.inputPerMillion) && Number.isFinite(price.outputPerMillion);
    if (!valid) throw new BadArgumentError(`prices.${model}`, 'an object { inputPerMillion, outputPerMillion } of finite numbers', price);
  }
  checkTelemetry(options.telemetry);
  if (options.executor !== undefined) {
    if (!isRunExecutor(options.executor)) throw new BadArgumentError('executor', 'an executor such as bullmqExecutor({ connection, queue })', options.executor);
    if (typeof options.run === 'function') throw new BadArgumentError('executor', 'left out when `run` is a function (an executor runs the model loop, and a function cannot be sent)', options.executor);
  }
  if (options.worktreeDir !== undefined && (typeof options.worktreeDir !== 'string' || options.worktreeDir.trim() === '')) {
    throw new BadArgumentError('worktreeDir', 'a directory path (absolute, or relative to `cwd`)', options.worktreeDir);
  }
  const runLimits = validateCoreOptions(options);
  const { custom, strategy } = checkRun(options);
  const cwd = options.cwd === undefined ? realDirectory('cwd', process.cwd()) : realDirectory('cwd', options.cwd);
  return {
    custom,
    strategy,
    runLimits,
    resolved: {
      model: strategy?.model ?? options.model ?? null,
      maxIterations: positiveInteger('maxIterations', options.maxIterations, 50),
      maxBackground: positiveInteger('maxBackground', options.maxBackground, 3),
      maxBatchSize: options.maxBatchSize === undefined ? undefined : positiveInteger('maxBatchSize', options.maxBatchSize, 1),
      blockedTools: options.blockedTools ?? DEFAULT_BLOCKED_TOOLS,
      agentTypes: options.agentTypes ?? [],
      cwd,
      worktreeDir: options.worktreeDir === undefined ? null : path.resolve(cwd, options.worktreeDir),
      maxConversationTokens: options.maxConversationTokens === undefined ? null : positiveInteger('maxConversationTokens', options.maxConversationTokens, 1),
      providers: strategy ? [strategy.defaultProvider, ...[...strategy.providers.keys()].filter((name) => name !== strategy.defaultProvider)] : [],
    },
  };
}

/** What runs: `run` (a function or a model run), or a model run made of the model options given beside it. */
function checkRun(options: RuntimeOptions): { custom: AgentRun | null; strategy: ModelRun | null } {
  // `model` beside a custom run only names the model its handles report.
  const given = MODEL_RUN_KEYS.filter((key) => options[key] !== undefined && !(key === 'model' && typeof options.run === 'function'));
  if (options.run !== undefined) {
    if (typeof options.run !== 'function' && !isModelRun(options.run)) {
      throw new BadArgumentError('run', 'a function (input, context) => Promise<output>, or modelRun({ … })', options.run);
    }
    if (given.length > 0) {
      throw new BadArgumentError(given[0]!, `left out when \`run\` is given (model options go in modelRun({ … }))`, options[given[0]!]);
    }
    if (options.model !== undefined && (typeof options.model !== 'string' || options.model.trim() === '')) throw new BadArgumentError('model', 'a model name string', options.model);
    return typeof options.run === 'function' ? { custom: options.run, strategy: null } : { custom: null, strategy: options.run };
  }
  if (options.client === undefined && options.providers === undefined) {
    throw new BadArgumentError('client', 'an OpenAI client, `providers`, or a `run`', options.client);
  }
  return { custom: null, strategy: buildModelRun(options) };
}

/** `telemetry`, when given, is a tracer made by `openTelemetry()` (or anything with its hooks). */
function checkTelemetry(telemetry: unknown): void {
  if (telemetry === undefined) return;
  const hooks = ['handleSpawned', 'startRun', 'handleRunEnded', 'modelCall', 'toolCall'] as const;
  const valid = typeof telemetry === 'object' && telemetry !== null && hooks.every((hook) => typeof (telemetry as Record<string, unknown>)[hook] === 'function');
  if (!valid) throw new BadArgumentError('telemetry', "a tracer from openTelemetry() (import { openTelemetry } from 'subagents/opentelemetry')", telemetry);
}
