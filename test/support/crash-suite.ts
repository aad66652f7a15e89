/**
 * The crash suite's driver and checks, for any store: a delegation tree in a
 * child process (test/fixtures/crash-tree.mjs) killed with SIGKILL at random
 * points, restored in a new process, and every input, run and delivery checked.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { fileStore } from '../../src/store/index.js';
import type { StoreContents } from '../../src/store/index.js';
import { HANDLES } from '../../src/runtime/durable-handles.js';
import type { StoredHandle } from '../../src/runtime/durable-handles.js';
import { DELEGATIONS } from '../../src/delegation/durable-delegations.js';
import type { StoredDelegation } from '../../src/delegation/durable-delegations.js';
import { OUTBOX } from '../../src/delegation/inbox.js';
import type { Delivery } from '../../src/delegation/inbox.js';
import { messageText, reply, startFakeServer } from '../../src/testing/index.js';
import type { RecordedRequest, Reply } from '../../src/testing/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DRIVER = path.join(ROOT, 'test/fixtures/crash-tree.mjs');
export const SEED = Number(process.env.CRASH_SEED ?? 20240611);

let seed = SEED;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);

/** The fake model: orchestrators delegate in the background and answer once a result came back; everyone else answers its input. */
function script(request: RecordedRequest): Reply {
  const messages = request.body.messages;
  const system = messages[0] ? messageText(messages[0]) : '';
  const texts = messages.map(messageText);
  const latencyMs = 2 + (request.index % 5) * 3;
  if (system.includes('orchestrate')) {
    if (texts.some((text) => text.startsWith('[background delegation'))) return reply.text('final answer', { latencyMs });
    if (!messages.some((message) => message.role === 'tool')) {
      return reply.toolCall('delegate_task', { tasks: [{ goal: `bg task a${request.index}` }, { goal: `bg task b${request.index}` }], background: true }, { latencyMs });
    }
    return reply.text('waiting for my background work', { latencyMs });
  }
  return reply.text(`answer to ${texts.at(-1) ?? ''}`, { latencyMs: latencyMs * 2 });
}

interface LogRecord {
  process: 'run' | 'restore';
  type: 'accepted' | 'input-end';
  handleId: string;
  input: string;
  outcome?: string | null;
  handedBack?: string | null;
}

