/**
 * The fake model the MCP tests run subagents on. A subagent's goal says what
 * it does: `hold …` waits until the test releases it (its reply is then a
 * `list_files` call, so a run that goes on makes a second request), `hang …`
 * never answers (only an abort ends it); any other goal is answered at once.
 */
import { reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer, RecordedRequest, Reply } from '../../src/testing/index.js';

export interface TestModel {
  server: FakeServer;
  /** Answers every held request so far; later ones are held again. */
  release(): void;
  /** Resolves with the first request whose conversation matches `test`. */
  request(test: (request: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Resolves when `request` was aborted by its client. */
  aborted(request: RecordedRequest, timeoutMs?: number): Promise<void>;
}

/** Whether `request` comes from the subagent whose goal contains `text`. */
export const fromGoal = (text: string) => (request: RecordedRequest) => request.body.messages.some((message) => message.role === 'user' && typeof message.content === 'string' && message.content.includes(text));

export async function startTestModel(): Promise<TestModel> {
  const held: Array<() => void> = [];
  const server = await startFakeServer({
    script: scriptByConversation((turn): Reply | Promise<Reply> => {
      if (turn.lastRole === 'tool') return reply.text(`listed for ${turn.lastUserText}`);
      if (turn.lastUserText.startsWith('hang')) return reply.hang();
      if (turn.lastUserText.startsWith('hold')) {
        return new Promise<Reply>((resolve) => held.push(() => resolve(reply.toolCall('list_files', { path: '.' }))));
      }
      return reply.text(`done: ${turn.lastUserText}`, { chunkSize: 4, chunkDelayMs: 1 });
    }),
  });
  const waitFor = <T>(find: () => T | undefined, subscribe: (wake: () => void) => () => void, what: string, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(found);
      };
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`the fake model saw no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = subscribe(check);
      check();
    });
  return {
    server,
    release() {
      for (const answer of held.splice(0)) answer();
    },
    request(test, timeoutMs = 10_000) {
      return waitFor(() => server.requests.find(test), (wake) => server.onRequest(wake), 'matching request', timeoutMs);
    },
    aborted(request, timeoutMs = 10_000) {
      return waitFor(() => (request.aborted ? true : undefined), (wake) => server.onAbort(wake), `abort of request #${request.index}`, timeoutMs).then(() => undefined);
    },
  };
}
