import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime, RuntimeOptions } from '../../src/agent/create-runtime.js';
import { createAgentTools } from '../../src/agent-tools/agent-tools.js';
import type { AgentToolsOptions } from '../../src/agent-tools/agent-tools.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import { controllableRun } from './controllable-run.js';

/** What a dispatched call answers, parsed. */
export interface Answer {
  ok: boolean;
  error?: { code: string; message: string; field?: string };
  [key: string]: unknown;
}

/**
 * A runtime on a controllable run with the nine agent tools, and a way to
 * call them as a given agent (`null`: the root agent) through the dispatcher:
 * arguments given as a string are sent as they are, anything else as JSON.
 */
export function agentToolsHarness(options: Partial<RuntimeOptions> = {}, toolOptions: AgentToolsOptions = {}) {
  const control = controllableRun();
  const runtime: Runtime = createRuntime({ run: control.run, ...options });
  const tools = createAgentTools(runtime, toolOptions);
  const as = (handleId: string | null, signal?: AbortSignal) => {
    const dispatch = createToolDispatcher(runtime, tools, { handleId, ...(signal ? { signal } : {}) });
    return async (name: string, args: unknown): Promise<Answer> =>
      JSON.parse(await dispatch(name, typeof args === 'string' ? args : JSON.stringify(args))) as Answer;
  };
  return { runtime, control, tools, as, call: as(null) };
}
