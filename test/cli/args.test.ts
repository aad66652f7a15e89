import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, parseCommandLine, UsageError } from '../../src/cli/args.js';
import { runCli } from '../../src/cli/cli.js';
import type { DemoIo } from '../../src/cli/demo.js';

function captureIo(env: NodeJS.ProcessEnv = {}): DemoIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    env,
    defaultDir: process.cwd(),
    onInterrupt: () => () => undefined,
    forceExit: () => {
      throw new Error('forceExit must not be called');
    },
  };
}

describe('parseCommandLine', () => {
  it('reads the demo options with their defaults', () => {
    expect(parseCommandLine(['demo'])).toEqual({
      command: 'demo',
      options: { dir: null, model: DEFAULT_MODEL, delayMs: 40, scripted: false, inspect: false, inspectPort: 8080, ui: false, uiPort: 0, maxConcurrent: 3, plain: false, worktree: false, store: null, report: null, yes: false, redis: null, workers: 2, queue: 'subagents-runs' },
    });
    expect(parseCommandLine(['demo', '--dir', 'src', '--delay=0', '--inspect', '--inspect-port', '9000', '--scripted', '--model', 'llama3', '--plain', '--max-concurrent', '2'])).toEqual({
      command: 'demo',
      options: { dir: 'src', model: 'llama3', delayMs: 0, scripted: true, inspect: true, inspectPort: 9000, ui: false, uiPort: 0, maxConcurrent: 2, plain: true, worktree: false, store: null, report: null, yes: false, redis: null, workers: 2, queue: 'subagents-runs' },
    });
    expect(parseCommandLine(['demo', '--worktree', '--delay', '0'])).toMatchObject({ command: 'demo', options: { worktree: true, delayMs: 0, dir: null } });
    expect(() => parseCommandLine(['demo', '--worktree', '--dir', 'src'])).toThrow(
      'Expected `--worktree` without `--dir`: it makes its own temporary repository and has no inspector or web view',
    );
    expect(parseCommandLine(['demo', '--report', 'out/survey.md', '--yes'])).toMatchObject({ options: { report: 'out/survey.md', yes: true } });
    expect(parseCommandLine(['demo', '--redis', 'redis://127.0.0.1:6380', '--workers', '0', '--queue', 'runs'])).toMatchObject({ options: { redis: 'redis://127.0.0.1:6380', workers: 0, queue: 'runs' } });
    expect(() => parseCommandLine(['demo', '--redis', '127.0.0.1:6380'])).toThrow('Expected `subagents demo --redis <redis://host:port>`, got `127.0.0.1:6380`');
    expect(() => parseCommandLine(['demo', '--redis', 'redis://127.0.0.1:6380', '--worktree'])).toThrow(/^Expected `--worktree` without `--redis`/);
    expect(parseCommandLine(['demo', '--ui', '--ui-port', '4321'])).toMatchObject({ options: { ui: true, uiPort: 4321 } });
    expect(() => parseCommandLine(['demo', '--worktree', '--ui'])).toThrow('Expected `--worktree` without `--ui`');
    expect(() => parseCommandLine(['demo', '--ui-port', '70000'])).toThrow('Expected `--ui-port` to be an integer from 0 to 65535, got `70000`');
  });

  it('reads the view command: a store, and a port', () => {
    expect(parseCommandLine(['view', '--store', '/tmp/s'])).toEqual({ command: 'view', store: '/tmp/s', port: 0 });
    expect(parseCommandLine(['view', '--store', '/tmp/s', '--port', '4000'])).toEqual({ command: 'view', store: '/tmp/s', port: 4000 });
    expect(() => parseCommandLine(['view'])).toThrow('Expected `subagents view --store <dir>`, got no store directory');
    expect(() => parseCommandLine(['view', '--store', 'x', '--ui'])).toThrow('Unknown option `--ui` for `subagents view`; `subagents view` takes `--store <dir>` and `--port <port>`');
    expect(() => parseCommandLine(['list', '--port', '1'])).toThrow('`subagents list` takes `--store <dir>`');
  });

  it('reads the mcp options with their defaults', () => {
    expect(parseCommandLine(['mcp'])).toEqual({
      command: 'mcp',
      options: { httpPort: null, token: null, keepHandles: false, dir: null, model: DEFAULT_MODEL, scripted: false, delayMs: 10, maxConcurrent: 3 },
    });
    expect(parseCommandLine(['mcp', '--http', '3100', '--token', 'sixteen-chars-ok', '--keep-handles', '--dir', 'src', '--model', 'm', '--scripted', '--delay', '0', '--max-concurrent', '5'])).toEqual({
      command: 'mcp',
      options: { httpPort: 3100, token: 'sixteen-chars-ok', keepHandles: true, dir: 'src', model: 'm', scripted: true, delayMs: 0, maxConcurrent: 5 },
    });
    for (const argv of [['help', 'mcp'], ['mcp', '--help'], ['mcp', '-h']]) expect(parseCommandLine(argv)).toEqual({ command: 'help', topic: 'mcp' });
  });

  it('explains what was expected for every bad mcp command line, without echoing a token', () => {
    const cases: Array<[string[], RegExp]> = [
      [['mcp', '--inspect'], /Unknown option `--inspect` for `subagents mcp`\. Run `subagents mcp --help`/],
      [['mcp', '--http'], /Expected `--http` to be followed by a value, got nothing/],
      [['mcp', '--http', '70000'], /Expected `--http` to be an integer from 0 to 65535, got `70000`/],
      [['mcp', '--token', 'a-long-enough-token'], /Expected `--token` with `--http <port>`/],
      [['mcp', '--keep-handles'], /Expected `--keep-handles` with `--http <port>`/],
      [['mcp', '--http', '0', '--token', 'short'], /Expected `--token` to be at least 16 characters without spaces, got 5 characters/],
      [['mcp', '3100'], /takes no arguments, got `3100`; did you mean `--http 3100`\?/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseCommandLine(argv), argv.join(' ')).toThrow(message);
    }
    expect(() => parseCommandLine(['mcp', '--http', '0', '--token', 'short'])).not.toThrow(/short/);
  });

  it('knows help and version in every usual spelling', () => {
    for (const argv of [[], ['-h'], ['--help'], ['help']]) expect(parseCommandLine(argv)).toEqual({ command: 'help', topic: 'main' });
    for (const argv of [['help', 'demo'], ['demo', '--help'], ['demo', '-h']]) expect(parseCommandLine(argv)).toEqual({ command: 'help', topic: 'demo' });
    expect(parseCommandLine(['--version'])).toEqual({ command: 'version' });
  });

  it('explains what was expected for every bad command line', () => {
    const cases: Array<[string[], RegExp]> = [
      [['launch'], /Unknown command `launch`; the commands are: demo, mcp, list, view, worker, help/],
      [['--dir', 'x'], /Expected a command before options, got `--dir`/],
      [['demo', '--frobnicate'], /Unknown option `--frobnicate` for `subagents demo`\. Run `subagents demo --help`/],
      [['demo', '--dir'], /Expected `--dir` to be followed by a value, got nothing/],
      [['demo', '--delay', '--plain'], /Expected `--delay` to be followed by a value, got another option/],
      [['demo', '--inspect=yes'], /Expected `--inspect` without a value: it is a switch/],
      [['demo', '--delay', 'fast'], /Expected `--delay` to be an integer from 0 to 2000, got `fast`/],
      [['demo', '--delay', '5000'], /Expected `--delay` to be an integer from 0 to 2000, got `5000`/],
      [['demo', '--inspect-port', '0'], /Expected `--inspect-port` to be an integer from 1 to 65535, got `0`/],
      [['demo', '--max-concurrent', '1.5'], /Expected `--max-concurrent` to be an integer from 1 to 16/],
      [['demo', '--model', ''], /Expected `--model` to have a value, got an empty string/],
      [['demo', '--report'], /Expected `--report` to be followed by a value, got nothing/],
      [['demo', 'src'], /takes no arguments, got `src`; did you mean `--dir src`\?/],
      [['help', 'nope'], /Expected `subagents help` to be followed by a command \(demo, mcp, worker\), got `nope`/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseCommandLine(argv), argv.join(' ')).toThrow(UsageError);
      expect(() => parseCommandLine(argv), argv.join(' ')).toThrow(message);
    }
  });
});

