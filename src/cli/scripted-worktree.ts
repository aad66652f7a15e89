/**
 * The scripted model of `subagents demo --worktree`: the parent delegates one
 * edit to a subagent in a git worktree of its own; the subagent reads a file,
 * edits it and writes a new one with the real write tools, then says what it
 * changed; the parent reports what the runtime kept.
 */
import { describeConversation, reply } from '../testing/index.js';
import type { MessageReply, Reply, ScriptFunction } from '../testing/index.js';
import { firstSentence } from './survey-parsing.js';

/** The file the subagent edits, and what it replaces in it. */
export const GREETING_FILE = 'src/greeting.txt';
export const GREETING_TEXT = 'Hello, world!\n';

/** What the parent is asked. */
export const WORKTREE_PROMPT =
  'Delegate this change to one subagent working in a git worktree of its own (isolation "worktree"), so my tree stays as it is: ' +
  `in ${GREETING_FILE}, greet "worktree" instead of "world", and add CHANGES.md with one line saying so. ` +
  'Then tell me what was kept and where.';

/** The task the scripted parent delegates. */
export const WORKTREE_GOAL =
  `In ${GREETING_FILE}, replace "world" with "worktree"; then write CHANGES.md with one line describing the change. Say what you changed.`;

/** The scripted model's replies for the worktree demo. */
export function worktreeScript(delayMs: number): ScriptFunction {
  const timing = (chunkSize: number): Pick<MessageReply, 'latencyMs' | 'chunkDelayMs' | 'chunkSize'> => ({
    latencyMs: delayMs * 3,
    chunkDelayMs: delayMs,
    chunkSize,
  });
  return (request): Reply => {
    const turn = describeConversation(request);
    if (turn.systemText.startsWith('You are a subagent')) {
      const failed = turn.toolResults.find((result) => result.content.startsWith('Error:') || result.content.includes('"ok":false'));
      if (failed) return reply.text(`I could not finish: ${firstSentence(failed.content, 300)}`, timing(24));
      if (turn.assistantTurns === 0) return reply.toolCall('read_file', { path: GREETING_FILE }, timing(48));
      if (turn.assistantTurns === 1) {
        return reply.toolCalls(
          [
            { name: 'edit_file', arguments: { path: GREETING_FILE, old_text: 'world', new_text: 'worktree' } },
            { name: 'write_file', arguments: { path: 'CHANGES.md', content: `- ${GREETING_FILE} greets "worktree" instead of "world".\n` } },
          ],
          timing(64),
        );
      }
      return reply.text(`${turn.toolResults.map((result) => firstSentence(result.content, 200)).join(' ')} Both changes are in my worktree.`, timing(24));
    }
    if (!turn.toolNames.includes('delegate_task')) return reply.text('I cannot delegate: no `delegate_task` tool was offered to me.', timing(24));
    if (turn.lastRole !== 'tool') {
      return reply.toolCall(
        'delegate_task',
        { goal: WORKTREE_GOAL, isolation: 'worktree', toolsets: ['read', 'write'] },
        { ...timing(96), content: 'I will give the edit to a subagent in a worktree of its own.' },
      );
    }
    return reply.text(parentAnswer(turn.toolResults[0]?.content ?? ''), timing(32));
  };
}

interface WorktreeResult {
  status?: string;
  worktree?: { state?: string; path?: string; branch?: string; diffStat?: string };
}

/** The parent's answer, from the `delegate_task` result it got. */
function parentAnswer(toolResult: string): string {
  let result: WorktreeResult | undefined;
  try {
    result = (JSON.parse(toolResult) as { results?: WorktreeResult[] }).results?.[0];
  } catch {
    result = undefined;
  }
  if (!result) return `The delegation did not return a result I can read: ${firstSentence(toolResult, 300)}`;
  const worktree = result.worktree;
  if (!worktree) return `The subagent ended ${result.status ?? 'without a status'}, and no worktree was made.`;
  if (worktree.state !== 'kept') return `The subagent ended ${result.status ?? 'without a status'} and changed nothing: its worktree was removed.`;
  const files = (worktree.diffStat ?? '').split('\n').slice(0, -1).map((line) => line.split('|')[0]!.trim()).filter(Boolean);
  return (
    `The subagent ended ${result.status ?? 'without a status'}. Its changes (${files.join(', ') || 'see the diff stat'}) are kept in ` +
    `${worktree.path} on branch ${worktree.branch}; my tree is unchanged. Merge the branch to take them.`
  );
}
