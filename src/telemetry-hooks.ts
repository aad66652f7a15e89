/**
 * The seam between the runtime and a tracer: what the runtime tells it about
 * each run, model call and tool call, and where it lets the tracer run that
 * work inside a span's context (so spans opened by the work itself, a child's
 * run or your tool's own calls, nest under it). `subagents/opentelemetry`
 * implements it; the runtime itself imports no tracing library.
 */
import type { RunOutcome, Usage } from './types.js';

/** The agent a run belongs to. */
export interface TracedAgent {
  /** The handle; `null` for the root agent. */
  handleId: string | null;
  name: string;
  parentId: string | null;
  depth: number;
  agentType: string | null;
  /** The model the agent's setup names, when it has one. */
  model: string | null;
}

/** A run as it starts. */
export interface TracedRunStart extends TracedAgent {
  /** The handle's run number; `null` for a root-agent conversation. */
  runId: number | null;
  /** The input text (recorded only when the tracer is told to record content). */
  input: string;
}

/** How a run ended. */
export interface TracedRunEnd {
  outcome: RunOutcome;
  /** The answer, when the run completed (recorded only when the tracer records content). */
  output: string | null;
  /** The error text (already redacted of keys), when the run did not complete. */
  error: string | null;
  errorCode: string | null;
  apiCalls: number;
  usage: Usage;
  /** The model the run used, if it used one. */
  model: string | null;
}

/** A run's span, once started. */
export interface TracedRun {
  /** Runs `work` with the run's span as the active context. */
  within<T>(work: () => Promise<T>): Promise<T>;
  /** Ends the span; later calls change nothing. */
  end(end: TracedRunEnd): void;
}

/** What a model call resolved with, as far as a tracer reads it. */
export interface TracedTurn {
  usage: Usage | null;
  finishReason: string | null;
}

/** What a tool call came to, as far as a tracer reads it. */
export type TracedToolOutcome = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

/**
 * What a tracer implements. Every method is called by the runtime; none may
 * throw (a tracer that fails must fail quietly: tracing never breaks a run).
 */
export interface TelemetryHooks {
  /** A handle was just spawned, in the context of whoever spawned it: its runs' spans are children of that context. */
  handleSpawned(handleId: string): void;
  /** Starts the span of a run: a handle's (ended by {@link TelemetryHooks.handleRunEnded}) or a root-agent conversation's. */
  startRun(run: TracedRunStart): TracedRun;
  /**
   * A handle's run ended, as its chart decided (the `run-end` event): ends the
   * span `startRun` made for it, or records one when the run was stopped
   * before its work started.
   */
  handleRunEnded(run: TracedRunStart & TracedRunEnd): void;
  /** Runs one model call in its span. */
  modelCall<T extends TracedTurn>(call: { model: string; client: unknown }, work: () => Promise<T>): Promise<T>;
  /** Runs one tool call in its span. */
  toolCall<T extends TracedToolOutcome>(call: { callId: string | null; tool: string; argumentsJson: unknown }, work: () => Promise<T>): Promise<T>;
  /** The keys of a runtime using the tracer: redacted from whatever text it records. */
  addSecrets?(secrets: readonly string[]): void;
}

const registered = new WeakMap<object, TelemetryHooks>();

/** Remembers the tracer a runtime was created with, for the tools made over it later (dispatcher, adapters). */
export function registerTelemetry(runtime: object, hooks: TelemetryHooks): void {
  registered.set(runtime, hooks);
}

/** The tracer a runtime was created with, if any. */
export function telemetryOf(runtime: object): TelemetryHooks | undefined {
  return registered.get(runtime);
}
