/**
 * How the demo answers approval requests: on the terminal when stdin is one
 * (one question at a time, the live view paused while it is asked), at once
 * with `--yes`, and otherwise a denial that says why.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ApprovalAnswer, ApprovalHandler } from '../runtime/approvals.js';
import type { ApprovalRequest } from '../runtime/events.js';
import type { TextOutput } from './live-view.js';
import type { Style } from './render.js';

/** The terminal the demo may ask on. */
export type PromptInput = Readable & { isTTY?: boolean };

export interface ApprovalPromptOptions {
  stdin: PromptInput | undefined;
  stdout: TextOutput;
  style: Style;
  /** `--yes`: approve every request without asking. */
  yes: boolean;
  /** Called around a question: the live view stops redrawing while the user types. */
  pauseView(paused: boolean): void;
  /** Prints a line (above the live tree). */
  note(text: string): void;
}

/** Characters of a request's arguments shown in the question. */
const SHOWN_ARGUMENTS = 400;

/** What the demo gives `onApproval`, and `cancel`, which ends the question of a request that ended otherwise. */
export function approvalPrompt(options: ApprovalPromptOptions): { handler: ApprovalHandler; cancel(requestId: string): void } {
  const { stdin, style } = options;
  let queue: Promise<unknown> = Promise.resolve();
  const cancels = new Map<string, () => void>();
  const handler: ApprovalHandler = (request) => {
    const who = request.handleId === null ? 'The parent agent' : `Subagent ${request.handleId}`;
    const what = `${who} wants to call ${style.bold(request.tool)} ${shorten(JSON.stringify(request.arguments))}`;
    if (options.yes) {
      options.note(`${what}: approved (--yes).`);
      return { approve: true, reason: 'approved by --yes' };
    }
    if (stdin?.isTTY !== true) {
      options.note(style.yellow(`${what}: denied, since stdin is not a terminal to ask on (run in a terminal, or pass --yes).`));
      return { approve: false, reason: 'nobody is at a terminal to approve it' };
    }
    // One question at a time, in the order asked.
    const asked = queue.then(() => ask(request, what));
    queue = asked.catch(() => undefined);
    return asked;
  };

  function ask(request: ApprovalRequest, what: string): Promise<ApprovalAnswer> {
    return new Promise((resolve) => {
      options.pauseView(true);
      // Not a terminal-mode interface: Ctrl-C stays the process's SIGINT (the demo's interrupt).
      const lines = createInterface({ input: stdin!, terminal: false });
      let done = false;
      const finish = (answer: ApprovalAnswer, shown: string) => {
        if (done) return;
        done = true;
        cancels.delete(request.requestId);
        lines.close();
        options.stdout.write(`${shown}\n`);
        options.pauseView(false);
        resolve(answer);
      };
      cancels.set(request.requestId, () => finish({ approve: false, reason: 'the request ended before an answer' }, style.dim('(no longer needed)')));
      options.stdout.write(`\n${what}\nApprove? [y/N] `);
      lines.once('line', (line) => {
        const approve = /^\s*y(es)?\s*$/i.test(line);
        finish(approve ? { approve: true } : { approve: false, reason: 'the user said no' }, approve ? style.green('approved') : style.yellow('denied'));
      });
      // The input ended (Ctrl-D, a closed pipe): nobody can answer any more.
      lines.once('close', () => finish({ approve: false, reason: 'the terminal input ended' }, style.yellow('denied (input ended)')));
    });
  }

  return {
    handler,
    cancel(requestId) {
      cancels.get(requestId)?.();
    },
  };
}

function shorten(text: string): string {
  return text.length > SHOWN_ARGUMENTS ? `${text.slice(0, SHOWN_ARGUMENTS)}… (${text.length} characters)` : text;
}
