/**
 * `subagents demo`: a parent agent delegates a survey of a directory to three
 * subagents that use the real file tools, on the scripted model or a real
 * one, with a live tree; Ctrl-C interrupts every subagent and exits cleanly.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { createRuntime } from '../agent/create-runtime.js';
import { fileStore } from '../store/index.js';
import type { SubagentsRuntime } from '../agent/create-runtime.js';
import { redactSecrets } from '../runtime/inspection.js';
import type { AgentAnswer } from '../agent/parent-agent.js';
import type { FakeServer } from '../testing/index.js';
import { createFileTools } from '../toolkit/file-tools.js';
import { UsageError } from './args.js';
import type { DemoOptions } from './args.js';
import { createClient, describeEndpoint, resolveEndpoint } from './endpoint.js';
import { startInspector } from './inspector.js';
import type { InspectorSession } from './inspector.js';
import { LiveView } from './live-view.js';
import type { TextOutput } from './live-view.js';
import { COLOR_STYLE, PLAIN_STYLE } from './render.js';
import { answerAndTotals, childResults } from './report.js';
import { SCRIPTED_MODEL_NAME, startScriptedModel } from './scripted-model.js';
import { SURVEY_TASKS, surveyPrompt } from './survey.js';
import { AgentTree } from './tree.js';
import { runWorktreeDemo } from './worktree-demo.js';
import { serveView } from '../view/serve-view.js';
import type { ViewServer } from '../view/serve-view.js';
import { approvalPrompt } from './approval-prompt.js';
import type { PromptInput } from './approval-prompt.js';
import { createSaveReportTool } from './save-report.js';
import { bullmqExecutor } from '../distributed/bullmq-executor.js';
import { startWorkersFor } from './demo-workers.js';
import type { LocalWorkers } from './demo-workers.js';

/** What the demo needs from its process; tests pass their own. */
export interface DemoIo {
  stdout: TextOutput;
  stderr: TextOutput;
  env: NodeJS.ProcessEnv;
  /** The directory surveyed when `--dir` is not given. */
  defaultDir: string;
  /** Calls `handler` on each Ctrl-C (SIGINT); returns the function that stops listening. */
  onInterrupt(handler: () => void): () => void;
  /** Ends the process at once: a second Ctrl-C while stopping. */
  forceExit(code: number): void;
  /** Where approvals are asked (`--report`): only when it is a terminal (`isTTY`). @default none: requests are denied */
  stdin?: PromptInput;
}

/** Exit codes of the demo. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/**
 * Runs the demo and resolves with the exit code. Every resource it starts
 * (the scripted model, the inspector relay, the runtime, timers, the Ctrl-C
 * listener) is stopped before it resolves.
 *
 * @throws {UsageError} for a `--dir` that is not a directory or a bad OPENAI_BASE_URL.
 */
