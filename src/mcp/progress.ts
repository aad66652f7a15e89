/**
 * MCP progress notifications for a tool call that waits on subagents: one per
 * step of the subagents it follows (a run starts, a tool is called, a run
 * ends; a subagent that writes, at most once a second), so a client that
 * resets its request timeout on progress keeps waiting while work goes on.
 */
import type { RuntimeEvent, RuntimeListener } from '../runtime/events.js';

/** The `params` of a `notifications/progress`. */
export interface ProgressParams {
  progressToken: string | number;
  progress: number;
  total?: number;
  message?: string;
}

/** What the reporter needs from the runtime. */
export interface ProgressRuntime {
  subscribe(listener: RuntimeListener): () => void;
}

/** Which handles a reporter follows. */
export type ProgressScope =
  /** Every handle of the session (`wait_agent`: a session's runtime holds only its own). */
  | { kind: 'all' }
  /** The handles added with `follow` and their descendants (`delegate_task`). */
  | { kind: 'followed' };

/** A running reporter. */
export interface ProgressReporter {
  /** Follows these handles (a delegation's children) and, from now on, their descendants. */
  follow(handleIds: readonly string[]): void;
  /** Stops reporting: the request is answered. */
  stop(): void;
}

/** Least time between two "is writing" notifications of one call. */
const WRITING_INTERVAL_MS = 1_000;

/**
 * Starts reporting runtime events as progress of one request. `send` failures
 * (the client went away) are ignored: progress is advisory.
 */
export function startProgress(
  runtime: ProgressRuntime,
  token: string | number,
  scope: ProgressScope,
  send: (params: ProgressParams) => Promise<void>,
): ProgressReporter {
  const followed = new Set<string>();
  const top = new Set<string>();
  const ended = new Set<string>();
  let progress = 0;
  let lastWriting = -Infinity;
  let stopped = false;

  const report = (message: string) => {
    if (stopped) return;
    // The spec asks for a value that grows with every notification: a step count does.
    progress += 1;
    const done = top.size > 0 ? `${ended.size} of ${top.size} subagents done; ` : '';
    send({ progressToken: token, progress, message: `${done}${message}` }).catch(() => {});
  };

  const describe = (event: RuntimeEvent): string | null => {
    switch (event.type) {
      case 'run-start':
        return `${event.handleId} started${event.goal ? `: ${preview(event.goal)}` : ''}`;
      case 'tool-call-start':
        return `${event.handleId} calls ${event.tool}`;
      case 'run-end':
        if (top.has(event.handleId)) ended.add(event.handleId);
        return `${event.handleId} ended: ${event.outcome}`;
      case 'text-delta': {
        const now = performance.now();
        if (now - lastWriting < WRITING_INTERVAL_MS) return null;
        lastWriting = now;
        return `${event.handleId} is writing`;
      }
      default:
        return null;
    }
  };

  const unsubscribe = runtime.subscribe((event) => {
    // Approval events of the root agent (`handleId: null`) are about no subagent.
    if (!('handleId' in event) || event.handleId === null) return;
    if (scope.kind === 'followed') {
      if (event.type === 'handle-spawn' && event.parentId !== null && followed.has(event.parentId)) followed.add(event.handleId);
      if (!followed.has(event.handleId)) return;
    }
    const message = describe(event);
    if (message !== null) report(message);
  });

  return {
    follow(handleIds) {
      for (const id of handleIds) {
        followed.add(id);
        top.add(id);
      }
    },
    stop() {
      stopped = true;
      unsubscribe();
    },
  };
}

function preview(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}
