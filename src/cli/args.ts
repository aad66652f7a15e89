/**
 * The command line: commands, options, help texts, and errors that say what
 * was expected and what came.
 */
import { parseArgs } from 'node:util';

/** Options of `subagents demo`. */
export interface DemoOptions {
  /** The directory the file tools see. @default the package's own directory */
  dir: string | null;
  /** Model name on a real endpoint. @default 'gpt-4.1-mini' */
  model: string;
  /** Scripted model: delay between streamed chunks, in ms. @default 40 */
  delayMs: number;
  /** Use the scripted model even when OPENAI_BASE_URL / OPENAI_API_KEY are set. @default false */
  scripted: boolean;
  /** Start the Stately inspector relay and stream the run to it. @default false */
  inspect: boolean;
  /** @default 8080 */
  inspectPort: number;
  /** Serve the local web view of the run (`serveView`), kept up after the run until Ctrl-C. @default false */
  ui: boolean;
  /** Port of the web view on 127.0.0.1; 0 picks a free one. @default 0 */
  uiPort: number;
  /** Subagents running at once. @default 3 */
  maxConcurrent: number;
  /** One line per event even on a terminal. @default false */
  plain: boolean;
  /** Run the worktree demo instead of the survey: an edit delegated to a subagent in a git worktree of its own. @default false */
  worktree: boolean;
  /** A directory to keep the runtime in (`fileStore`): a killed demo restores from it. @default none */
  store: string | null;
  /** The parent saves its report to this file with `save_report`, a tool that needs approval. @default null (no such tool) */
  report: string | null;
  /** Approve every approval request without asking. @default false */
  yes: boolean;
  /** Run the subagents' runs on workers over this Redis (`bullmqExecutor`). @default null (in this process) */
  redis: string | null;
  /** With `redis`: worker processes the demo starts (0: workers started separately). @default 2 */
  workers: number;
  /** With `redis`: the queue of the runs. @default 'subagents-runs' */
  queue: string;
}

/** Options of `subagents mcp`. */
export interface McpOptions {
  /** Serve Streamable HTTP on this port of 127.0.0.1 (0: any free port); `null` serves stdio. @default null */
  httpPort: number | null;
  /** The bearer token for `--http`; `null` takes SUBAGENTS_MCP_TOKEN, else a generated one. @default null */
  token: string | null;
  /** With `--http`: a session that ends leaves its handles running. @default false */
  keepHandles: boolean;
  /** The directory the subagents' file tools see. @default the working directory */
  dir: string | null;
  /** Model name on a real endpoint. @default 'gpt-4.1-mini' */
  model: string;
  /** Use the scripted model even when OPENAI_BASE_URL / OPENAI_API_KEY are set. @default false */
  scripted: boolean;
  /** Scripted model: delay between streamed chunks, in ms. @default 10 */
  delayMs: number;
  /** Subagents of a session running at once. @default 3 */
  maxConcurrent: number;
}

export type Command =
  | { command: 'help'; topic: 'main' | 'demo' | 'mcp' | 'worker' }
  | { command: 'version' }
  | { command: 'demo'; options: DemoOptions }
  | { command: 'mcp'; options: McpOptions }
  | { command: 'list'; store: string }
  | { command: 'view'; store: string; port: number }
  | { command: 'worker'; options: WorkerCliOptions };

/** Options of `subagents worker`. */
export interface WorkerCliOptions {
  /** The Redis URL the runtime's `bullmqExecutor` uses. */
  redis: string;
  /** @default 'subagents-runs' */
  queue: string;
  /** The directory the file tools see. @default the working directory */
  dir: string | null;
  /** Runs at once. @default 16 */
  concurrency: number;
  /** @default 5000 */
  lockDurationMs: number;
  /** @default 2500 */
  stalledIntervalMs: number;
}

/** A command line that cannot be run; the message says why and what to do. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DEFAULT_MODEL = 'gpt-4.1-mini';

/**
 * Parses the arguments after `node main.js`.
 *
 * @throws {UsageError} for an unknown command or option, or a bad value.
 * @example
 * ```ts
 * parseCommandLine(['demo', '--delay', '20']); // { command: 'demo', options: { delayMs: 20, … } }
 * ```
 */
export function parseCommandLine(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') return { command: 'help', topic: 'main' };
  if (first === '-v' || first === '--version') return { command: 'version' };
  if (first === 'help') {
    if (rest[0] === undefined) return { command: 'help', topic: 'main' };
    if (rest[0] === 'demo' || rest[0] === 'mcp' || rest[0] === 'worker') return { command: 'help', topic: rest[0] };
    throw new UsageError(`Expected \`subagents help\` to be followed by a command (demo, mcp, worker), got \`${rest[0]}\``);
  }
  if (first === 'demo') return parseDemo(rest);
  if (first === 'mcp') return parseMcp(rest);
  if (first === 'list') return parseList(rest);
  if (first === 'view') return parseView(rest);
  if (first === 'worker') return parseWorker(rest);
  if (first.startsWith('-')) throw new UsageError(`Expected a command before options, got \`${first}\`; run \`subagents --help\``);
  throw new UsageError(`Unknown command \`${first}\`; the commands are: demo, mcp, list, view, worker, help. Run \`subagents --help\``);
}

