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
  /** Subagents running at once. @default 3 */
  maxConcurrent: number;
  /** One line per event even on a terminal. @default false */
  plain: boolean;
  /** A directory to keep the runtime in (`fileStore`): a killed demo restores from it. @default none */
  store: string | null;
}

export type Command =
  | { command: 'help'; topic: 'main' | 'demo' }
  | { command: 'version' }
  | { command: 'demo'; options: DemoOptions }
  | { command: 'list'; store: string };

/** A command line that cannot be run; the message says why and what to do. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DEFAULT_MODEL = 'gpt-4.1-mini';

export const MAIN_HELP = `subagents — delegate work from an LLM agent to child agents (XState runtime)

Usage
  subagents <command> [options]

Commands
  demo        Run a parent agent that delegates a survey of a directory to
              three subagents using real, read-only file tools, with a live tree
  list        Show what a store holds: the tree, statuses, queues and pending
              deliveries (subagents list --store <dir>)
  help [cmd]  Show help (for a command)

Options
  -h, --help      Show this help
  -v, --version   Show the version

Run \`subagents demo --help\` for the demo's options.
`;

export const DEMO_HELP = `subagents demo — a parent agent delegates a project survey to subagents

Usage
  subagents demo [options]

The parent agent delegates three subtasks in one batch (map the files, find
TODO/FIXME markers and exports, read the README and manifest). Each subagent
uses real file tools (list_files, read_file, search_files), read-only and
confined to the directory. A live tree shows every subagent while it runs;
Ctrl-C interrupts them all and exits with code 130.

Model
  By default the demo runs on an embedded scripted model: a scripted
  OpenAI-compatible server started in this process. It is not an LLM: it plans
  the delegation and tool calls from the real tool results.
  With OPENAI_BASE_URL and/or OPENAI_API_KEY set, the demo runs on that
  endpoint instead: OpenAI, Ollama (http://localhost:11434/v1), vLLM, LM
  Studio, OpenRouter, anything OpenAI-compatible.

Options
  --dir <path>           Directory to survey (default: this package's directory)
  --model <name>         Model on a real endpoint (default: ${DEFAULT_MODEL})
  --scripted             Use the scripted model even if OPENAI_* variables are set
  --delay <ms>           Scripted model: delay between streamed chunks, 0-2000 (default: 40)
  --max-concurrent <n>   Subagents running at once, 1-16 (default: 3)
  --plain                One line per event instead of the live tree
  --store <dir>          Keep the runtime in this directory (a file store): a
                         demo killed midway restores from it the next time
  --inspect              Stream the run to the Stately inspector through a local
                         relay (http://localhost:<port>); no browser is opened
  --inspect-port <port>  Port of the inspector relay (default: 8080)
  -h, --help             Show this help

Environment
  OPENAI_BASE_URL   Endpoint of a real model (default with a key: https://api.openai.com/v1)
  OPENAI_API_KEY    Its API key (never printed)
  CI                When set, output is one line per event
  NO_COLOR          When set, no colours

Examples
  subagents demo
  subagents demo --dir ./src --delay 80
  OPENAI_API_KEY=sk-... subagents demo --model gpt-4.1-mini
  OPENAI_BASE_URL=http://localhost:11434/v1 subagents demo --model qwen2.5:7b
`;

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
    if (rest[0] === 'demo') return { command: 'help', topic: 'demo' };
    throw new UsageError(`Expected \`subagents help\` to be followed by a command (demo), got \`${rest[0]}\``);
  }
  if (first === 'demo') return parseDemo(rest);
  if (first === 'list') return parseList(rest);
  if (first.startsWith('-')) throw new UsageError(`Expected a command before options, got \`${first}\`; run \`subagents --help\``);
  throw new UsageError(`Unknown command \`${first}\`; the commands are: demo, list, help. Run \`subagents --help\``);
}

function parseDemo(argv: readonly string[]): Command {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        model: { type: 'string' },
        scripted: { type: 'boolean' },
        delay: { type: 'string' },
        'max-concurrent': { type: 'string' },
        plain: { type: 'boolean' },
        store: { type: 'string' },
        inspect: { type: 'boolean' },
        'inspect-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${describeParseError(error)}. Run \`subagents demo --help\` for the options`);
  }
  if (values.help === true) return { command: 'help', topic: 'demo' };
  if (positionals.length > 0) {
    throw new UsageError(`\`subagents demo\` takes no arguments, got \`${positionals[0]}\`; did you mean \`--dir ${positionals[0]}\`?`);
  }
  const text = (name: string) => {
    const value = values[name];
    if (typeof value !== 'string') return undefined;
    if (value.trim() === '') throw new UsageError(`Expected \`--${name}\` to have a value, got an empty string`);
    return value;
  };
  return {
    command: 'demo',
    options: {
      dir: text('dir') ?? null,
      model: text('model') ?? DEFAULT_MODEL,
      delayMs: integerOption('delay', text('delay'), 40, 0, 2_000),
      scripted: values.scripted === true,
      inspect: values.inspect === true,
      inspectPort: integerOption('inspect-port', text('inspect-port'), 8080, 1, 65_535),
      maxConcurrent: integerOption('max-concurrent', text('max-concurrent'), 3, 1, 16),
      plain: values.plain === true,
      store: text('store') ?? null,
    },
  };
}

function parseList(argv: readonly string[]): Command {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: { store: { type: 'string' } } }));
  } catch (error) {
    throw new UsageError(`${describeParseError(error)}; \`subagents list\` takes \`--store <dir>\``);
  }
  const store = values.store;
  if (typeof store !== 'string' || store.trim() === '') throw new UsageError('Expected `subagents list --store <dir>`, got no store directory');
  return { command: 'list', store };
}

function integerOption(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`Expected \`--${name}\` to be an integer from ${min} to ${max}, got \`${value}\``);
  }
  return number;
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-{1,2}[^']+)'/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `Unknown option \`${option ?? message}\` for \`subagents demo\``;
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
