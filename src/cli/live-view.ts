/**
 * Shows the agent tree while a run goes on: redrawn in place with ANSI cursor
 * movement on a terminal, or one line per notable event elsewhere.
 */
import type { RuntimeEvent } from '../runtime/events.js';
import { describeEvent, PLAIN_STYLE, renderTree } from './render.js';
import type { Style } from './render.js';
import type { AgentTree } from './tree.js';

/** Where the view writes: a stream such as `process.stdout`. */
export interface TextOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface LiveViewOptions {
  /** `tty` redraws the tree in place; `plain` prints a line per event. */
  mode: 'tty' | 'plain';
  style: Style;
  /** `performance.now()` when the run started: plain lines show the time since. */
  startedAt: number;
  /** @default 100 */
  redrawMs?: number;
  now?: () => number;
}

const CURSOR_HIDE = '\u001b[?25l';
const CURSOR_SHOW = '\u001b[?25h';
const CLEAR_LINE = '\u001b[2K';
const CLEAR_BELOW = '\u001b[J';
const linesUp = (count: number) => `\u001b[${count}F`;

export class LiveView {
  #drawn = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #stopped = false;
  #paused = false;
  readonly #now: () => number;

  constructor(
    private readonly out: TextOutput,
    private readonly tree: AgentTree,
    private readonly options: LiveViewOptions,
  ) {
    this.#now = options.now ?? (() => performance.now());
  }

  start(): void {
    if (this.options.mode !== 'tty') return;
    this.out.write(CURSOR_HIDE);
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), this.options.redrawMs ?? 100);
    // The view never keeps the process alive by itself.
    this.#timer.unref();
  }

  /** Feeds a runtime event (after the tree has applied it). */
  event(event: RuntimeEvent): void {
    if (this.#stopped || this.options.mode !== 'plain') return;
    const line = describeEvent(event, this.tree, this.#now() - this.options.startedAt);
    if (line !== null) this.out.write(`${line}\n`);
  }

  /**
   * Stops redrawing (`true`) while something else uses the terminal (a
   * question), then draws the tree anew below what was written (`false`).
   */
  pause(paused: boolean): void {
    if (this.options.mode !== 'tty' || this.#stopped || paused === this.#paused) return;
    this.#paused = paused;
    if (paused) {
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = null;
      // What is on screen below stays: the next drawing starts under it.
      this.#drawn = 0;
      this.out.write(CURSOR_SHOW);
      return;
    }
    this.out.write(CURSOR_HIDE);
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), this.options.redrawMs ?? 100);
    this.#timer.unref();
  }

  /** Prints a line above the tree. */
  note(text: string): void {
    if (this.options.mode === 'tty' && !this.#stopped) {
      this.out.write(`${this.#drawn > 0 ? linesUp(this.#drawn) : ''}${CLEAR_BELOW}${text}\n`);
      this.#drawn = 0;
      this.#draw();
    } else {
      this.out.write(`${text}\n`);
    }
  }

  /** Draws the final tree and gives the terminal back. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#paused = false;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.options.mode === 'tty') {
      this.#draw();
      this.out.write(CURSOR_SHOW);
    } else {
      const lines = renderTree(this.tree, this.#now(), { style: PLAIN_STYLE, width: 200, showIds: true });
      this.out.write(`${lines.join('\n')}\n`);
    }
    this.#stopped = true;
  }

  #draw(): void {
    if (this.#stopped || this.#paused) return;
    // Some terminals (and pseudo-terminals) report no width: assume a usual one.
    const width = this.out.columns !== undefined && this.out.columns >= 40 ? this.out.columns : 100;
    const lines = renderTree(this.tree, this.#now(), { style: this.options.style, width, showIds: false });
    let output = this.#drawn > 0 ? linesUp(this.#drawn) : '';
    for (const line of lines) output += `${CLEAR_LINE}${line}\n`;
    this.out.write(`${output}${CLEAR_BELOW}`);
    this.#drawn = lines.length;
  }
}