function parseDemo(argv: readonly string[]): Command {
  const { values, positionals } = parseCommandOptions(argv, 'demo', {
    dir: { type: 'string' },
    model: { type: 'string' },
    scripted: { type: 'boolean' },
    delay: { type: 'string' },
    'max-concurrent': { type: 'string' },
    plain: { type: 'boolean' },
    worktree: { type: 'boolean' },
    store: { type: 'string' },
    report: { type: 'string' },
    yes: { type: 'boolean' },
    inspect: { type: 'boolean' },
    'inspect-port': { type: 'string' },
    redis: { type: 'string' },
    workers: { type: 'string' },
    queue: { type: 'string' },
    ui: { type: 'boolean' },
    'ui-port': { type: 'string' },
  });
  if (values.help === true) return { command: 'help', topic: 'demo' };
  if (positionals.length > 0) {
    throw new UsageError(`\`subagents demo\` takes no arguments, got \`${positionals[0]}\`; did you mean \`--dir ${positionals[0]}\`?`);
  }
  const clash = values.dir !== undefined ? '--dir' : values.inspect === true ? '--inspect' : values.ui === true ? '--ui' : null;
  if (values.worktree === true && clash !== null) {
    throw new UsageError(`Expected \`--worktree\` without \`${clash}\`: it makes its own temporary repository and has no inspector or web view`);
  }
  const text = (name: string) => textOption(values, name);
  const redis = text('redis') ?? null;
  if (redis === null && (values.workers !== undefined || values.queue !== undefined)) {
    throw new UsageError(`Expected \`${values.workers !== undefined ? '--workers' : '--queue'}\` with \`--redis <url>\`: without Redis the runs stay in this process`);
  }
  if (redis !== null && values.worktree === true) throw new UsageError('Expected `--worktree` without `--redis`: its subagent works in a git worktree of this machine, in this process');
  return {
    command: 'demo',
    options: {
      dir: text('dir') ?? null,
      model: text('model') ?? DEFAULT_MODEL,
      delayMs: integerOption('delay', text('delay'), 40, 0, 2_000),
      scripted: values.scripted === true,
      inspect: values.inspect === true,
      inspectPort: integerOption('inspect-port', text('inspect-port'), 8080, 1, 65_535),
      ui: values.ui === true,
      uiPort: integerOption('ui-port', text('ui-port'), 0, 0, 65_535),
      maxConcurrent: integerOption('max-concurrent', text('max-concurrent'), 3, 1, 16),
      plain: values.plain === true,
      worktree: values.worktree === true,
      store: text('store') ?? null,
      report: text('report') ?? null,
      yes: values.yes === true,
      redis: redis === null ? null : redisUrl('subagents demo', redis),
      workers: integerOption('workers', text('workers'), 2, 0, 16),
      queue: queueName(text('queue')),
    },
  };
}

function parseMcp(argv: readonly string[]): Command {
  const { values, positionals } = parseCommandOptions(argv, 'mcp', {
    http: { type: 'string' },
    token: { type: 'string' },
    'keep-handles': { type: 'boolean' },
    dir: { type: 'string' },
    model: { type: 'string' },
    scripted: { type: 'boolean' },
    delay: { type: 'string' },
    'max-concurrent': { type: 'string' },
  });
  if (values.help === true) return { command: 'help', topic: 'mcp' };
  if (positionals.length > 0) throw new UsageError(`\`subagents mcp\` takes no arguments, got \`${positionals[0]}\`; did you mean \`--http ${positionals[0]}\`?`);
  const text = (name: string) => textOption(values, name);
  const http = text('http');
  const token = text('token');
  if (http === undefined && token !== undefined) throw new UsageError('Expected `--token` with `--http <port>`: over stdio there is no token, got `--token` alone');
  if (http === undefined && values['keep-handles'] === true) {
    throw new UsageError('Expected `--keep-handles` with `--http <port>`: over stdio the one session lasts as long as the server, got `--keep-handles` alone');
  }
  if (token !== undefined && (token.length < 16 || /\s/.test(token))) {
    throw new UsageError(`Expected \`--token\` to be at least 16 characters without spaces, got ${token.length} characters`);
  }
  return {
    command: 'mcp',
    options: {
      httpPort: http === undefined ? null : integerOption('http', http, 0, 0, 65_535),
      token: token ?? null,
      keepHandles: values['keep-handles'] === true,
      dir: text('dir') ?? null,
      model: text('model') ?? DEFAULT_MODEL,
      scripted: values.scripted === true,
      delayMs: integerOption('delay', text('delay'), 10, 0, 2_000),
      maxConcurrent: integerOption('max-concurrent', text('max-concurrent'), 3, 1, 16),
    },
  };
}

