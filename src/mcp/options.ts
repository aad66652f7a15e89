/**
 * The options every MCP server of the package takes. Apart from the server
 * code, so that the published types never name the SDK's: it is an optional
 * peer dependency.
 */
import type { AgentToolsOptions } from '../agent-tools/agent-tools.js';

/** Options every MCP server of the package takes. */
export interface McpSessionOptions {
  /**
   * Options of the agent tools (batch size, wait bounds; `maxWaitMs`
   * defaults to 50000 here, under a client's usual 60 s request timeout).
   * `delegate_task` always runs in the background unless a call says
   * `background: false`.
   */
  agentTools?: Omit<AgentToolsOptions, 'backgroundByDefault' | 'backgroundDelivery'>;
  /** The name the server gives clients. @default 'subagents' */
  serverName?: string;
  /** The version it gives. @default the package's version */
  serverVersion?: string;
}
