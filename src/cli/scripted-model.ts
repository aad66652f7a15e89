/**
 * The demo's embedded model: the fake OpenAI-compatible server of
 * `subagents/testing`, started in this process, answering from a script. It
 * is not an LLM: the parent delegates the survey's fixed subtasks, each
 * subagent calls the real file tools and summarises their real output.
 */
import { describeConversation, reply, startFakeServer } from '../testing/index.js';
import type { ChatRequestMessage, FakeServer, MessageReply, Reply, ScriptFunction } from '../testing/index.js';
import { childStep } from './scripted-children.js';
import type { ToolExchange } from './scripted-children.js';
import { firstSentence } from './survey-parsing.js';
import { SURVEY_TASKS, surveyContext } from './survey.js';
import { SAVE_REPORT_TOOL } from './save-report.js';

/** The model name the scripted server is asked for. */
export const SCRIPTED_MODEL_NAME = 'scripted-survey-model';

/** Options of {@link startScriptedModel}. */
export interface ScriptedModelOptions {
  /** Delay between two streamed chunks; the wait before the first one is three times as long. @default 40 */
  delayMs?: number;
  /** The project's name, told to the subagents. */
  projectName: string;
}

/**
 * Starts the scripted model on 127.0.0.1. Close it when done.
 *
 * @example
 * ```ts
 * const model = await startScriptedModel({ projectName: 'my-app' });
 * const client = new OpenAI({ baseURL: model.url, apiKey: 'scripted', maxRetries: 0 });
 * await model.close();
 * ```
 */
export function startScriptedModel(options: ScriptedModelOptions): Promise<FakeServer> {
  return startFakeServer({ script: surveyScript(options) });
}

/** The script: the parent's turns and each subagent's, chosen from the conversation in the request. */
export function surveyScript(options: ScriptedModelOptions): ScriptFunction {
  const delayMs = options.delayMs ?? 40;
  const timing = (chunkSize: number): Pick<MessageReply, 'latencyMs' | 'chunkDelayMs' | 'chunkSize'> => ({
    latencyMs: delayMs * 3,
    chunkDelayMs: delayMs,
    chunkSize,
  });
  return (request): Reply => {
    const turn = describeConversation(request);
    if (turn.systemText.startsWith('You are a subagent')) {
      const step = childStep(turn.lastUserText, turn.assistantTurns, exchangesOf(turn.messages));
      return 'answer' in step ? reply.text(step.answer, timing(24)) : reply.toolCalls(step.toolCalls, timing(64));
    }
    if (!turn.toolNames.includes('delegate_task')) {
      return reply.text('I cannot delegate: no `delegate_task` tool was offered to me, so there is no survey to report.', timing(24));
    }
    if (turn.lastRole !== 'tool') {
      const context = surveyContext(options.projectName);
      const tasks = SURVEY_TASKS.map((task) => ({ goal: task.goal, context, toolsets: task.toolsets }));
      return reply.toolCall('delegate_task', { tasks }, { ...timing(96), content: 'I will split the survey into three subtasks.' });
    }
    const exchanges = exchangesOf(turn.messages);
    const survey = parentAnswer(exchanges.find((exchange) => exchange.name === 'delegate_task')?.content ?? '');
    // Offered save_report (`--report`): save the report first, then say whether it was saved.
    if (!turn.toolNames.includes(SAVE_REPORT_TOOL)) return reply.text(survey, timing(32));
    const saved = exchanges.find((exchange) => exchange.name === SAVE_REPORT_TOOL);
    if (!saved) return reply.toolCall(SAVE_REPORT_TOOL, { report: `# Survey of ${options.projectName}\n\n${survey}` }, { ...timing(96), content: 'I will save the report.' });
    return reply.text(`${survey}\n${saveOutcome(saved.content)}`, timing(32));
  };
}

/** Every tool call of the conversation, in order, with the result the client sent back. */
function exchangesOf(messages: readonly ChatRequestMessage[]): ToolExchange[] {
  const results = new Map<string, string>();
  for (const message of messages) {
    if (message.role === 'tool' && typeof message.tool_call_id === 'string') {
      results.set(message.tool_call_id, typeof message.content === 'string' ? message.content : '');
    }
  }
  return messages.flatMap((message) =>
    (message.tool_calls ?? []).map((toolCall) => ({
      name: toolCall.function.name,
      args: parseArguments(toolCall.function.arguments),
      content: results.get(toolCall.id) ?? '',
    })),
  );
}

function parseArguments(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** What became of save_report, from its result: saved, or denied and why. */
function saveOutcome(content: string): string {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    return content;
  }
  const error = (value as { error?: { message?: unknown } } | null)?.error;
  return typeof error?.message === 'string' ? `The report was not saved: ${error.message}` : content;
}

interface ResultView {
  task?: number;
  status?: string;
  summary?: string;
}

/** The parent's final answer: one line per subagent, from the `delegate_task` result. */
function parentAnswer(toolResult: string): string {
  const results = findResults(toolResult);
  if (results === null) return `The delegation did not return results I can read: ${firstSentence(toolResult, 300)}`;
  const lines = results.map((result, index) => {
    const label = SURVEY_TASKS[result.task ?? index]?.label ?? `Subtask ${index + 1}`;
    const summary = result.summary ?? '';
    // A sentence ends at `.`, `!` or `?` before a space and a capital: file names keep their dots.
    const sentences = summary.split(/(?<=[.!?])\s+(?=[A-Z`"(])/).slice(0, 2).join(' ').trim();
    return `${index + 1}. ${label} (${result.status ?? 'unknown'}): ${sentences || '(no summary)'}`;
  });
  const done = results.filter((result) => result.status === 'completed').length;
  return [`Survey done: ${done} of ${results.length} subagents completed. What they found:`, ...lines].join('\n');
}

/** The `results` array of a delegate_task result, wherever the JSON nests it. */
function findResults(text: string): ResultView[] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const search = (node: unknown, depth: number): ResultView[] | null => {
    if (typeof node !== 'object' || node === null || depth > 4) return null;
    const record = node as Record<string, unknown>;
    if (Array.isArray(record.results)) return record.results.filter((item): item is ResultView => typeof item === 'object' && item !== null);
    for (const child of Object.values(record)) {
      const found = search(child, depth + 1);
      if (found) return found;
    }
    return null;
  };
  return search(value, 0);
}
