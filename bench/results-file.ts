/**
 * Writes a run's table into bench/RESULTS.md, between its two markers, with
 * the machine, the date and the load average: `npm run bench -- --write`
 * (ids may follow, but a partial run writes only the rows it ran).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
const START = '<!-- results:start (written by `npm run bench -- --write`; edits inside are overwritten) -->';
const END = '<!-- results:end -->';

/** `text` with what lies between the markers replaced by `generated`. */
export function replaceResults(text: string, generated: string): string {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start === -1 || end === -1 || end < start) throw new Error(`bench: ${RESULTS_FILE} lacks the markers\n${START}\n${END}`);
  return `${text.slice(0, start + START.length)}\n${generated}\n${text.slice(end)}`;
}

export function writeResults(generated: string): void {
  writeFileSync(RESULTS_FILE, replaceResults(readFileSync(RESULTS_FILE, 'utf8'), generated));
}
