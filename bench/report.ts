/** The rows every benchmark returns, and the Markdown table `npm run bench` prints. */

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
}

const verdict = (met: boolean | null): string => (met === null ? '—' : met ? 'met' : '**missed**');

/** The rows as a Markdown table. */
export function formatTable(rows: readonly Row[]): string {
  const header = ['', 'measure', 'result', 'target', '', 'absolute'];
  const lines = [header, header.map(() => '---')];
  for (const row of rows) lines.push([row.id, row.measure, row.value, row.target, verdict(row.met), row.absolute]);
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
