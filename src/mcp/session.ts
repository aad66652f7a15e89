/**
 * One MCP session over one runtime: the ten agent tools (the same tools,
 * schemas and limit texts a model gets, driven through the same dispatcher),
 * with the client as the root agent; each delegation as a resource; progress
 * notifications while a call waits on subagents.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { createAgentTools } from '../agent-tools/agent-tools.js';
import type { AgentToolsRuntime } from '../agent-tools/agent-tools.js';
import { createToolDispatcher } from '../agent-tools/dispatch.js';
import type { SubagentsRuntime } from '../agent/runtime-api.js';
import type { Delegation } from '../delegation/delegation-types.js';
import { DELEGATION_URI_TEMPLATE, DelegationResources, delegationUri } from './delegations.js';
import { startProgress } from './progress.js';
import type { ProgressReporter, ProgressScope } from './progress.js';
import type { McpSessionOptions } from './options.js';
import type { McpSdk, SdkServer } from './sdk.js';

export type { McpSessionOptions } from './options.js';

/** A connected-or-not session server and how to end it. */
export interface McpSession {
  readonly server: SdkServer;
  /** Stops following the runtime and closes the server (and its transport). Idempotent. */
  close(): Promise<void>;
}

/** Longest `wait_agent` by default: under the 60 s an MCP client waits for an answer by default. */
export const MCP_MAX_WAIT_MS = 50_000;

/** How a background result reaches an MCP client, told in `delegate_task`'s description and answer. */
export const MCP_BACKGROUND_DELIVERY =
  `the combined result is published as the resource ${DELEGATION_URI_TEMPLATE} (subscribe to it for ` +
  'notifications/resources/updated), and wait_agent with the handle ids waits for it';

const INSTRUCTIONS =
  'Delegate work to subagents: child agents with a fresh conversation, their own tools and budget, running on the ' +
  "server's model. delegate_task runs in the background unless you pass background: false: it answers at once with a " +
  `delegation id and handle ids; the result is the resource ${DELEGATION_URI_TEMPLATE} and wait_agent waits for it. ` +
  'You see only the subagents of this session.';

/** Tools that wait on subagents, and which of them to follow for progress. */
const FOLLOWING: Record<string, ProgressScope['kind']> = { delegate_task: 'followed', wait_agent: 'all' };
const READ_ONLY = new Set(['wait_agent', 'list_agents', 'agent_status']);

/** What a delegation started inside a tool call tells that call. */
interface CallScope {
  onDelegation(delegation: Delegation): void;
}

/**
 * Creates the server of one session over `runtime`, not yet connected. The
 * client is the runtime's root agent: it sees the handles whose parent is
 * `null`, which are all of this runtime's top-level handles.
 */
