import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BadArgumentError } from '../../src/errors.js';
import { type AnyTool, defineTool } from '../../src/toolkit/define-tool.js';
import {
  DEFAULT_BLOCKED_TOOLS,
  createToolRegistry,
  resolveChildTools,
} from '../../src/toolkit/toolsets.js';

function tool(name: string, toolset: string): AnyTool {
  return defineTool({ name, toolset, description: `${name} tool`, parameters: z.object({}), execute: () => name });
}

const readFile = tool('read_file', 'read');
const listDir = tool('list_dir', 'read');
const grep = tool('grep', 'search');
const fetchUrl = tool('fetch_url', 'web');
const runCommand = tool('run_command', 'terminal');
const executeCode = tool('execute_code', 'terminal');
const memory = tool('memory', 'memory');
const clarify = tool('clarify', 'interaction');
const delegateTask = tool('delegate_task', 'delegation');
const spawnAgent = tool('spawn_agent', 'delegation');

const parentTools = [readFile, listDir, grep, fetchUrl, runCommand, executeCode, memory, clarify, delegateTask, spawnAgent];
const names = (tools: readonly AnyTool[]) => tools.map((t) => t.name);

describe('createToolRegistry', () => {
  it('looks tools up by name and lists toolsets in order of first appearance', () => {
    const registry = createToolRegistry([readFile, grep, listDir, delegateTask]);
    expect(registry.get('grep')).toBe(grep);
    expect(registry.get('nope')).toBeUndefined();
    expect(registry.get('toString')).toBeUndefined();
    expect(registry.toolsets()).toEqual(['read', 'search', 'delegation']);
    expect(names(registry.toolsOf('read'))).toEqual(['read_file', 'list_dir']);
    expect(registry.toolsOf('unknown')).toEqual([]);
  });

  it('throws on a duplicate tool name, naming both positions', () => {
    const duplicate = tool('grep', 'other');
    expect(() => createToolRegistry([readFile, grep, duplicate])).toThrow(BadArgumentError);
    expect(() => createToolRegistry([readFile, grep, duplicate])).toThrow(/tools\[2\]\.name.*tools\[1\].*got string `grep`/);
  });
});

