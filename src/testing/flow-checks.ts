/**
 * The invariants `checkDelegationFlows` checks, each a function of what a
 * flow has seen that returns a failure, or `null` when it holds.
 */
import type { Runtime } from '../agent/create-runtime.js';
import type { RuntimeEvent } from '../runtime/events.js';
import { messageText } from './messages.js';
import type { RecordedRequest } from './types.js';

/** A check failed: the problem (the same words whatever the ids, so a shorter flow can be told to fail the same way), what was expected, what happened. */
export type Failure = [problem: string, expected: string, actual: string];

/** A tool's answer as the model reads it. */
export type ToolAnswer = { ok: boolean; error?: { code?: unknown; message?: unknown } } & Record<string, unknown>;

const short = (text: string) => (text.length > 160 ? `${text.slice(0, 160)}…` : text);

/** The answer is a JSON object with `ok`, and a refusal has a code and a message. */
export function checkAnswer(tool: string, text: unknown): ToolAnswer | Failure {
  let answer: ToolAnswer;
  try {
    answer = JSON.parse(text as string) as ToolAnswer;
  } catch {
    return [`\`${tool}\` answered something the model cannot read`, 'a JSON string', short(String(text))];
  }
  if (typeof answer !== 'object' || answer === null || typeof answer.ok !== 'boolean') {
    return [`\`${tool}\` answered without \`ok\``, '{"ok":true,…} or {"ok":false,…}', short(String(text))];
  }
  if (!answer.ok && (typeof answer.error?.code !== 'string' || typeof answer.error.message !== 'string')) {
    return [`\`${tool}\` refused without a code and a message`, '{"ok":false,"error":{"code":…,"message":…}}', short(String(text))];
  }
  return answer;
}

/** Every handle's tools are within its parent's (the root agent's for `parentId: null`) and hold no blocked tool. */
export function checkToolSubsets(runtime: Runtime): Failure | null {
  const blocked = new Set(runtime.options.blockedTools);
  const names = (id: string | null) => runtime.toolsOf(id).map((tool) => tool.name);
  for (const handle of runtime.list()) {
    const parent = new Set(names(handle.parentId));
    const extra = names(handle.id).filter((name) => !parent.has(name) || blocked.has(name));
    if (extra.length > 0) {
      return ['a child has tools its parent lacks, or blocked tools', `${handle.id}: a subset of [${[...parent].join(', ')}] without ${[...blocked].join(', ')}`, extra.join(', ')];
    }
  }
  return null;
}

/**
 * A model request offered only tools of the handle whose goal or input it
 * carries (the goals and inputs of a flow are unique texts); one that carries
 * none is held to the handle whose tools fit it best.
 */
export function checkRequestTools(runtime: Runtime, request: RecordedRequest): Failure | null {
  const offered = (request.body.tools ?? []).map((tool) => tool.function.name);
  if (offered.length === 0) return null;
  const text = request.body.messages.map((message) => messageText(message)).join('\n');
  const handles = runtime.list();
  const carried = handles.filter((handle) => [handle.goal, handle.lastInput].some((line) => line !== null && text.includes(line)));
  const candidates = carried.length > 0 ? carried : handles;
  const toolsOf = (id: string) => new Set(runtime.toolsOf(id).map((tool) => tool.name));
  if (candidates.some((handle) => offered.every((name) => toolsOf(handle.id).has(name)))) return null;
  const allowed = candidates.map((handle) => `${handle.id}: [${[...toolsOf(handle.id)].join(', ')}]`).join('; ');
  return ['a model request offered tools its child does not have', allowed || 'no request (no child)', `request #${request.index} offered [${offered.join(', ')}]`];
}

/** A result `completed` stands for a run of that handle that ended `completed`. */
export function checkCompleted(events: readonly RuntimeEvent[], results: ReadonlyArray<{ handleId: string; status: string }>): Failure | null {
  for (const result of results) {
    const completed = events.some((event) => event.type === 'run-end' && event.handleId === result.handleId && event.outcome === 'completed');
    if (result.status === 'completed' && !completed) {
      return ['a child was reported completed, but no run of it completed', `${result.handleId}: a run-end event with outcome \`completed\``, 'none'];
    }
  }
  return null;
}

/** Keys an input by its handle and text. */
export const inputKey = (handleId: string, input: string): string => `${handleId} ← ${JSON.stringify(input)}`;

/** Every input accepted ended (processed, or handed back) exactly as often as it was accepted. */
export function checkInputsEnded(events: readonly RuntimeEvent[], accepted: ReadonlyMap<string, number>): Failure | null {
  const ended = new Map<string, number>();
  for (const event of events) {
    if (event.type === 'input-end') ended.set(inputKey(event.handleId, event.input), (ended.get(inputKey(event.handleId, event.input)) ?? 0) + 1);
  }
  for (const key of new Set([...accepted.keys(), ...ended.keys()])) {
    if ((accepted.get(key) ?? 0) !== (ended.get(key) ?? 0)) {
      return ['an accepted input was not processed or handed back exactly once', `${key}: ended ${accepted.get(key) ?? 0} time(s), as often as accepted`, `ended ${ended.get(key) ?? 0} time(s)`];
    }
  }
  return null;
}

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waits for `settled` a macrotask at a time, at most `budgetMs`. */
export async function until(settled: () => boolean, budgetMs: number): Promise<void> {
  const deadline = performance.now() + budgetMs;
  while (!settled() && performance.now() < deadline) await nextMacrotask();
}

/** A call that does not answer within the budget fails the check instead of hanging it. */
export function withinBudget<T>(promise: Promise<T>, budgetMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${budgetMs} ms`)), budgetMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