export function createMcpSession(sdk: McpSdk, runtime: SubagentsRuntime, options: McpSessionOptions = {}): McpSession {
  const { types } = sdk;
  const server = new sdk.Server(
    { name: options.serverName ?? 'subagents', version: options.serverVersion ?? packageVersion() },
    { capabilities: { tools: {}, resources: { subscribe: true, listChanged: true } }, instructions: INSTRUCTIONS },
  );
  const calls = new AsyncLocalStorage<CallScope>();
  const resources = new DelegationResources(
    runtime,
    (uri) => void server.sendResourceUpdated({ uri }).catch(() => {}),
    () => void server.sendResourceListChanged().catch(() => {}),
  );
  const toolRuntime = scopedRuntime(runtime, (delegation, background) => {
    resources.add(delegation, background);
    calls.getStore()?.onDelegation(delegation);
  });
  const tools = createAgentTools(toolRuntime, {
    maxWaitMs: MCP_MAX_WAIT_MS,
    ...options.agentTools,
    backgroundByDefault: true,
    backgroundDelivery: MCP_BACKGROUND_DELIVERY,
  });
  const stopObserving = runtime.subscribe((event) => resources.observe(event));

  server.setRequestHandler(types.ListToolsRequestSchema, () => ({
    tools: createToolDispatcher(toolRuntime, tools, { handleId: null, depth: 0 })
      .definitions()
      .map(({ function: definition }) => ({
        name: definition.name,
        description: definition.description,
        inputSchema: definition.parameters as { type: 'object'; [key: string]: unknown },
        annotations: { readOnlyHint: READ_ONLY.has(definition.name) },
      })),
  }));

  server.setRequestHandler(types.CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    const token = extra._meta?.progressToken;
    const scope = FOLLOWING[name];
    let reporter: ProgressReporter | null = null;
    if (token !== undefined && scope !== undefined) {
      reporter = startProgress(runtime, token, { kind: scope }, (params) => extra.sendNotification({ method: 'notifications/progress', params }));
    }
    try {
      // A dispatcher per call: the request's signal (the client cancelled) stops what the call waits for.
      const dispatch = createToolDispatcher(toolRuntime, tools, { handleId: null, depth: 0, signal: extra.signal });
      let resource: string | null = null;
      const onDelegation = (delegation: Delegation) => {
        resource = delegationUri(delegation.delegationId);
        reporter?.follow(delegation.handleIds);
      };
      const text = await calls.run({ onDelegation }, () => dispatch(name, JSON.stringify(args)));
      // Runtime events reach listeners a microtask after their transition: the last ones (a run's end) are reported before the
      // answer. (The SDK's client still loses a notification it reads in the same chunk as the answer.)
      if (reporter) await new Promise<void>((resolve) => setImmediate(resolve));
      const answer = parseAnswer(text);
      // The answer names the resource of the delegation it started, where its result is published.
      const withResource = answer?.ok === true && resource !== null ? JSON.stringify({ ...answer, resource }) : text;
      return { content: [{ type: 'text' as const, text: withResource }], isError: answer?.ok !== true };
    } finally {
      reporter?.stop();
    }
  });

  server.setRequestHandler(types.ListResourcesRequestSchema, () => ({ resources: resources.list() }));
  server.setRequestHandler(types.ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [
      {
        uriTemplate: DELEGATION_URI_TEMPLATE,
        name: 'delegation',
        title: 'A delegation of this session',
        description: 'Its tasks, where each subagent is, and the combined result once every task ended (JSON).',
        mimeType: 'application/json',
      },
    ],
  }));
  // -32002: the code MCP gives a resource that is not found.
  const notFound = (uri: string) =>
    new types.McpError(-32002, `Resource not found: expected ${DELEGATION_URI_TEMPLATE} of a delegation of this session, got \`${uri}\``, { uri });
  server.setRequestHandler(types.ReadResourceRequestSchema, (request) => {
    const { uri } = request.params;
    const text = resources.read(uri);
    if (text === null) throw notFound(uri);
    return { contents: [{ uri, mimeType: 'application/json', text }] };
  });
  server.setRequestHandler(types.SubscribeRequestSchema, (request) => {
    if (!resources.has(request.params.uri)) throw notFound(request.params.uri);
    resources.subscribe(request.params.uri);
    return {};
  });
  server.setRequestHandler(types.UnsubscribeRequestSchema, (request) => {
    resources.unsubscribe(request.params.uri);
    return {};
  });

  let closing: Promise<void> | undefined;
  return {
    server,
    close() {
      closing ??= (async () => {
        stopObserving();
        await server.close();
      })();
      return closing;
    },
  };
}

/**
 * The runtime as the agent tools of a session drive it. Delegations are
 * registered as resources, and none is delivered into the root agent's
 * conversation: the client's conversation is not one the runtime runs, and
 * results put there would wait forever for a reader.
 */
function scopedRuntime(runtime: SubagentsRuntime, started: (delegation: Delegation, background: boolean) => void): AgentToolsRuntime {
  return {
    spawn: (options) => runtime.spawn(options),
    send: (id, message, options) => runtime.send(id, message, options),
    wait: (ids, options) => runtime.wait(ids, options),
    interrupt: (id) => runtime.interrupt(id),
    close: (id) => runtime.close(id),
    cancel: (id) => runtime.cancel(id),
    resume: (id) => runtime.resume(id),
    get: (id) => runtime.get(id),
    list: (filter) => runtime.list(filter),
    toolsOf: (id) => runtime.toolsOf(id),
    workingDirectory: (id) => runtime.workingDirectory(id),
    budget: (id) => runtime.budget(id),
    extendDeadline: (id, ms) => runtime.extendDeadline(id, ms),
    get limits() {
      return runtime.limits;
    },
    get options() {
      return runtime.options;
    },
    delegate(request) {
      const delegation = runtime.delegate({ ...request, deliverToAgent: false });
      started(delegation, request.background === true);
      return delegation;
    },
  };
}

/** A dispatcher answer as an object; `null` if it is not one (it always is). */
function parseAnswer(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

let version: string | undefined;

function packageVersion(): string {
  if (version === undefined) {
    try {
      // By the package's own name: the path from this code to the manifest differs once dist/ is linked.
      const manifest = createRequire(import.meta.url)('subagents/package.json') as { version?: unknown };
      version = typeof manifest.version === 'string' ? manifest.version : 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}
