/**
 * The end of the demo's output: each subagent's result, the parent's answer,
 * and the tokens spent.
 */
import type { SubagentsRuntime } from '../agent/create-runtime.js';
import type { Usage } from '../types.js';
import { formatCount, formatDuration } from './render.js';
import type { Style } from './render.js';
import { plural } from './survey-parsing.js';
import type { AgentTree } from './tree.js';

const indentBlock = (text: string, prefix: string) =>
  text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');

const tokensOf = (usage: Usage) =>
  `${formatCount(usage.inputTokens + usage.outputTokens)} (input ${formatCount(usage.inputTokens)}, output ${formatCount(usage.outputTokens)})`;

/** One block per subagent, in spawn order: status, tools, tokens, time, and what it returned. */
export function childResults(tree: AgentTree, runtime: SubagentsRuntime, style: Style): string[] {
  const rows = tree.children();
  if (rows.length === 0) return [style.bold('Subagents'), '  (none was spawned)'];
  const lines = [style.bold('Subagent results')];
  rows.forEach((row, index) => {
    const handle = runtime.get(row.id);
    const outcome = row.outcome ?? handle.status;
    const elapsed = row.startedAt === null ? 'never started' : formatDuration((row.endedAt ?? row.startedAt) - row.startedAt);
    lines.push(
      `${index + 1}. ${row.label} (${row.id}) — ${outcome} · ${plural(row.toolCount, 'tool call', 'tool calls')} · ` +
        `${formatCount(handle.usage.inputTokens + handle.usage.outputTokens)} tokens · ${elapsed}`,
    );
    const text =
      outcome === 'completed'
        ? handle.lastOutput || '(empty answer)'
        : (handle.error ?? (outcome === 'interrupted' || outcome === 'cancelled' ? 'Interrupted before it finished.' : 'No result.'));
    lines.push(indentBlock(text, '   '));
  });
  return lines;
}

/** The parent's answer and the token totals. */
export function answerAndTotals(
  answer: { text: string; usage: Usage } | null,
  runtime: SubagentsRuntime,
  style: Style,
): string[] {
  const subagents = runtime.usage().total;
  const lines: string[] = [];
  if (answer) lines.push(style.bold("Parent agent's answer"), indentBlock(answer.text.trim() || '(no answer)', '  '));
  const all: Usage = {
    inputTokens: subagents.inputTokens + (answer?.usage.inputTokens ?? 0),
    outputTokens: subagents.outputTokens + (answer?.usage.outputTokens ?? 0),
  };
  lines.push(
    ...(answer ? [''] : []),
    style.bold('Tokens'),
    `  subagents:    ${tokensOf(subagents)}`,
    answer ? `  parent agent: ${tokensOf(answer.usage)}` : '  parent agent: not reported (its run did not finish)',
    `  total:        ${tokensOf(all)}`,
  );
  return lines;
}