function parseList(argv: readonly string[]): Command {
  return { command: 'list', store: storeCommandOptions(argv, 'list', {}).store };
}

function parseView(argv: readonly string[]): Command {
  const { store, values } = storeCommandOptions(argv, 'view', { port: { type: 'string' } });
  return { command: 'view', store, port: integerOption('port', textOption(values, 'port'), 0, 0, 65_535) };
}

/** The options of a command over a store (`--store <dir>`, required, and `extra`). */
function storeCommandOptions(argv: readonly string[], command: 'list' | 'view', extra: Record<string, { type: 'string' }>): { store: string; values: OptionValues } {
  let values: OptionValues;
  const takes = ['`--store <dir>`', ...Object.keys(extra).map((name) => `\`--${name} <${name}>\``)].join(' and ');
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: { store: { type: 'string' }, ...extra } }));
  } catch (error) {
    throw new UsageError(`${describeParseError(error, command)}; \`subagents ${command}\` takes ${takes}`);
  }
  const store = values.store;
  if (typeof store !== 'string' || store.trim() === '') throw new UsageError(`Expected \`subagents ${command} --store <dir>\`, got no store directory`);
  return { store, values };
}

function parseWorker(argv: readonly string[]): Command {
  const { values, positionals } = parseCommandOptions(argv, 'worker', {
    redis: { type: 'string' },
    queue: { type: 'string' },
    dir: { type: 'string' },
    concurrency: { type: 'string' },
    'lock-duration': { type: 'string' },
    'stalled-interval': { type: 'string' },
  });
  if (values.help === true) return { command: 'help', topic: 'worker' };
  if (positionals.length > 0) throw new UsageError(`\`subagents worker\` takes no arguments, got \`${positionals[0]}\`; did you mean \`--redis ${positionals[0]}\`?`);
  const text = (name: string) => (typeof values[name] === 'string' && values[name].trim() !== '' ? values[name] : undefined);
  return {
    command: 'worker',
    options: {
      redis: redisUrl('subagents worker', text('redis')),
      queue: queueName(text('queue')),
      dir: text('dir') ?? null,
      concurrency: integerOption('concurrency', text('concurrency'), 16, 1, 256),
      lockDurationMs: integerOption('lock-duration', text('lock-duration'), 5_000, 100, 600_000),
      stalledIntervalMs: integerOption('stalled-interval', text('stalled-interval'), 2_500, 100, 600_000),
    },
  };
}

/** `--redis`: a redis:// URL. */
function redisUrl(command: string, redis: string | undefined): string {
  if (redis === undefined || !/^rediss?:\/\//.test(redis)) throw new UsageError(`Expected \`${command} --redis <redis://host:port>\`, got ${redis === undefined ? 'no URL' : `\`${redis}\``}`);
  return redis;
}

/** `--queue`: a queue name. */
function queueName(given: string | undefined): string {
  const queue = given ?? 'subagents-runs';
  if (!/^[\w.-]{1,100}$/.test(queue)) throw new UsageError(`Expected \`--queue\` to be a name of letters, digits, \`_\`, \`-\` or \`.\`, got \`${queue}\``);
  return queue;
}

type OptionValues = Record<string, string | boolean | undefined>;

/** A command's options (and `-h`/`--help`); a parse error names the command and says where its options are. */
function parseCommandOptions(
  argv: readonly string[],
  command: 'demo' | 'mcp' | 'worker',
  options: Record<string, { type: 'string' | 'boolean' }>,
): { values: OptionValues; positionals: string[] } {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    throw new UsageError(`${describeParseError(error, command)}. Run \`subagents ${command} --help\` for the options`);
  }
}

/** A string option's value; `undefined` when it was not given; an empty one is an error. */
function textOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  if (typeof value !== 'string') return undefined;
  if (value.trim() === '') throw new UsageError(`Expected \`--${name}\` to have a value, got an empty string`);
  return value;
}

function integerOption(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`Expected \`--${name}\` to be an integer from ${min} to ${max}, got \`${value}\``);
  }
  return number;
}

function describeParseError(error: unknown, command: 'demo' | 'mcp' | 'list' | 'view' | 'worker'): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-{1,2}[^']+)'/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `Unknown option \`${option ?? message}\` for \`subagents ${command}\``;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = option?.split(' ')[0] ?? 'the option';
      if (/argument missing/.test(message)) return `Expected \`${name}\` to be followed by a value, got nothing`;
      if (/ambiguous/.test(message)) return `Expected \`${name}\` to be followed by a value, got another option`;
      if (/does not take an argument/.test(message)) return `Expected \`${name}\` without a value: it is a switch`;
      return message.split('\n')[0] ?? message;
    }
    default:
      return message;
  }
}
