/**
 * `subagents demo --worktree`: in a new temporary git repository (never
 * yours), a parent agent delegates one edit to a subagent working in a git
 * worktree of its own, with the real write tools; then the demo prints what
 * was kept: the worktree, its branch and diff stat, and `git worktree list`.
 */
import { mkdtemp, mkdir, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRuntime } from '../agent/create-runtime.js';
import type { Runtime } from '../agent/create-runtime.js';
import type { AgentAnswer } from '../agent/parent-agent.js';
import { git } from '../runtime/git.js';
import { redactSecrets } from '../runtime/inspection.js';
import { startFakeServer } from '../testing/index.js';
import type { FakeServer } from '../testing/index.js';
import { createFileTools } from '../toolkit/file-tools.js';
import { createWriteTools } from '../toolkit/write-tools.js';
import type { DelegationResult } from '../types.js';
import type { DemoOptions } from './args.js';
import { createClient, describeEndpoint, resolveEndpoint } from './endpoint.js';
import { LiveView } from './live-view.js';
import type { TextOutput } from './live-view.js';
import { COLOR_STYLE, PLAIN_STYLE } from './render.js';
import type { Style } from './render.js';
import { answerAndTotals, childResults } from './report.js';
import { SCRIPTED_MODEL_NAME } from './scripted-model.js';
import { GREETING_FILE, GREETING_TEXT, WORKTREE_PROMPT, worktreeScript } from './scripted-worktree.js';
import { AgentTree } from './tree.js';

const EXIT = { ok: 0, failed: 1, interrupted: 130 } as const;

/** What the worktree demo needs from its process (the demo's `DemoIo` has it). */
export interface WorktreeDemoIo {
  stdout: TextOutput;
  stderr: TextOutput;
  env: NodeJS.ProcessEnv;
  /** Calls `handler` on each Ctrl-C; returns the function that stops listening. */
  onInterrupt(handler: () => void): () => void;
  /** Ends the process at once: a second Ctrl-C while stopping. */
  forceExit(code: number): void;
}

