/** `send_input`: gives one of the caller's subagents more work, queued or interrupting. */
import { z } from 'zod';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from '../toolkit/define-tool.js';
import { defineDynamicTool } from '../toolkit/dynamic-tool.js';
import { resolveTarget } from './targets.js';
import { AgentToolError } from '../toolkit/tool-error.js';
import { handleView } from '../toolkit/tool-result.js';
import { handleIdSchema, textSchema } from '../toolkit/tool-schemas.js';
import { DELEGATION_TOOLSET } from '../toolkit/toolsets.js';

/** How an input was taken. */
export type Delivery = 'started' | 'queued' | 'interrupted';

const parametersSchema = () =>
  z.object({
    target: handleIdSchema().optional().describe('Handle id of your subagent. Default: your most recently updated open subagent.'),
    message: textSchema().describe('The input: it sees only this and its own earlier conversation.'),
    interrupt: z
      .boolean()
      .optional()
      .describe('Abort its current run now and run this next, ahead of its queue. Default: false (queue behind the current run).'),
  });

/**
 * Creates `send_input`.
 *
 * @example
 * ```ts
 * const sendInput = createSendInputTool(resolveAgentToolsSettings(runtime));
 * ```
 */
export function createSendInputTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parametersSchema>, unknown> {
  const { runtime } = settings;
  return defineDynamicTool({
    name: 'send_input',
    toolset: DELEGATION_TOOLSET,
    parameters: parametersSchema(),
    describe: () => ({
      description:
        'Send an input to one of your subagents. Idle or finished: it starts at once. Running: the input waits in its ' +
        'queue (first in, first out), unless interrupt is true, which aborts the current run and runs this input next. ' +
        'A closed subagent takes no input until resume_agent.',
    }),
    execute: (args, context) => {
      const before = resolveTarget(runtime, context.handleId, args.target);
      if (before.closed) {
        throw new AgentToolError('handle_closed', 'target', `Expected \`target\` to be an open subagent, got \`${before.id}\`, which is closed and takes no input; call resume_agent on it first.`);
      }
      const interrupt = args.interrupt ?? false;
      const after = runtime.send(before.id, args.message, { interrupt });
      const delivery: Delivery = before.status !== 'running' ? 'started' : interrupt ? 'interrupted' : 'queued';
      const notes: Record<Delivery, string> = {
        started: after.waitingForSlot ? 'It waits for a free slot, then starts on it.' : 'It started on it.',
        queued: `It is busy: the input is queued (${after.queueSize} waiting) and runs when the current run ends.`,
        interrupted: 'Its current run was aborted; this input runs next, ahead of its queue.',
      };
      return { delivery, handle: handleView(after), note: notes[delivery] };
    },
  });
}
