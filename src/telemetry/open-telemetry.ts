/**
 * OpenTelemetry spans for a runtime: one per run (`invoke_agent`), per model
 * call (`chat`) and per tool call (`execute_tool`), nested along the subagent
 * tree. A child's runs are children of the span that spawned it (the parent's
 * `delegate_task` or `spawn_agent` tool span); the work of each span runs
 * with it as the active context, so spans your tools, your run functions or
 * an HTTP instrumentation open nest under ours. Nesting across `await` needs
 * a context manager (`NodeTracerProvider` registers one; with a bare
 * `BasicTracerProvider`, set `AsyncLocalStorageContextManager` yourself).
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { BadArgumentError } from '../errors.js';
import { redactSecrets } from '../secrets.js';
import type { TelemetryHooks, TracedRun, TracedRunEnd, TracedRunStart, TracedToolOutcome, TracedTurn } from '../telemetry-hooks.js';
import { ATTR, OPERATION, messagesJson, serverAttributes } from './attributes.js';

/** Options of {@link openTelemetry}. */
export interface OpenTelemetryOptions {
  /** Where spans go. @default the global tracer provider (whatever the host registered, now or later) */
  tracerProvider?: TracerProvider;
  /**
   * Record the content: a run's input and answer, tool arguments and results,
   * and the text of tool errors (which may quote arguments). Keys the runtime
   * knows, and anything shaped like one, are redacted even then.
   * @default false
   */
  recordContent?: boolean;
  /** `gen_ai.provider.name`: the API the model calls speak. @default 'openai' */
  providerName?: string;
}

/** Spawn contexts kept at most: the oldest go first (a forgotten handle's entry with them). */
const MAX_SPAWN_CONTEXTS = 10_000;

interface OpenRun extends TracedRun {
  readonly span: Span;
}