describe('runCli', () => {
  it('prints the help texts and the version with exit code 0', async () => {
    const main = captureIo();
    expect(await runCli(['--help'], main)).toBe(0);
    expect(main.out.join('')).toMatch(/Usage\n {2}subagents <command> \[options\]/);
    const demo = captureIo();
    expect(await runCli(['demo', '--help'], demo)).toBe(0);
    const help = demo.out.join('');
    for (const option of ['--dir', '--model', '--scripted', '--delay', '--inspect', '--inspect-port', '--plain', 'OPENAI_BASE_URL', 'OPENAI_API_KEY']) {
      expect(help).toContain(option);
    }
    expect(help).toMatch(/not an LLM/);
    const version = captureIo();
    expect(await runCli(['-v'], version)).toBe(0);
    expect(version.out.join('')).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('reports a usage error on stderr with exit code 2 and runs nothing', async () => {
    const io = captureIo();
    expect(await runCli(['demo', '--nope'], io)).toBe(2);
    expect(io.err.join('')).toMatch(/^subagents: Unknown option `--nope`/);
    expect(io.out).toEqual([]);
  });

  it('refuses a --dir that is not a directory, and a bad OPENAI_BASE_URL, before starting anything', async () => {
    const missing = captureIo();
    expect(await runCli(['demo', '--dir', '/definitely/not/here'], missing)).toBe(2);
    expect(missing.err.join('')).toMatch(/Expected `--dir` to be an existing directory, got `\/definitely\/not\/here`/);
    const badUrl = captureIo({ OPENAI_BASE_URL: 'localhost:11434', OPENAI_API_KEY: 'sk-test-SECRET-123' });
    expect(await runCli(['demo'], badUrl)).toBe(2);
    const stderr = badUrl.err.join('');
    expect(stderr).toMatch(/Expected OPENAI_BASE_URL to be an http\(s\) URL/);
    expect(stderr + badUrl.out.join('')).not.toContain('SECRET');
  });
});
