/**
 * The fake model server as `checkLifecycle` drives it: every request is held
 * until the path says how the model answers (a `finish` or `fail` step), so a
 * run stays in flight exactly as long as the path wants.
 */
import { startFakeServer } from './fake-server.js';
import type { FakeServer, RecordedRequest, Reply } from './types.js';

/** A request the model has not answered yet. */
export interface HeldRequest {
  request: RecordedRequest;
  answered: boolean;
  answer(reply: Reply): void;
}

export interface HeldModel {
  server: FakeServer;
  /** Requests neither answered nor closed by their client. */
  open(): HeldRequest[];
  /** Resolves when `condition` holds, checked now and at every arrival and abort; `false` after `budgetMs`. */
  until(condition: () => boolean, budgetMs: number): Promise<boolean>;
  /** Re-checks the `until` conditions: call it when something outside the server changed (a run settled, an event came). */
  wake(): void;
  /** Answers every open request with a server error, so no client waits on a path that is over. */
  release(): void;
}

/** Starts the fake server with a script that holds every request. */
export async function startHeldModel(): Promise<HeldModel> {
  const held: HeldRequest[] = [];
  const wakers = new Set<() => void>();
  const wake = () => {
    for (const waker of [...wakers]) waker();
  };
  const server = await startFakeServer({
    script: (request) =>
      new Promise<Reply>((resolve) => {
        const entry: HeldRequest = {
          request,
          answered: false,
          answer(reply) {
            if (entry.answered) return;
            entry.answered = true;
            resolve(reply);
          },
        };
        held.push(entry);
        wake();
      }),
  });
  server.onAbort(wake);
  const open = () => held.filter((entry) => !entry.answered && !entry.request.aborted);
  return {
    server,
    open,
    until(condition, budgetMs) {
      if (condition()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const finish = (result: boolean) => {
          clearTimeout(timer);
          wakers.delete(check);
          resolve(result);
        };
        const check = () => {
          if (condition()) finish(true);
        };
        const timer = setTimeout(() => finish(condition()), budgetMs);
        wakers.add(check);
      });
    },
    wake,
    release() {
      for (const entry of open()) entry.answer({ fault: 'status', status: 500 });
    },
  };
}
