/**
 * The one definition of a delegated task: its fields, their bounds and how an
 * agent type is known, for `runtime.delegate` and the `delegate_task` tool
 * alike. The tool spells some fields in snake_case for the model; the table
 * of those names is here, the conversion happens only at the tool.
 */
import { MAX_BUDGET_MS } from '../budget-errors.js';
import { z } from 'zod';
import { BUILT_IN_AGENT_TYPES } from './agent-types.js';
import type { AgentType } from './agent-types.js';
import {
  TEXT_LIMIT,
  agentTypeSchema,
  contextModeSchema,
  isolationSchema,
  modelSchema,
  providerSchema,
  roleSchema,
  textSchema,
  toolsetsSchema,
  workingDirSchema,
} from '../toolkit/tool-schemas.js';

/** The fields of a task, under their TypeScript names. */
export const taskShape = () => ({
  /** What the subagent must achieve. */
  goal: textSchema(),
  /** Background the subagent needs: it sees nothing of the parent's conversation. */
  context: z.string().max(TEXT_LIMIT, `expected at most ${TEXT_LIMIT} characters`).optional(),
  /** Toolsets to give it, intersected with the parent's. @default the parent's toolsets */
  toolsets: toolsetsSchema().optional(),
  /** @default 'leaf' */
  role: roleSchema().optional(),
  /** @default 'general' */
  agentType: agentTypeSchema().optional(),
  /** Model override for this subagent. @default the provider's model, else the runtime's */
  model: modelSchema().optional(),
  /** The named provider its model calls go to. @default the agent type's, else the runtime's default provider */
  provider: providerSchema().optional(),
  /** Its working directory: relative to the parent's, or absolute, and inside the parent's. @default the agent type's, else the parent's */
  cwd: workingDirSchema().optional(),
  /** `'worktree'`: its runs work in a git worktree of their own. @default the agent type's, else 'none' */
  isolation: isolationSchema().optional(),
  /** What it starts with: `'fresh'`, `'fork'` (the parent's conversation so far) or `{ lastMessages: n }`. @default 'fresh' */
  contextMode: contextModeSchema().optional(),
});

/** A budget from code: positive finite numbers (the model's tools take none). */
const budgetSchema = () =>
  z
    .object({ tokens: z.number().positive().finite().optional(), costUsd: z.number().positive().finite().optional(), timeMs: z.number().positive().max(MAX_BUDGET_MS).optional() })
    .strict();

const buildDelegateTaskSchema = () =>
  z
    .object({
      ...taskShape(),
      /** What the child (with everything it spawns) may spend. @default the agent type's, else an even share of half the parent's remainder */
      budget: budgetSchema().optional(),
    })
    .strict();

let delegateTask: ReturnType<typeof buildDelegateTaskSchema> | undefined;

/** One task, as `runtime.delegate` checks it (unknown fields refused); built on first use, not when the package is imported. */
export const delegateTaskSchema = () => (delegateTask ??= buildDelegateTaskSchema());

/** A task field, under its TypeScript name. */
export type TaskField = keyof ReturnType<typeof taskShape>;

/** The task fields a tool spells differently (snake_case for the model), by TypeScript name; the others keep theirs. */
const TOOL_NAMES: ReadonlyMap<string, string> = new Map<TaskField, string>([
  ['agentType', 'agent_type'],
  ['cwd', 'working_dir'],
  ['contextMode', 'context_mode'],
]);
const FIELD_NAMES: ReadonlyMap<string, string> = new Map([...TOOL_NAMES].map(([field, toolName]) => [toolName, field]));

/** The tool's name of a task field (`agentType` → `agent_type`); any other name as it is. */
export const toolFieldName = (field: string): string => TOOL_NAMES.get(field) ?? field;

/** The TypeScript name of a task field the tool names (`agent_type` → `agentType`); any other name as it is. */
export const fieldNameOf = (toolName: string): string => FIELD_NAMES.get(toolName) ?? toolName;

/** Whether the tool spells this TypeScript field name differently, so that a tool call must not use it. */
export const isRenamedField = (field: string): boolean => TOOL_NAMES.has(field);

/**
 * Every agent type a task may name: the user's first (they may replace a
 * built-in one), then the built-in ones.
 */
export function knownAgentTypes(custom: readonly AgentType[]): AgentType[] {
  const names = new Set(custom.map((type) => type.name));
  return [...custom, ...Object.values(BUILT_IN_AGENT_TYPES).filter((type) => !names.has(type.name))];
}
