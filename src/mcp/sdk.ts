/**
 * The MCP SDK, loaded with `import()` when a server starts: it is an
 * optional peer dependency, so nothing else in the package needs it.
 */
import { McpSdkMissingError } from '../errors.js';

/** The parts of `@modelcontextprotocol/sdk` the server uses. */
export interface McpSdk {
  Server: (typeof import('@modelcontextprotocol/sdk/server/index.js'))['Server'];
  StdioServerTransport: (typeof import('@modelcontextprotocol/sdk/server/stdio.js'))['StdioServerTransport'];
  StreamableHTTPServerTransport: (typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js'))['StreamableHTTPServerTransport'];
  types: typeof import('@modelcontextprotocol/sdk/types.js');
}

/** A session's low-level SDK server. */
export type SdkServer = InstanceType<McpSdk['Server']>;

let loading: Promise<McpSdk> | undefined;

/**
 * Loads the SDK once.
 *
 * @throws {McpSdkMissingError} when the package is not installed.
 */
export function loadMcpSdk(): Promise<McpSdk> {
  loading ??= (async () => {
    try {
      const [server, stdio, http, types] = await Promise.all([
        import('@modelcontextprotocol/sdk/server/index.js'),
        import('@modelcontextprotocol/sdk/server/stdio.js'),
        import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
        import('@modelcontextprotocol/sdk/types.js'),
      ]);
      return { Server: server.Server, StdioServerTransport: stdio.StdioServerTransport, StreamableHTTPServerTransport: http.StreamableHTTPServerTransport, types };
    } catch (error) {
      if (isMissingPackage(error)) throw new McpSdkMissingError({ cause: error });
      throw error;
    }
  })();
  // A failed load may succeed after the package is installed; do not keep the failure.
  loading.catch(() => (loading = undefined));
  return loading;
}

function isMissingPackage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes('@modelcontextprotocol/sdk');
}
