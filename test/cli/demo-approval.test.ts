import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectFixture, runDemoInProcess } from './fixture.js';

let fixture: ReturnType<typeof createProjectFixture>;
let outDir: string;
beforeAll(() => {
  fixture = createProjectFixture();
  outDir = mkdtempSync(path.join(tmpdir(), 'subagents-report-'));
});
afterAll(() => {
  fixture?.remove();
  rmSync(outDir, { recursive: true, force: true });
});

/** The demo in this process, on the scripted model, with a terminal (or not) to ask on. */
function demo(extraArgs: string[], stdin?: PassThrough & { isTTY?: boolean }) {
  const file = path.join(outDir, `report-${Math.random().toString(36).slice(2)}.md`);
  return { file, ...runDemoInProcess(['demo', '--dir', fixture.dir, '--delay', '0', '--report', file, ...extraArgs], { defaultDir: fixture.dir, ...(stdin ? { stdin } : {}) }) };
}

function terminal(): PassThrough & { isTTY?: boolean } {
  return Object.assign(new PassThrough(), { isTTY: true });
}

describe('subagents demo --report: approvals asked on the terminal', () => {
  it('asks before the parent saves its report, and saves it when the user says yes', async () => {
    const stdin = terminal();
    const run = demo([], stdin);
    await run.until('Approve? [y/N] ');
    expect(existsSync(run.file)).toBe(false);
    expect(run.output()).toMatch(/The parent agent wants to call save_report \{"report":"# Survey of fixture-project/);
    stdin.write('y\n');
    expect(await run.code).toBe(0);
    expect(run.errors()).toBe('');
    expect(readFileSync(run.file, 'utf8')).toMatch(/^# Survey of fixture-project\n\nSurvey done: 3 of 3 subagents completed\./);
    expect(run.output()).toContain('approved');
    expect(run.output()).toContain(`Saved the report (`);
  }, 30_000);

  it('does not save it when the user says no, and the parent says why', async () => {
    const stdin = terminal();
    const run = demo([], stdin);
    await run.until('Approve? [y/N] ');
    stdin.write('n\n');
    expect(await run.code).toBe(0);
    expect(existsSync(run.file)).toBe(false);
    expect(run.output()).toContain('The report was not saved: The call of `save_report` was denied by the approver: the user said no.');
  }, 30_000);

  it('Ctrl-C while asking ends the question with the run', async () => {
    const stdin = terminal();
    const run = demo([], stdin);
    await run.until('Approve? [y/N] ');
    run.interrupt();
    expect(await run.code).toBe(130);
    expect(existsSync(run.file)).toBe(false);
    expect(run.output()).toContain('(no longer needed)');
  }, 30_000);

  it('denies, saying why, when stdin is not a terminal', async () => {
    const run = demo([]);
    expect(await run.code).toBe(0);
    expect(existsSync(run.file)).toBe(false);
    expect(run.output()).toContain('denied, since stdin is not a terminal to ask on (run in a terminal, or pass --yes)');
    expect(run.output()).toContain('The report was not saved');
  }, 30_000);

  it('approves without asking with --yes', async () => {
    const stdin = terminal();
    const run = demo(['--yes'], stdin);
    expect(await run.code).toBe(0);
    expect(run.output()).not.toContain('Approve? [y/N]');
    expect(run.output()).toContain('save_report');
    expect(readFileSync(run.file, 'utf8')).toContain('Survey done: 3 of 3 subagents completed.');
  }, 30_000);
});
