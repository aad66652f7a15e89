/** `spawn_agent`: starts a subagent the caller keeps and steers through its handle. */
import { z } from 'zod';
import { knownAgentTypes } from './agent-tool-settings.js';
import { toolFieldName } from '../delegation/task-schema.js';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from '../toolkit/define-tool.js';
import { delegationFacts, nestingClause } from './delegate-task-description.js';
import { CONTEXT_MODE_TEXT, ISOLATION_TEXT, WORKING_DIR_TEXT, providerEnum } from './delegate-task.js';
import { defineDynamicTool } from '../toolkit/dynamic-tool.js';
import { AgentToolError, toolErrorOf } from '../toolkit/tool-error.js';
import { handleView } from '../toolkit/tool-result.js';
import {
  agentTypeSchema,
  contextModeSchema,
  isolationSchema,
  modelSchema,
  nicknameSchema,
  providerSchema,
  textSchema,
  workingDirSchema,
} from '../toolkit/tool-schemas.js';
import { DELEGATION_TOOLSET } from '../toolkit/toolsets.js';
import { BadArgumentError } from '../errors.js';
import { callKey } from './call-key.js';
import type { HandleSnapshot } from '../types.js';

const baseSchema = () =>
  z.object({
    message: textSchema().optional().describe('Its first input; it starts on it at once. Leave out to spawn it idle.'),
    agent_type: agentTypeSchema().optional(),
    nickname: nicknameSchema().optional().describe('A name that becomes its handle id. Default: a generated id.'),
    model: modelSchema().optional().describe("Model for this subagent. Default: its provider's model, else the runtime's."),
    working_dir: workingDirSchema().optional().describe(WORKING_DIR_TEXT),
    isolation: isolationSchema().optional().describe(ISOLATION_TEXT),
    context_mode: contextModeSchema().optional().describe(CONTEXT_MODE_TEXT),
  });

/** What the tool parses: a provider is checked against the configured names by the runtime. */
const parserSchema = () => baseSchema().extend({ provider: providerSchema().optional() });

/** What the model sees: `provider` as an enum of the configured names, left out when there are none (a custom run). */
const advertisedSchema = (providers: readonly string[]) => (providers.length > 0 ? baseSchema().extend({ provider: providerEnum(providers) }) : baseSchema());

/**
 * Creates `spawn_agent`.
 *
 * @example
 * ```ts
 * const spawnAgent = createSpawnAgentTool(resolveAgentToolsSettings(runtime));
 * ```
 */
export function createSpawnAgentTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parserSchema>, unknown> {
  const { runtime } = settings;
  return defineDynamicTool({
    name: 'spawn_agent',
    toolset: DELEGATION_TOOLSET,
    parameters: parserSchema().superRefine((args, context) => {
      const known = knownAgentTypes(runtime).map((type) => type.name);
      if (args.agent_type !== undefined && !known.includes(args.agent_type)) {
        context.addIssue({
          code: 'custom',
          path: ['agent_type'],
          input: args.agent_type,
          message: `expected one of ${known.map((name) => `'${name}'`).join(', ')}`,
        });
      }
      const providers = runtime.options.providers;
      if (args.provider !== undefined && providers.length > 0 && !providers.includes(args.provider)) {
        context.addIssue({ code: 'custom', path: ['provider'], input: args.provider, message: `expected one of ${providers.map((name) => `'${name}'`).join(', ')}` });
      }
    }),
    advertised: advertisedSchema(runtime.options.providers),
    describe: (caller) => {
      const facts = delegationFacts(settings, caller);
      const types = facts.agentTypes.map((type) => `'${type.name}': ${type.description}`).join(' ');
      return {
        description:
          'Start a subagent you keep: a handle with its own conversation that stays between inputs. Give it work with ' +
          'send_input, collect results with wait_agent or agent_status, stop it with interrupt_agent, close_agent. ' +
          `At most ${facts.maxConcurrentChildren} of your subagents run at once; others wait, in order, for a slot. ` +
          `${nestingClause(facts)} For one-off tasks whose summary is all you need, delegate_task is simpler.`,
        properties: [{ path: ['agent_type'], description: `Kind of subagent (default 'general'). ${types}` }],
      };
    },
    execute: (args, context) => {
      const caller = context.handleId;
      const idempotencyKey = callKey(context);
      const nameTaken = () =>
        new AgentToolError('name_taken', 'nickname', `Expected \`nickname\` to be a name no subagent uses, got \`${args.nickname}\`; pick another or leave it out.`);
      // A call run again (same id) is the runtime's to answer: it returns the handle its first run spawned under that name.
      if (idempotencyKey === undefined && args.nickname !== undefined && runtime.list().some((handle) => handle.id === args.nickname)) throw nameTaken();
      let handle: HandleSnapshot;
      try {
        // The runtime refuses a spawn past the depth limit (or while paused): the tool only words it for the model.
        handle = runtime.spawn({
          parentId: caller,
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
          ...(args.message !== undefined ? { message: args.message } : {}),
          ...(args.nickname !== undefined ? { name: args.nickname } : {}),
          ...(args.agent_type !== undefined ? { agentType: args.agent_type } : {}),
          ...(args.model !== undefined ? { model: args.model } : {}),
          ...(args.provider !== undefined ? { provider: args.provider } : {}),
          ...(args.working_dir !== undefined ? { cwd: args.working_dir } : {}),
          ...(args.isolation !== undefined ? { isolation: args.isolation } : {}),
          ...(args.context_mode !== undefined ? { contextMode: args.context_mode } : {}),
          ...(args.context_mode !== undefined && context.conversation ? { parentConversation: context.conversation() } : {}),
        });
      } catch (error) {
        if (error instanceof BadArgumentError && error.argument === 'name' && args.nickname !== undefined) throw nameTaken();
        throw toolErrorOf(error, toolFieldName);
      }
      return {
        handle: handleView(handle),
        note:
          args.message === undefined
            ? `Spawned \`${handle.id}\`, idle: give it work with send_input.`
            : handle.waitingForSlot
              ? `Spawned \`${handle.id}\`; its message waits for a free slot. Use wait_agent to get its result.`
              : `Spawned \`${handle.id}\`, working on your message. Use wait_agent to get its result.`,
      };
    },
  });
}
