/**
 * Text of the live tree: a line per agent for the terminal view, and a line
 * per notable event for plain output (pipes, CI, logs).
 */
import type { RuntimeEvent } from '../runtime/events.js';
import { ROOT_ID } from './tree.js';
import type { AgentRow, AgentTree } from './tree.js';

/** ANSI styling, or none. */
export interface Style {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export const COLOR_STYLE: Style = {
  green: ansi(32, 39),
  red: ansi(31, 39),
  yellow: ansi(33, 39),
  cyan: ansi(36, 39),
  dim: ansi(2, 22),
  bold: ansi(1, 22),
};

const identity = (text: string) => text;
export const PLAIN_STYLE: Style = { green: identity, red: identity, yellow: identity, cyan: identity, dim: identity, bold: identity };

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

export const formatCount = (count: number) => count.toLocaleString('en-US');

function statusText(row: AgentRow): string {
  if (row.status === 'running' || row.outcome === null) return row.status;
  // A run that timed out leaves the handle in `error`: the outcome says more.
  return row.outcome === 'completed' ? row.status : row.outcome;
}

function activity(row: AgentRow): string {
  if (row.status !== 'running') return '';
  if (row.waitingForSlot) return 'waiting for a slot';
  if (row.tool) return `▸ ${row.tool}`;
  return row.writing ? 'writing' : 'thinking';
}

function icon(row: AgentRow, now: number, style: Style): string {
  switch (statusText(row)) {
    case 'running':
      return style.cyan(SPINNER[Math.floor(now / 80) % SPINNER.length]!);
    case 'completed':
      return style.green('✔');
    case 'error':
    case 'timeout':
      return style.red('✖');
    case 'interrupted':
    case 'cancelled':
      return style.yellow('■');
    default:
      return style.dim('○');
  }
}

/** The tree as terminal lines, each at most `width` columns. */
export function renderTree(tree: AgentTree, now: number, options: { style: Style; width: number; showIds: boolean }): string[] {
  const { style, width } = options;
  const rows = tree.ordered();
  return rows.map((row, index) => {
    const siblingsAfter = rows.slice(index + 1).some((other) => other.parentId === row.parentId && other.id !== ROOT_ID);
    const indent = row.id === ROOT_ID ? '' : `${'   '.repeat(Math.max(0, row.depth - 1))}${siblingsAfter ? '├─ ' : '└─ '}`;
    const elapsed = row.startedAt === null ? '' : formatDuration((row.endedAt ?? now) - row.startedAt);
    const tokens = row.tokens === null ? '—' : `${formatCount(row.tokens)} tok`;
    const tools = `${row.toolCount} tool${row.toolCount === 1 ? '' : 's'}`;
    const name = row.id === ROOT_ID || !options.showIds ? row.label : `${row.label} (${row.id})`;
    const columns = [
      name.padEnd(Math.max(0, (options.showIds ? 44 : 30) - indent.length)),
      statusText(row).padEnd(11),
      activity(row).padEnd(20),
      tools.padStart(8),
      tokens.padStart(11),
      elapsed.padStart(6),
    ].join(' ');
    const room = Math.max(10, width - indent.length - 2);
    const text = columns.length > room ? `${columns.slice(0, room - 1)}…` : columns.trimEnd();
    return `${indent}${icon(row, now, style)} ${text}`;
  });
}

/** One line for a notable event, or `null` for events the plain output leaves out. */
export function describeEvent(event: RuntimeEvent, tree: AgentTree, elapsedMs: number): string | null {
  const stamp = `[${(elapsedMs / 1000).toFixed(2).padStart(6)}s]`;
  const line = (depth: number, text: string) => `${stamp} ${'  '.repeat(depth)}${text}`;
  switch (event.type) {
    case 'handle-spawn':
      return line(event.depth, `+ ${event.handleId} spawned by ${event.parentId ?? 'the parent agent'}: ${tree.get(event.handleId)?.label ?? ''}`);
    case 'run-start':
      return line(event.depth, `${event.handleId} running`);
    case 'tool-call-start':
      return line(event.depth, `${event.handleId} ▸ ${event.tool}`);
    case 'tool-call-end':
      return line(event.depth, `${event.handleId} ${event.ok ? '✓' : '✗'} ${event.tool} (${formatCount(event.resultBytes)} bytes${event.ok ? '' : ', failed'})`);
    case 'run-end': {
      const row = tree.get(event.handleId);
      const tokens = event.stats.usage.inputTokens + event.stats.usage.outputTokens;
      return line(
        event.depth,
        `${event.handleId} ${event.outcome}: ${row?.toolCount ?? event.stats.toolTrace.length} tools, ` +
          `${formatCount(tokens)} tokens, ${formatDuration(event.durationMs)}`,
      );
    }
    case 'delegation-end':
      return event.parentId === null
        ? line(0, `parent agent: delegation ${event.delegationId} ended with ${event.results.length} results`)
        : null;
    default:
      return null;
  }
}
