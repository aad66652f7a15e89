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

/** One row's cells before they are fitted to the width. */
interface Cells {
  indent: string;
  name: string;
  status: string;
  activity: string;
  tools: string;
  tokens: string;
  elapsed: string;
}

/** Column widths; 0 drops a column. `shortTokens` leaves out the ` tok` unit. */
interface Layout {
  name: number;
  status: number;
  activity: number;
  tools: number;
  tokens: number;
  shortTokens: boolean;
  elapsed: number;
}

const TOKEN_UNIT = ' tok';

/** Text cut to `width` columns, with `…` when cut. */
const cut = (text: string, width: number) => (text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text);

/** The widest cell of a column. */
const widest = (cells: readonly Cells[], pick: (cell: Cells) => string) => Math.max(0, ...cells.map((cell) => pick(cell).length));

/** Columns' width in all, a space between each, with the indent, icon and its space in the name column. */
function totalWidth(layout: Layout): number {
  const others = [layout.status, layout.activity, layout.tools, layout.tokens, layout.elapsed].filter((width) => width > 0);
  return layout.name + others.reduce((sum, width) => sum + 1 + width, 0);
}

/**
 * Widths that fit `width`: text columns at their usual widths, numbers at
 * least as wide as their longest value. When that is too wide, in order:
 * the activity narrows, names narrow, the tool count goes, the ` tok` unit
 * goes, the activity goes, names narrow further, the time goes. Numbers are
 * never cut: a column of them is shown whole or not at all.
 */
function fitLayout(cells: readonly Cells[], width: number, nameCap: number): Layout {
  const lead = Math.max(...cells.map((cell) => cell.indent.length)) + 2;
  const names = Math.min(lead + nameCap, Math.max(lead + 12, ...cells.map((cell) => cell.indent.length + 2 + cell.name.length)));
  const activity = widest(cells, (cell) => cell.activity);
  const layout: Layout = {
    name: Math.max(names, lead + 4),
    status: Math.max(11, widest(cells, (cell) => cell.status)),
    activity: activity === 0 ? 0 : 20,
    tools: Math.max(8, widest(cells, (cell) => cell.tools)),
    tokens: Math.max(11, widest(cells, (cell) => cell.tokens)),
    shortTokens: false,
    elapsed: Math.max(6, widest(cells, (cell) => cell.elapsed)),
  };
  const steps: Array<() => void> = [
    () => (layout.activity = Math.min(layout.activity, 10)),
    () => (layout.name = Math.min(layout.name, lead + 12)),
    () => (layout.tools = 0),
    () => {
      layout.shortTokens = true;
      layout.tokens = widest(cells, (cell) => cell.tokens.replace(TOKEN_UNIT, ''));
    },
    () => (layout.activity = 0),
    () => (layout.name = lead + 4),
    () => (layout.elapsed = 0),
  ];
  for (const step of steps) {
    if (totalWidth(layout) <= width) break;
    step();
  }
  // Whatever is left over goes to the names.
  layout.name = Math.min(Math.max(layout.name, names), layout.name + Math.max(0, width - totalWidth(layout)));
  return layout;
}

/**
 * The tree as terminal lines, each at most `width` columns when the tree is
 * not nested deeper than the width allows: columns are narrowed or left out
 * by priority (see `fitLayout`), and numbers are never cut.
 */
export function renderTree(tree: AgentTree, now: number, options: { style: Style; width: number; showIds: boolean }): string[] {
  const { style, width } = options;
  const rows = tree.ordered();
  const cells = rows.map((row, index): Cells => {
    const siblingsAfter = rows.slice(index + 1).some((other) => other.parentId === row.parentId && other.id !== ROOT_ID);
    return {
      indent: row.id === ROOT_ID ? '' : `${'   '.repeat(Math.max(0, row.depth - 1))}${siblingsAfter ? '├─ ' : '└─ '}`,
      name: row.id === ROOT_ID || !options.showIds ? row.label : `${row.label} (${row.id})`,
      status: statusText(row),
      activity: activity(row),
      tools: `${row.toolCount} tool${row.toolCount === 1 ? '' : 's'}`,
      tokens: row.tokens === null ? '—' : `${formatCount(row.tokens)}${TOKEN_UNIT}`,
      elapsed: row.startedAt === null ? '' : formatDuration((row.endedAt ?? now) - row.startedAt),
    };
  });
  const layout = fitLayout(cells, width, options.showIds ? 44 : 30);
  return rows.map((row, index) => {
    const cell = cells[index]!;
    const columns = [
      cut(cell.name, layout.name - cell.indent.length - 2).padEnd(layout.name - cell.indent.length - 2),
      cell.status.padEnd(layout.status),
      ...(layout.activity > 0 ? [cut(cell.activity, layout.activity).padEnd(layout.activity)] : []),
      ...(layout.tools > 0 ? [cell.tools.padStart(layout.tools)] : []),
      (layout.shortTokens ? cell.tokens.replace(TOKEN_UNIT, '') : cell.tokens).padStart(layout.tokens),
      ...(layout.elapsed > 0 ? [cell.elapsed.padStart(layout.elapsed)] : []),
    ];
    return `${cell.indent}${icon(row, now, style)} ${columns.join(' ').trimEnd()}`;
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
