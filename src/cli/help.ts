/** The text of `subagents --help` and of each command's `--help`. */
import { DEFAULT_MODEL } from './args.js';

export const MAIN_HELP = `subagents — delegate work from an LLM agent to child agents (XState runtime)

Usage
  subagents <command> [options]

Commands
  demo        Run a parent agent that delegates a survey of a directory to
              three subagents using real, read-only file tools, with a live tree
  mcp         Serve delegate_task and the handle tools to MCP clients
              (stdio, or Streamable HTTP with --http <port>)
  list        Show what a store holds: the tree, statuses, queues and pending
              deliveries (subagents list --store <dir>)
  view        Serve a web view of a store's tree on 127.0.0.1, read only and
              followed live (subagents view --store <dir> [--port <port>])
  worker      Run child runs for runtimes on other processes or machines,
              over Redis (subagents worker --redis <url>)
  help [cmd]  Show help (for a command)

Options
  -h, --help      Show this help
  -v, --version   Show the version

Run \`subagents <command> --help\` for a command's options.
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
  --worktree             Instead of the survey: in a new temporary git repository,
                         the parent delegates an edit to a subagent working in a
                         git worktree of its own (write_file, edit_file), then
                         prints what was kept (worktree, branch, diff stat)
  --store <dir>          Keep the runtime in this directory (a file store): a
                         demo killed midway restores from it the next time
  --report <file>        Give the parent agent save_report, which saves its
                         survey report to <file>; each call needs your approval,
                         asked on the terminal (denied when stdin is not one)
  --yes                  Approve every approval request without asking
  --ui                   Serve a live web view of the tree on 127.0.0.1 (URL and
                         token printed; no internet needed); it stays up after
                         the run until Ctrl-C
  --ui-port <port>       Port of the web view (default: any free port)
  --inspect              Stream the run to the Stately inspector through a relay
                         on 127.0.0.1:<port> (its page embeds the hosted viewer,
                         which needs the internet); it stays up until Ctrl-C
  --inspect-port <port>  Port of the inspector relay (default: 8080)
  --redis <url>          Run the subagents' runs on workers over this Redis
                         (redis://host:port); needs bullmq and ioredis
  --workers <n>          With --redis: worker processes the demo starts and stops,
                         0-16 (default: 2); 0 uses workers started separately
                         (subagents worker --redis <url>)
  --queue <name>         With --redis: the runs' queue (default: subagents-runs)
  -h, --help             Show this help

Environment
  OPENAI_BASE_URL   Endpoint of a real model (default with a key: https://api.openai.com/v1)
  OPENAI_API_KEY    Its API key (never printed)
  CI                When set, output is one line per event
  NO_COLOR          When set, no colours

Examples
  subagents demo
  subagents demo --dir ./src --delay 80
  subagents demo --ui
  subagents demo --worktree
  subagents demo --report /tmp/survey.md
  subagents demo --redis redis://127.0.0.1:6380 --workers 2
  OPENAI_API_KEY=sk-... subagents demo --model gpt-4.1-mini
  OPENAI_BASE_URL=http://localhost:11434/v1 subagents demo --model qwen2.5:7b
`;

export const MCP_HELP = `subagents mcp — delegate_task and the handle tools for MCP clients

Usage
  subagents mcp [options]              stdio: for a client that starts the server
  subagents mcp --http <port> [options] Streamable HTTP on http://127.0.0.1:<port>/mcp

The client is the root agent: it gets delegate_task, spawn_agent, send_input,
wait_agent, interrupt_agent, close_agent, resume_agent, list_agents and
agent_status, with the schemas and limits a model gets. delegate_task runs in
the background unless a call passes background: false; each delegation is the
resource subagents://delegations/{id} (subscribe for updates), and wait_agent
waits for its handles. Subagents get read-only file tools (list_files,
read_file, search_files) confined to --dir.

Needs the optional peer dependency @modelcontextprotocol/sdk 1.x
(npm install @modelcontextprotocol/sdk).

Model
  OPENAI_BASE_URL and/or OPENAI_API_KEY name the endpoint the subagents run on
  (OpenAI, Ollama, vLLM, LM Studio, anything OpenAI-compatible). With neither,
  or with --scripted, they run on the embedded scripted model (not an LLM).

Options
  --http <port>          Serve Streamable HTTP on 127.0.0.1:<port> (0: any free port)
                         instead of stdio; each session is its own root agent
  --token <token>        Bearer token for --http (default: SUBAGENTS_MCP_TOKEN, else
                         a random one, printed at start)
  --keep-handles         With --http: a session that ends leaves its subagents
                         running until they finish or the server stops
                         (default: its subagents are closed)
  --dir <path>           Directory the file tools see (default: the working directory)
  --model <name>         Model on a real endpoint (default: ${DEFAULT_MODEL})
  --scripted             Use the embedded scripted model even if OPENAI_* variables are set
  --delay <ms>           Scripted model: delay between streamed chunks, 0-2000 (default: 10)
  --max-concurrent <n>   Subagents of a session running at once, 1-16 (default: 3)
  -h, --help             Show this help

Environment
  OPENAI_BASE_URL, OPENAI_API_KEY   The endpoint, as for the demo (the key is never printed)
  SUBAGENTS_MCP_TOKEN               Bearer token for --http (kept out of the process list)

Messages for people go to stderr; with stdio, stdout carries only MCP.

Examples
  subagents mcp --scripted
  OPENAI_API_KEY=sk-... subagents mcp --model gpt-4.1-mini --dir ~/src/app
  subagents mcp --http 3100 --dir .
`;

export const WORKER_HELP = `subagents worker — run child runs for runtimes elsewhere, over Redis

Usage
  subagents worker --redis <url> [options]

Takes the runs of runtimes made with bullmqExecutor({ connection, queue }) off
the queue and runs each through the model loop, streaming its progress back.
Its tools are the read-only file tools (list_files, read_file, search_files),
confined to --dir. Needs the optional peer dependencies bullmq and ioredis
(npm install bullmq ioredis). SIGINT or SIGTERM stops it gracefully: it takes
no more runs and waits for those in flight.

Options
  --redis <url>             Redis of the runtime (redis://host:port)
  --queue <name>            Queue name (default: subagents-runs)
  --dir <path>              Directory the file tools see (default: the working directory)
  --concurrency <n>         Runs at once, 1-256 (default: 16)
  --lock-duration <ms>      A dead worker's run is found lost after at most
                            lock-duration + 2 x stalled-interval (default: 5000)
  --stalled-interval <ms>   How often to look for stalled runs (default: 2500)
  -h, --help                Show this help

Environment
  OPENAI_BASE_URL, OPENAI_API_KEY   The endpoint the runs' model calls go to
                                    (the key is never printed)

Examples
  OPENAI_API_KEY=sk-... subagents worker --redis redis://127.0.0.1:6380 --dir .
`;