/**
 * Creates a tracer for `createRuntime({ telemetry })`. Spans follow the
 * OpenTelemetry GenAI semantic conventions (see `GEN_AI_SEMCONV_VERSION`);
 * no prompt, output or key is recorded unless `recordContent` is set.
 *
 * @throws {BadArgumentError} when an option is invalid.
 * @example
 * ```ts
 * import { openTelemetry } from 'subagents/opentelemetry';
 * const runtime = createRuntime({ client, model: 'gpt-4.1-mini', telemetry: openTelemetry() });
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): TelemetryHooks {
  if (typeof options !== 'object' || options === null) throw new BadArgumentError('options', 'an object', options);
  const { tracerProvider, recordContent = false, providerName = 'openai' } = options;
  if (tracerProvider !== undefined && typeof (tracerProvider as Partial<TracerProvider>).getTracer !== 'function') {
    throw new BadArgumentError('tracerProvider', 'an OpenTelemetry TracerProvider', tracerProvider);
  }
  if (typeof recordContent !== 'boolean') throw new BadArgumentError('recordContent', 'a boolean', recordContent);
  if (typeof providerName !== 'string' || providerName === '') throw new BadArgumentError('providerName', 'a non-empty string', providerName);
  // The global provider is a proxy: a tracer taken from it now follows whatever provider is registered later.
  const tracer: Tracer = (tracerProvider ?? trace.getTracerProvider()).getTracer('subagents');
  const secrets = new Set<string>();
  const redact = (text: string) => redactSecrets(text, [...secrets]);
  const spawnContexts = new Map<string, Context>();
  const handleRuns = new Map<string, OpenRun>();
  const runKey = (handleId: string, runId: number | null) => `${handleId}\u0000${runId ?? ''}`;

  /** A span's work, run with the span active; an error ends it as `ERROR`, then goes on. */
  const within = <T>(span: Span, parent: Context, work: () => Promise<T>): Promise<T> => context.with(trace.setSpan(parent, span), work);

  const failed = (span: Span, errorType: string, message: string | null) => {
    span.setAttribute(ATTR.errorType, errorType);
    span.setStatus({ code: SpanStatusCode.ERROR, ...(message === null ? {} : { message: redact(message) }) });
  };

  function startRun(run: TracedRunStart): OpenRun {
    const parent = run.handleId === null ? context.active() : (spawnContexts.get(run.handleId) ?? context.active());
    const attributes: Attributes = {
      [ATTR.operationName]: OPERATION.invokeAgent,
      [ATTR.providerName]: providerName,
      [ATTR.agentName]: run.name,
      [ATTR.depth]: run.depth,
      ...(run.handleId === null ? {} : { [ATTR.agentId]: run.handleId, [ATTR.conversationId]: run.handleId }),
      ...(run.parentId === null ? {} : { [ATTR.parentId]: run.parentId }),
      ...(run.agentType === null ? {} : { [ATTR.agentType]: run.agentType }),
      ...(run.model === null ? {} : { [ATTR.requestModel]: run.model }),
      ...(run.runId === null ? {} : { [ATTR.runId]: run.runId }),
      ...(recordContent && run.input !== '' ? { [ATTR.inputMessages]: redact(messagesJson('user', run.input)) } : {}),
    };
    const span = tracer.startSpan(`${OPERATION.invokeAgent} ${run.name}`, { kind: SpanKind.INTERNAL, attributes }, parent);
    let ended = false;
    const opened: OpenRun = {
      span,
      within: (work) => within(span, parent, work),
      end(end: TracedRunEnd) {
        if (ended) return;
        ended = true;
        span.setAttributes({
          [ATTR.outcome]: end.outcome,
          [ATTR.apiCalls]: end.apiCalls,
          [ATTR.inputTokens]: end.usage.inputTokens,
          [ATTR.outputTokens]: end.usage.outputTokens,
          ...(end.model === null ? {} : { [ATTR.responseModel]: end.model }),
          ...(recordContent && end.output !== null ? { [ATTR.outputMessages]: redact(messagesJson('assistant', end.output)) } : {}),
        });
        if (end.outcome === 'completed') span.setStatus({ code: SpanStatusCode.OK });
        // A run stopped on purpose (interrupted, cancelled) did not fail: its status stays unset, its outcome says why.
        else if (end.outcome === 'error' || end.outcome === 'timeout') failed(span, end.outcome === 'timeout' ? 'timeout' : (end.errorCode ?? 'error'), end.error);
        span.end();
      },
    };
    if (run.handleId !== null) handleRuns.set(runKey(run.handleId, run.runId), opened);
    return opened;
  }

  return {
    handleSpawned(handleId) {
      spawnContexts.set(handleId, context.active());
      if (spawnContexts.size > MAX_SPAWN_CONTEXTS) spawnContexts.delete(spawnContexts.keys().next().value!);
    },
    startRun,
    handleRunEnded(run) {
      const key = runKey(run.handleId ?? '', run.runId);
      // A run stopped before its work started has no span yet: it gets one, started and ended now.
      const opened = handleRuns.get(key) ?? startRun(run);
      handleRuns.delete(key);
      opened.end(run);
    },
    async modelCall<T extends TracedTurn>(call: { model: string; client: unknown }, work: () => Promise<T>): Promise<T> {
      const parent = context.active();
      const span = tracer.startSpan(
        `${OPERATION.chat} ${call.model}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { [ATTR.operationName]: OPERATION.chat, [ATTR.providerName]: providerName, [ATTR.requestModel]: call.model, ...serverAttributes(call.client) },
        },
        parent,
      );
      try {
        const turn = await within(span, parent, work);
        span.setAttributes({
          ...(turn.finishReason === null ? {} : { [ATTR.finishReasons]: [turn.finishReason] }),
          ...(turn.usage ? { [ATTR.inputTokens]: turn.usage.inputTokens, [ATTR.outputTokens]: turn.usage.outputTokens } : {}),
        });
        span.setStatus({ code: SpanStatusCode.OK });
        return turn;
      } catch (error) {
        const code = typeof error === 'object' && error !== null ? (error as { code?: unknown; name?: unknown }) : {};
        const errorType = typeof code.code === 'string' ? code.code : typeof code.name === 'string' ? code.name : 'error';
        failed(span, errorType, error instanceof Error ? error.message : String(error));
        throw error;
      } finally {
        span.end();
      }
    },
    async toolCall<T extends TracedToolOutcome>(call: { callId: string | null; tool: string; argumentsJson: unknown }, work: () => Promise<T>): Promise<T> {
      const parent = context.active();
      const attributes: Attributes = {
        [ATTR.operationName]: OPERATION.executeTool,
        [ATTR.toolName]: call.tool,
        [ATTR.toolType]: 'function',
        ...(call.callId === null ? {} : { [ATTR.toolCallId]: call.callId }),
        ...(recordContent && typeof call.argumentsJson === 'string' ? { [ATTR.toolCallArguments]: redact(call.argumentsJson) } : {}),
      };
      const span = tracer.startSpan(`${OPERATION.executeTool} ${call.tool}`, { kind: SpanKind.INTERNAL, attributes }, parent);
      try {
        const outcome = await within(span, parent, work);
        if (outcome.ok) {
          if (recordContent) span.setAttribute(ATTR.toolCallResult, redact(resultText(outcome.result)));
          span.setStatus({ code: SpanStatusCode.OK });
        } else {
          // Tool errors may quote the model's arguments: their text is content.
          failed(span, outcome.error.code, recordContent ? outcome.error.message : null);
        }
        return outcome;
      } catch (error) {
        failed(span, 'error', recordContent && error instanceof Error ? error.message : null);
        throw error;
      } finally {
        span.end();
      }
    },
    addSecrets(added) {
      for (const secret of added) if (typeof secret === 'string') secrets.add(secret);
    },
  };
}

function resultText(result: unknown): string {
  if (typeof result === 'string') return result;
  try {
    return JSON.stringify(result) ?? String(result);
  } catch {
    return String(result);
  }
}