function runDriver(args: string[], killAfterMs: number | null): Promise<{ killed: boolean; stdout: string }> {
  const child = spawn(process.execPath, [DRIVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (killAfterMs !== null && stdout.startsWith('ready\n') && !killed) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve({ killed: signal === 'SIGKILL', stdout });
      else reject(new Error(`the driver exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

export const readFileStoreContents = (dir: string): StoreContents => {
  const store = fileStore(dir);
  try {
    return store.load();
  } finally {
    store.close();
  }
};
const handlesOf = (contents: StoreContents) => [...((contents.get(HANDLES)?.values() ?? []) as Iterable<StoredHandle>)];


export interface CrashSuiteOptions {
  /** Names the suite in its figures line. */
  label: string;
  killPoints: number;
  /** Kill points run side by side, each on its own store and model name. */
  lanes: number;
  /** The store argument of the driver for a run named `name` (`dir` is a fresh directory it may use). */
  storeFor(name: string, dir: string): string;
  /** What the store holds now (opening it is a check of its own). */
  readStore(store: string): Promise<StoreContents>;
}

/** Runs the crash suite and checks it; resolves once every kill point is checked. */
export async function runCrashSuite(options: CrashSuiteOptions): Promise<void> {
  const server = await startFakeServer({ script });
  const started = performance.now();
  const figures = { killed: 0, finishedBeforeKill: 0, lostRuns: 0, restoredPending: 0, deliveries: 0 };
  // Kill times are spread over what one whole tree takes on this machine now (measured once, unkilled), so that
  // however loaded the machine is, most kills land while the tree is at work; the fractions come from the seed.
  const calibration = mkdtempSync(path.join(tmpdir(), 'subagents-crash-'));
  const calibrationStart = performance.now();
  const whole = await runDriver([options.storeFor('calibration', path.join(calibration, 'store')), server.url, 'run', '0', path.join(calibration, 'log.jsonl'), 'calibration'], null);
  const treeMs = performance.now() - calibrationStart;
  expect(whole.killed).toBe(false);
  const killTimes = Array.from({ length: options.killPoints }, () => Math.floor(random() * 0.9 * treeMs));
  /** One kill point: a run killed at its time, a restore, the checks. */
  const check = async (point: number) => {
    {
      const dir = mkdtempSync(path.join(tmpdir(), 'subagents-crash-'));
      const logFile = path.join(dir, 'log.jsonl');
      const storeDir = options.storeFor(`p${point}`, path.join(dir, 'store'));
      // From the start of the tree to near its end: kills land before, during and after deliveries.
      const killAfterMs = killTimes[point]!;
      const context = `kill point ${point} (seed ${SEED}, after ${killAfterMs} ms)`;
      const first = await runDriver([storeDir, server.url, 'run', String(point + 1), logFile, `p${point}-run`], killAfterMs);
      if (first.killed) figures.killed += 1;
      else figures.finishedBeforeKill += 1;
      // Opening it is the first check: the journal the kill left is readable (a torn tail dropped).
      const afterKill = await options.readStore(storeDir);
      const restoredHandles = handlesOf(afterKill);
      const lostCurrent = new Set<string>();
      const pending = new Set<string>();
      const endedBefore = new Set<string>();
      for (const { state, context: handle } of restoredHandles) {
        const working = typeof state !== 'string' && JSON.stringify(state).includes('working');
        if (handle.current && working) lostCurrent.add(handle.current.message);
        else if (handle.current) pending.add(handle.current.message);
        for (const input of handle.inputs.queue) pending.add(input.message);
        if (handle.results.lastRun) endedBefore.add(handle.results.lastRun.input.message);
      }
      figures.lostRuns += lostCurrent.size;
      figures.restoredPending += pending.size;

      await runDriver([storeDir, server.url, 'restore', String(point + 1), logFile, `p${point}-restore`], null);
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as LogRecord) : [];
      const accepted = log.filter((record) => record.type === 'accepted');
      const ends = log.filter((record) => record.type === 'input-end');
      const endsIn = (process: LogRecord['process']) => ends.filter((record) => record.process === process).map((record) => record.input);
      const endedFirst = new Set([...endsIn('run'), ...endedBefore]);
      const endedSecond = endsIn('restore');

      // Every accepted input ended exactly once: before the kill, as the lost run of the restore, or after it.
      for (const { input } of accepted) {
        const count = (endedFirst.has(input) ? 1 : 0) + (lostCurrent.has(input) ? 1 : 0) + endedSecond.filter((ended) => ended === input).length;
        expect(count, `${context}: input ${input} ended ${count} times`).toBe(1);
      }
      for (const input of pending) expect(endedSecond, `${context}: restored input ${input} never ended`).toContain(input);

      // No model call for a run that had completed before the kill, nor for a lost run (the restore policy is 'interrupt').
      const completedBefore = new Set([
        ...ends.filter((record) => record.process === 'run' && record.outcome === 'completed').map((record) => record.input),
        ...restoredHandles.filter(({ context: handle }) => handle.results.lastRun?.outcome === 'completed').map(({ context: handle }) => handle.results.lastRun!.input.message),
      ]);
      for (const request of server.requests.filter((recorded) => recorded.body.model === `p${point}-restore`)) {
        const lastUser = request.body.messages.filter((message) => message.role === 'user').map(messageText).at(-1) ?? '';
        const first = request.body.messages.findIndex((message) => message.role === 'user' && messageText(message) === lastUser);
        // The run's input is the last user message that is not a background result (those arrive inside a run).
        if (lastUser.startsWith('[background delegation') || first !== request.body.messages.length - 1) continue;
        expect(completedBefore.has(lastUser) || lostCurrent.has(lastUser), `${context}: a model call was issued again for ${lastUser}`).toBe(false);
      }

      // Every background result reached its agent's conversation exactly once, and is acknowledged.
      const final = await options.readStore(storeDir);
      const conversations = new Map(handlesOf(final).map(({ context: handle }) => [handle.spec.id, handle.results.conversation]));
      const outbox = (final.get(OUTBOX) ?? new Map()) as Map<string, Delivery>;
      for (const delegation of (final.get(DELEGATIONS)?.values() ?? []) as Iterable<StoredDelegation>) {
        expect(delegation.outcome, `${context}: delegation ${delegation.id} has no outcome`).not.toBeNull();
        if (delegation.agent === null) continue;
        figures.deliveries += 1;
        const marker = `[background delegation ${delegation.id} finished]`;
        const copies = (conversations.get(delegation.agent) ?? []).filter((message) => typeof message.content === 'string' && message.content.startsWith(marker));
        expect(copies.length, `${context}: ${marker} in ${delegation.agent}'s conversation`).toBe(1);
        expect(outbox.get(delegation.id)?.state, `${context}: delivery of ${delegation.id}`).toBe('acknowledged');
      }
    }
  };
  // Kill points run in lanes side by side, each on its own directory and model name.
  const lanes = options.lanes;
  try {
    await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
      for (let point = lane; point < options.killPoints; point += lanes) await check(point);
    }));
  } finally {
    await server.close();
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`crash suite (${options.label}): seed ${SEED}, a whole tree in ${treeMs.toFixed(0)} ms, ${options.killPoints} kill points (${figures.killed} killed mid-run, ${figures.finishedBeforeKill} finished first), ${figures.lostRuns} runs lost on restart, ${figures.restoredPending} queued inputs restored, ${figures.deliveries} background deliveries checked, ${seconds.toFixed(1)} s`);
  // Kill times are spread over a calibration run; under a changing load some runs finish first. Some must be killed mid-run.
  expect(figures.killed).toBeGreaterThanOrEqual(1);
  expect(figures.lostRuns).toBeGreaterThan(0);
  expect(figures.deliveries).toBeGreaterThan(0);
}