describe('resolveChildTools', () => {
  it('inherits every parent tool except the blocked ones when nothing is requested', () => {
    const result = resolveChildTools({ parentTools });
    expect(names(result.tools)).toEqual(['read_file', 'list_dir', 'grep', 'fetch_url', 'run_command']);
    expect(result.grantedToolsets).toEqual(['read', 'search', 'web', 'terminal']);
    expect(result.deniedToolsets).toEqual([]);
  });

  it('treats an empty request like no request', () => {
    expect(resolveChildTools({ parentTools, requestedToolsets: [] })).toEqual(resolveChildTools({ parentTools }));
  });

  it('grants the intersection of the requested toolsets and the parent toolsets', () => {
    const result = resolveChildTools({ parentTools, requestedToolsets: ['search', 'read'] });
    expect(names(result.tools)).toEqual(['read_file', 'list_dir', 'grep']);
    expect(result.grantedToolsets).toEqual(['read', 'search']);
  });

  it('denies and reports requested toolsets the parent lacks', () => {
    const result = resolveChildTools({ parentTools: [readFile, grep], requestedToolsets: ['read', 'web', 'made_up'] });
    expect(names(result.tools)).toEqual(['read_file']);
    expect(result.deniedToolsets).toEqual(['web', 'made_up']);
    expect(result.denials).toEqual([
      { toolset: 'web', reason: 'not_available_to_parent' },
      { toolset: 'made_up', reason: 'not_available_to_parent' },
    ]);
  });

  it('never gives a blocked tool, even when the parent has it and its toolset is requested', () => {
    const result = resolveChildTools({ parentTools, requestedToolsets: ['terminal', 'memory', 'interaction'] });
    expect(names(result.tools)).toEqual(['run_command']);
    for (const blocked of DEFAULT_BLOCKED_TOOLS) expect(names(result.tools)).not.toContain(blocked);
    expect(result.denials).toEqual([
      { toolset: 'memory', reason: 'blocked' },
      { toolset: 'interaction', reason: 'blocked' },
    ]);
  });

  it('uses the caller blocked list instead of the default one', () => {
    const result = resolveChildTools({ parentTools, blockedTools: ['grep'] });
    expect(names(result.tools)).toEqual(['read_file', 'list_dir', 'fetch_url', 'run_command', 'execute_code', 'memory', 'clarify']);
  });

  it('withholds the whole delegation toolset from a leaf, even if requested', () => {
    const result = resolveChildTools({ parentTools, requestedToolsets: ['delegation', 'read'] });
    expect(result.grantedToolsets).toEqual(['read']);
    expect(result.denials).toEqual([{ toolset: 'delegation', reason: 'blocked' }]);
    // An empty blocked list does not let delegation through either.
    expect(names(resolveChildTools({ parentTools, blockedTools: [] }).tools)).not.toContain('spawn_agent');
  });

  it('grants the delegation toolset to an orchestrator when the parent has it', () => {
    const result = resolveChildTools({ parentTools, requestedToolsets: ['read'], allowDelegation: true });
    expect(names(result.tools)).toEqual(['read_file', 'list_dir', 'delegate_task', 'spawn_agent']);
    expect(result.grantedToolsets).toEqual(['read', 'delegation']);
  });

  it('does not invent delegation tools for an orchestrator whose parent has none', () => {
    const result = resolveChildTools({ parentTools: [readFile, grep], allowDelegation: true, requestedToolsets: ['read', 'delegation'] });
    expect(names(result.tools)).toEqual(['read_file']);
    expect(result.denials).toEqual([{ toolset: 'delegation', reason: 'not_available_to_parent' }]);
  });

  it('keeps other blocked tools blocked for an orchestrator', () => {
    const result = resolveChildTools({ parentTools, allowDelegation: true });
    expect(names(result.tools)).not.toContain('execute_code');
    expect(names(result.tools)).not.toContain('memory');
    expect(names(result.tools)).toContain('delegate_task');
  });

  it('narrows by an allowlist of toolset names and tool names', () => {
    const byToolset = resolveChildTools({ parentTools, allowlist: ['read', 'search', 'web'] });
    expect(names(byToolset.tools)).toEqual(['read_file', 'list_dir', 'grep', 'fetch_url']);
    const byTool = resolveChildTools({ parentTools, allowlist: ['read_file', 'search'] });
    expect(names(byTool.tools)).toEqual(['read_file', 'grep']);
  });

  it('keeps delegation for an orchestrator whose agent type allowlist leaves it out', () => {
    const result = resolveChildTools({ parentTools, allowlist: ['read'], allowDelegation: true });
    expect(names(result.tools)).toEqual(['read_file', 'list_dir', 'delegate_task', 'spawn_agent']);
  });

  it('reports requested toolsets the allowlist excludes', () => {
    const result = resolveChildTools({ parentTools, requestedToolsets: ['read', 'terminal'], allowlist: ['read', 'search'] });
    expect(names(result.tools)).toEqual(['read_file', 'list_dir']);
    expect(result.denials).toEqual([{ toolset: 'terminal', reason: 'not_allowed_by_agent_type' }]);
  });

  it('does not let an allowlist add a tool the parent lacks or a blocked one', () => {
    const result = resolveChildTools({ parentTools: [readFile, executeCode], allowlist: ['read', 'grep', 'execute_code'] });
    expect(names(result.tools)).toEqual(['read_file']);
  });

  it('never returns a tool the parent lacks, whatever the options', () => {
    const parents = [[readFile], [readFile, grep, delegateTask], parentTools];
    const requests = [undefined, [], ['read'], ['delegation', 'web'], ['unknown']];
    const allowlists = [undefined, [], ['read', 'delegation'], ['execute_code']];
    for (const parent of parents)
      for (const requestedToolsets of requests)
        for (const allowlist of allowlists)
          for (const allowDelegation of [false, true])
            for (const blockedTools of [undefined, []]) {
              const { tools } = resolveChildTools({ parentTools: parent, requestedToolsets, allowlist, allowDelegation, blockedTools });
              for (const granted of tools) expect(parent).toContain(granted);
            }
  });
});
