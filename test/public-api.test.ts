import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

/**
 * The values the package exports, each on purpose. Adding or removing one is
 * a public change: update this list and CHANGELOG.md together.
 */
const PUBLIC_VALUES = [
  // The factory and the model-backed run strategy.
  'createRuntime',
  'modelRun',
  // Tools, agent types, the nine agent tools and a dispatcher for your own loop.
  'defineTool',
  // A tool result with evidence of what the tool did: `{ output, evidence }`.
  'withEvidence',
  'defineAgentType',
  'createFileTools',
  'createWriteTools',
  'createAgentTools',
  'createToolDispatcher',
  // Extending the default block list rather than replacing it: `blockedTools: [...DEFAULT_BLOCKED_TOOLS, 'x']`.
  'DEFAULT_BLOCKED_TOOLS',
  // The handle chart, for model-based tests of your own runs.
  'handleMachine',
  // Stores: where a runtime keeps its state to restore it in a new process.
  'fileStore',
  'memoryStore',
  'sanitizeInspectionObserver',
  // The MCP server over stdio and Streamable HTTP.
  'serveMcpStdio',
  'startMcpHttpServer',
  // The local web view of the tree.
  'serveView',
  // Scaling out: runs on workers over Redis.
  'bullmqExecutor',
  'createWorker',
  'redisStore',
  // Errors, to tell failures apart with instanceof.
  'SubagentsError',
  'UnknownHandleError',
  'HandleClosedError',
  'DepthLimitError',
  'SpawningPausedError',
  'BackgroundLimitError',
  'BadArgumentError',
  'RuntimeShutDownError',
  'HandleStateError',
  'ModelOutputError',
  'ModelRequestError',
  'BatchSizeError',
  'ConversationTooLongError',
  'WorktreeError',
  'AgentToolError',
  'McpSdkMissingError',
  'RedisPackagesMissingError',
  'StoreLockedError',
  'StoreCorruptError',
  'BudgetRefusedError',
  'BudgetExceededError',
];

describe('the public API', () => {
  it('exports exactly the deliberate values', () => {
    expect(Object.keys(api).sort()).toEqual([...PUBLIC_VALUES].sort());
  });

  it('the runtime does not offer its supervisor actor in the published types', () => {
    const build = JSON.parse(readFileSync(new URL('../tsconfig.build.json', import.meta.url), 'utf8')) as { compilerOptions: { stripInternal?: boolean } };
    expect(build.compilerOptions.stripInternal).toBe(true);
    const api = readFileSync(new URL('../src/runtime/runtime-types.ts', import.meta.url), 'utf8');
    expect(api).toMatch(/\/\*\* @internal[^*]*\*\/\s*readonly actor:/);
  });
});