/** Runs the worktree demo and resolves with the exit code; everything it started is stopped before. */
export async function runWorktreeDemo(options: DemoOptions, io: WorktreeDemoIo): Promise<number> {
  const endpoint = resolveEndpoint(io.env, options);
  const secrets = endpoint.kind === 'remote' && endpoint.apiKey !== null ? [endpoint.apiKey] : [];
  const tty = io.stdout.isTTY === true && !io.env.CI && !options.plain;
  const style = tty && !io.env.NO_COLOR ? COLOR_STYLE : PLAIN_STYLE;
  const print = (...lines: string[]) => {
    for (const line of lines) io.stdout.write(`${line}\n`);
  };
  const fail = (message: string) => {
    io.stderr.write(`subagents: ${redactSecrets(message, secrets)}\n`);
    return EXIT.failed;
  };

  let repository: string;
  try {
    repository = await createDemoRepository();
  } catch (error) {
    return fail(`the worktree demo needs git to make its temporary repository: ${error instanceof Error ? error.message : String(error)}`);
  }
  print(
    `${style.bold('subagents demo --worktree')} — a parent agent delegates an edit to a subagent in a git worktree of its own`,
    describeEndpoint(endpoint, SCRIPTED_MODEL_NAME),
    `Repository: ${repository} (made for this demo, with one commit; your own repositories are never touched)`,
    'Tools: list_files, read_file, search_files, write_file, edit_file, confined to each agent’s working directory',
  );

  const controller = new AbortController();
  let interrupted = false;
  let runtime: Runtime | null = null;
  let model: FakeServer | null = null;
  let view: LiveView | null = null;
  const removeInterrupt = io.onInterrupt(() => {
    if (interrupted) return io.forceExit(EXIT.interrupted);
    interrupted = true;
    view?.note(style.yellow('Interrupted (Ctrl-C): stopping…'));
    controller.abort(new Error('Interrupted by Ctrl-C'));
  });
  try {
    if (endpoint.kind === 'scripted') model = await startFakeServer({ script: worktreeScript(options.delayMs) });
    const client = endpoint.kind === 'scripted' ? createClient(model!.url, 'scripted', false) : createClient(endpoint.baseURL, endpoint.apiKey, true);
    const activeRuntime = createRuntime({
      client,
      model: endpoint.kind === 'scripted' ? SCRIPTED_MODEL_NAME : endpoint.model,
      // No root on the file tools: the subagent's worktree lies outside the repository's work tree.
      tools: [...createFileTools().tools, ...createWriteTools().tools],
      cwd: repository,
      onListenerError: (error) => io.stderr.write(`subagents: a listener failed: ${redactSecrets(String(error), secrets)}\n`),
    });
    runtime = activeRuntime;
    const tree = new AgentTree();
    const activeView = new LiveView(io.stdout, tree, { mode: tty ? 'tty' : 'plain', style, startedAt: performance.now() });
    view = activeView;
    const results: DelegationResult[] = [];
    activeRuntime.subscribe((event) => {
      tree.apply(event);
      activeView.event(event);
      if (event.type === 'delegation-end') results.push(...event.results);
    });
    print('');
    activeView.start();
    let answer: AgentAnswer | null = null;
    let failure: string | null = null;
    try {
      answer = await activeRuntime.runAgent(WORKTREE_PROMPT, { signal: controller.signal, onTextDelta: () => tree.rootWriting() });
      if (answer.outcome !== 'completed' && !interrupted) failure = answer.error ?? `the parent agent ended ${answer.outcome}`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    tree.finishRoot(answer?.outcome === 'completed' ? 'completed' : interrupted ? 'interrupted' : 'error', answer ? answer.usage.inputTokens + answer.usage.outputTokens : null);
    activeView.stop();
    // Shutting down judges every worktree still in use; a delegated child's was judged when its task ended.
    await activeRuntime.shutdown();
    print('', ...childResults(tree, activeRuntime, style), '', ...answerAndTotals(answer, activeRuntime, style));
    print('', ...(await keptReport(repository, results, style)));
    if (endpoint.kind === 'scripted') print('', style.dim('(Answers above come from the embedded scripted model, not an LLM; the tools and git are real.)'));
    if (interrupted) return EXIT.interrupted;
    if (failure !== null) return fail(`the run failed: ${failure}`);
    return EXIT.ok;
  } finally {
    view?.stop();
    await runtime?.shutdown();
    await model?.close();
    removeInterrupt();
  }
}

/** A new repository in the system's temporary directory: a README and the file the subagent edits, committed. */
async function createDemoRepository(): Promise<string> {
  const base = await realpath(await mkdtemp(path.join(tmpdir(), 'subagents-worktree-demo-')));
  const repository = path.join(base, 'greeting');
  await mkdir(path.join(repository, 'src'), { recursive: true });
  await git(base, ['init', '--quiet', repository]);
  await git(repository, ['config', 'user.name', 'subagents demo']);
  await git(repository, ['config', 'user.email', 'demo@subagents.invalid']);
  await writeFile(path.join(repository, 'README.md'), '# Greeting\n\nA file that greets.\n');
  await writeFile(path.join(repository, GREETING_FILE), GREETING_TEXT);
  await git(repository, ['add', '--all']);
  await git(repository, ['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', 'A greeting']);
  return repository;
}

/** What was kept: each subagent's worktree, `git worktree list`, and the repository's own status. */
async function keptReport(repository: string, results: readonly DelegationResult[], style: Style): Promise<string[]> {
  const lines = [style.bold('Worktrees')];
  for (const result of results) {
    const worktree = result.worktree;
    if (!worktree) {
      lines.push(`  ${result.handleId}: no worktree (${result.errorCode === 'worktree_failed' ? result.error : 'none was made'})`);
      continue;
    }
    lines.push(`  ${result.handleId}: ${worktree.state} — ${worktree.path} on branch ${worktree.branch}${worktree.parentDirty ? ' (the parent tree had uncommitted changes)' : ''}`);
    if (worktree.diffStat) lines.push(...worktree.diffStat.split('\n').map((line) => `    ${line.trim()}`));
    if (worktree.error) lines.push(`    ${worktree.error}`);
  }
  if (results.length === 0) lines.push('  (no delegation ended)');
  const list = (await git(repository, ['worktree', 'list'])).trimEnd().split('\n');
  const status = (await git(repository, ['status', '--short'])).trimEnd();
  lines.push(
    '',
    style.bold('git worktree list'),
    ...list.map((line) => `  ${line}`),
    '',
    `The repository's own tree: ${status === '' ? 'unchanged (git status is clean)' : `changed:\n${status}`}.`,
    `It stays on disk for you to look at; remove it with: rm -rf ${path.dirname(repository)}`,
  );
  return lines;
}
