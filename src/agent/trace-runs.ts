/**
 * How a runtime created with `telemetry` feeds its tracer: a handle's run
 * span ends when its chart says the run ended (the `run-end` event: the
 * outcome the chart decided, at the limit even when the work goes on), and a
 * root-agent conversation is one run span around it.
 */
import type { RuntimeEvent } from '../runtime/events.js';
import type { HandleApi } from '../runtime/runtime-types.js';
import type { TelemetryHooks } from '../telemetry-hooks.js';
import type { AgentAnswer } from './parent-agent.js';

/** Gives the tracer the runtime's keys, and ends each handle's run span at its `run-end` event. Returns the unsubscribe function. */
export function traceHandleRuns(telemetry: TelemetryHooks, handles: Pick<HandleApi, 'subscribe' | 'get'>, secrets: readonly string[]): () => void {
  telemetry.addSecrets?.(secrets);
  return handles.subscribe((event: RuntimeEvent) => {
    if (event.type !== 'run-end') return;
    let name = event.handleId;
    let agentType: string | null = null;
    try {
      const snapshot = handles.get(event.handleId);
      name = snapshot.name;
      agentType = snapshot.agentType;
    } catch {
      // Forgotten since: the id names it.
    }
    telemetry.handleRunEnded({
      handleId: event.handleId,
      name,
      parentId: event.parentId,
      depth: event.depth,
      agentType,
      runId: event.runId,
      input: '',
      outcome: event.outcome,
      output: event.output,
      error: event.error,
      errorCode: event.errorCode,
      apiCalls: event.stats.apiCalls,
      usage: event.stats.usage,
      model: event.stats.model ?? event.model,
    });
  }, ['run-end']);
}

/** Runs one root-agent conversation inside its run span, ended with the answer's outcome. */
export async function traceRootRun(telemetry: TelemetryHooks, start: { model: string; input: string }, work: () => Promise<AgentAnswer>): Promise<AgentAnswer> {
  const run = telemetry.startRun({ handleId: null, name: 'root', parentId: null, depth: 0, agentType: null, runId: null, ...start });
  let answer: AgentAnswer | undefined;
  try {
    answer = await run.within(work);
    return answer;
  } finally {
    run.end(
      answer
        ? {
            outcome: answer.outcome,
            output: answer.outcome === 'completed' ? answer.text : null,
            error: answer.error,
            errorCode: answer.errorCode,
            apiCalls: answer.apiCalls,
            usage: answer.usage,
            model: start.model,
          }
        : { outcome: 'error', output: null, error: 'the root agent failed', errorCode: null, apiCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, model: start.model },
    );
  }
}