export async function runDemo(options: DemoOptions, io: DemoIo): Promise<number> {
  if (options.worktree) return runWorktreeDemo(options, io);
  const root = resolveDirectory(options.dir ?? io.defaultDir);
  const endpoint = resolveEndpoint(io.env, options);
  const files = createFileTools({ root });
  const projectDir = files.root ?? root;
  const projectName = path.basename(projectDir);
  const reportFile = options.report === null ? null : path.resolve(options.report);
  const secrets = endpoint.kind === 'remote' && endpoint.apiKey !== null ? [endpoint.apiKey] : [];
  const tty = io.stdout.isTTY === true && !io.env.CI && !options.plain;
  const style = tty && !io.env.NO_COLOR ? COLOR_STYLE : PLAIN_STYLE;
  const print = (...lines: string[]) => {
    for (const line of lines) io.stdout.write(`${line}\n`);
  };

  print(
    `${style.bold('subagents demo')} — a parent agent delegates a survey of a directory to subagents`,
    describeEndpoint(endpoint, SCRIPTED_MODEL_NAME),
    `Project: ${projectDir} (read-only file tools list_files, read_file, search_files, confined to it)`,
    ...(reportFile ? [`Report: the parent may save its report to ${reportFile} with save_report, which needs your approval`] : []),
  );

  const controller = new AbortController();
  let phase: 'starting' | 'running' | 'stopping' | 'lingering' = 'starting';
  let interrupted = false;
  let runtime: SubagentsRuntime | null = null;
  let view: LiveView | null = null;
  let model: FakeServer | null = null;
  let inspector: InspectorSession | null = null;
  let webView: ViewServer | null = null;
  let stopLingering: (() => void) | null = null;
  let workers: LocalWorkers | null = null;

  const stopAll = () => {
    view?.note(style.yellow('Interrupted (Ctrl-C): stopping every subagent…'));
    for (const handle of runtime?.list({ parentId: null }) ?? []) {
      try {
        // Interrupting a top-level subagent stops its descendants too.
        runtime?.interrupt(handle.id);
      } catch {
        // Already ended or shut down: nothing left to stop.
      }
    }
    controller.abort(new Error('Interrupted by Ctrl-C'));
  };
  const removeInterrupt = io.onInterrupt(() => {
    if (phase === 'lingering') return stopLingering?.();
    if (interrupted) return io.forceExit(EXIT.interrupted);
    interrupted = true;
    if (phase === 'running') stopAll();
  });

  try {
    if (endpoint.kind === 'scripted') model = await startScriptedModel({ delayMs: options.delayMs, projectName });
    if (options.inspect) {
      inspector = await startInspector(options.inspectPort, secrets);
      print(
        `Inspector: open ${inspector.pageUrl} in a browser (it embeds the hosted Stately inspector, which needs the internet, ` +
          `and relays this run's sanitized actor events from ${inspector.socketUrl}; the relay listens on 127.0.0.1 only).`,
      );
    }
    if (options.redis !== null) {
      workers = await startWorkersFor({ ...options, redis: options.redis }, { model, endpoint, projectDir, print, stderr: io.stderr, note: (line) => (view ? view.note(style.dim(line)) : print(style.dim(line))) });
      if (workers === null) return EXIT.failed;
    }
    if (interrupted) {
      print(style.yellow('Interrupted before the run started.'));
      return EXIT.interrupted;
    }
    const approvals = approvalPrompt({
      stdin: io.stdin,
      stdout: io.stdout,
      style,
      yes: options.yes,
      pauseView: (paused) => view?.pause(paused),
      note: (text) => (view ? view.note(text) : print(text)),
    });
    const client = endpoint.kind === 'scripted' ? createClient(model!.url, 'scripted', false) : createClient(endpoint.baseURL, endpoint.apiKey, true);
    const activeRuntime = createRuntime({
      client,
      model: endpoint.kind === 'scripted' ? SCRIPTED_MODEL_NAME : endpoint.model,
      tools: reportFile ? [...files.tools, createSaveReportTool(reportFile)] : files.tools,
      onApproval: approvals.handler,
      // The agents work in the surveyed directory: the file tools resolve paths against it.
      cwd: projectDir,
      maxConcurrentChildren: options.maxConcurrent,
      // The survey is one batch of three whatever runs at once: the rest wait for a slot.
      maxBatchSize: Math.max(options.maxConcurrent, SURVEY_TASKS.length),
      ...(inspector ? { inspect: inspector.observer } : {}),
      // With --store, a demo killed midway is restored the next time: `subagents list --store <dir>` shows it.
      ...(options.store ? { store: fileStore(options.store) } : {}),
      // With --redis, the subagents' runs go to workers; the parent agent and the handles stay here.
      ...(options.redis !== null ? { executor: bullmqExecutor({ connection: options.redis, queue: options.queue }) } : {}),
      onListenerError: (error) => io.stderr.write(`subagents: a listener failed: ${redactSecrets(describeFailure(error), secrets)}\n`),
    });
    runtime = activeRuntime;
    if (options.ui) {
      webView = await serveView(activeRuntime, { port: options.uiPort });
      print(`View: open ${webView.url} in a browser (a live tree with controls, served on 127.0.0.1; the token in the address guards it).`);
    }
    const startedAt = performance.now();
    const tree = new AgentTree();
    const activeView = new LiveView(io.stdout, tree, { mode: tty ? 'tty' : 'plain', style, startedAt });
    view = activeView;
    activeRuntime.subscribe((event) => {
      tree.apply(event);
      activeView.event(event);
      // A request that ended otherwise (the run was interrupted) is no longer asked.
      if (event.type === 'approval-end') approvals.cancel(event.requestId);
    });
    print('');
    activeView.start();
    phase = 'running';
    let answer: AgentAnswer | null = null;
    let failure: unknown = null;
    try {
      answer = await activeRuntime.runAgent(surveyPrompt(projectName, { saveReport: reportFile !== null }), {
        signal: controller.signal,
        onTextDelta: () => tree.rootWriting(),
      });
    } catch (error) {
      failure = error;
    }
    // The root agent reports how its run ended; only a completed run has an answer.
    if (answer && answer.outcome === 'error') failure = new Error(answer.error ?? 'the parent agent failed');
    const rootOutcome = answer?.outcome === 'completed' ? 'completed' : interrupted || answer?.outcome === 'interrupted' ? 'interrupted' : 'error';
    phase = 'stopping';
    tree.finishRoot(rootOutcome, answer ? answer.usage.inputTokens + answer.usage.outputTokens : null);
    if (answer) tree.root.toolCount = answer.toolTrace.length;
    activeView.stop();
    print('', ...childResults(tree, activeRuntime, style), '', ...answerAndTotals(answer, activeRuntime, style));
    if (endpoint.kind === 'scripted') print('', style.dim('(Answers above come from the embedded scripted model, not an LLM; the tool output is real.)'));
    if (workers && workers.pids.length > 0) print('', `Runs per worker: ${[...workers.runsPerWorker()].map(([id, count]) => `${id} ${count}`).join(', ') || 'none'}`);
    if (interrupted) {
      const stopped = tree.children().filter((row) => row.outcome === 'interrupted' || row.status === 'interrupted');
      print('', style.yellow(`Interrupted: ${stopped.length} subagent${stopped.length === 1 ? ' was' : 's were'} stopped${stopped.length > 0 ? ` (${stopped.map((row) => row.id).join(', ')})` : ''}.`));
      return EXIT.interrupted;
    }
    if (failure !== null) io.stderr.write(`subagents: the run failed: ${redactSecrets(describeFailure(failure), secrets)}\n`);
    // The run is over; what shows it stays up until Ctrl-C, so the printed addresses still answer when someone opens them.
    if (inspector || webView) {
      phase = 'lingering';
      const serving = [
        ...(webView ? [`the view at ${webView.url} shows the final tree`] : []),
        ...(inspector ? [`the inspector relay at ${inspector.pageUrl} keeps serving the run's last 200 events`] : []),
      ];
      print('', `The run is over; ${serving.join(', and ')}. Press Ctrl-C to exit.`);
      await new Promise<void>((resolve) => (stopLingering = resolve));
    }
    return failure === null ? EXIT.ok : EXIT.failed;
  } finally {
    view?.stop();
    await runtime?.shutdown();
    for (const problem of (await workers?.stop()) ?? []) io.stderr.write(`subagents: ${redactSecrets(problem, secrets)}\n`);
    await model?.close();
    await webView?.close();
    await inspector?.stop();
    removeInterrupt();
  }
}

function describeFailure(failure: unknown): string {
  if (failure instanceof Error) return failure.message;
  return typeof failure === 'string' ? failure : 'an unknown error';
}

/** `dir` as an absolute path, once it is known to be a directory. */
export function resolveDirectory(dir: string): string {
  const absolute = path.resolve(dir);
  let isDirectory = false;
  try {
    isDirectory = statSync(absolute).isDirectory();
  } catch {
    throw new UsageError(`Expected \`--dir\` to be an existing directory, got \`${dir}\` (not found)`);
  }
  if (!isDirectory) throw new UsageError(`Expected \`--dir\` to be a directory, got the file \`${dir}\``);
  return absolute;
}
