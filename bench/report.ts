/** The rows every benchmark returns, and the Markdown table `npm run bench` prints. */
import { loadAverage } from './machine.js';

export interface Row {
  /** Benchmark id, for example `P1`. */
  id: string;
  /** What is measured. */
  measure: string;
  /** The headline number: a ratio or a latency. */
  value: string;
  /** The target, as text. */
  target: string;
  /** Whether the target is met; `null` when there is no target. */
  met: boolean | null;
  /** Absolute times and sample counts behind the headline. */
  absolute: string;
  /** The load average (1, 5, 15 min) when the measurement ended; filled in by `npm run bench`. */
  load?: string;
}

const verdict = (met: boolean | null): string => (met === null ? '—' : met ? 'met' : '**missed**');

/** The rows with the load average of now on those that have none. */
export const withLoad = (rows: readonly Row[]): Row[] => rows.map((row) => ({ ...row, load: row.load ?? loadAverage() }));

/** The rows as a Markdown table. */
export function formatTable(rows: readonly Row[]): string {
  const header = ['', 'measure', 'result', 'target', '', 'absolute', 'load'];
  const lines = [header, header.map(() => '---')];
  for (const row of rows) lines.push([row.id, row.measure, row.value, row.target, verdict(row.met), row.absolute, row.load ?? '']);
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** One line per goal: met and missed counts, for the end of the table. */
export function summarize(rows: readonly Row[]): string {
  const goals = rows.filter((row) => row.met !== null);
  const missed = goals.filter((row) => row.met === false);
  const list = missed.map((row) => `${row.id} ${row.measure.split(':')[0]}`).join('; ');
  return `${goals.length - missed.length} of ${goals.length} goals met${missed.length > 0 ? `; missed: ${list}` : ''}`;
}
