import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BadArgumentError } from '../../src/errors.js';
import { type AgentType, BUILT_IN_AGENT_TYPES, defineAgentType, resolveAgentType } from '../../src/delegation/agent-types.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import { resolveChildTools } from '../../src/toolkit/toolsets.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import { createFileTools } from '../../src/toolkit/file-tools.js';
import { createWriteTools } from '../../src/toolkit/write-tools.js';

const valid: AgentType = {
  name: 'review',
  description: 'Reviews a change.',
  allowedToolsets: ['read', 'search'],
  maxIterations: 15,
  promptFocus: 'List each problem with file and line.',
};

const tool = (name: string, toolset: string) =>
  defineTool({ name, toolset, description: 'd', parameters: z.object({}), execute: () => null });
const parentTools = [
  tool('read_file', 'read'),
  tool('grep', 'search'),
  tool('fetch_url', 'web'),
  tool('run_command', 'terminal'),
  tool('write_file', 'write'),
];
const toolsFor = (type: AgentType) =>
  resolveChildTools({ parentTools, allowlist: type.allowedToolsets }).tools.map((t) => t.name);

describe('built-in agent types', () => {
  it('gives general every tool and 50 iterations', () => {
    expect(BUILT_IN_AGENT_TYPES.general.allowedToolsets).toBeUndefined();
    expect(BUILT_IN_AGENT_TYPES.general.maxIterations).toBe(50);
    expect(toolsFor(BUILT_IN_AGENT_TYPES.general)).toEqual(['read_file', 'grep', 'fetch_url', 'run_command', 'write_file']);
  });

  it('keeps explore read-only', () => {
    expect(toolsFor(BUILT_IN_AGENT_TYPES.explore)).toEqual(['read_file', 'grep', 'fetch_url']);
  });

  it('lets plan read and search but run nothing', () => {
    expect(toolsFor(BUILT_IN_AGENT_TYPES.plan)).toEqual(['read_file', 'grep']);
    expect(BUILT_IN_AGENT_TYPES.plan.promptFocus).toMatch(/plan/i);
  });

  it('lets verify read and run checks, but not write', () => {
    expect(toolsFor(BUILT_IN_AGENT_TYPES.verify)).toEqual(['read_file', 'grep', 'run_command']);
    expect(BUILT_IN_AGENT_TYPES.verify.promptFocus).toMatch(/PASS or FAIL/);
  });

  it('caps the specialised types below general', () => {
    for (const name of ['explore', 'plan', 'verify'] as const) {
      expect(BUILT_IN_AGENT_TYPES[name].maxIterations).toBeLessThan(BUILT_IN_AGENT_TYPES.general.maxIterations);
    }
  });
});

describe('the write tools and the built-in agent types', () => {
  it('only general gets write_file and edit_file, whether spawned or delegated', async () => {
    const runtime = createRuntime({ run: () => Promise.resolve('done'), tools: [...createFileTools().tools, ...createWriteTools().tools] });
    const writers = Object.keys(BUILT_IN_AGENT_TYPES).filter((agentType) => {
      const spawned = runtime.toolsOf(runtime.spawn({ agentType }).id).map((t) => t.name);
      return spawned.includes('write_file') || spawned.includes('edit_file');
    });
    expect(writers).toEqual(['general']);
    expect(runtime.toolsOf(runtime.spawn({ agentType: 'general' }).id).filter((t) => t.toolset === 'write').map((t) => t.name)).toEqual(['write_file', 'edit_file']);
    const delegation = runtime.delegate({ tasks: (['explore', 'plan', 'verify'] as const).map((agentType) => ({ goal: 'g', agentType, toolsets: ['write', 'read'] })) });
    const { results } = await delegation.result;
    expect(results.map((result) => result.deniedToolsets)).toEqual([['write'], ['write'], ['write']]);
    for (const id of delegation.handleIds) expect(runtime.toolsOf(id).map((t) => t.name)).toEqual(['list_files', 'read_file']);
    await runtime.shutdown();
  });
});

describe('defineAgentType', () => {
  it('returns a frozen copy of a valid definition', () => {
    const type = defineAgentType(valid);
    expect(type).toEqual(valid);
    expect(Object.isFrozen(type)).toBe(true);
  });

  it('rejects each invalid field with what was expected and what came', () => {
    expect(() => defineAgentType({ ...valid, name: 'Has Space' })).toThrow(/Expected `name` to be an agent type name.*got string `Has Space`/);
    expect(() => defineAgentType({ ...valid, description: '' })).toThrow(/`review.description` to be a non-empty string/);
    expect(() => defineAgentType({ ...valid, maxIterations: 0 })).toThrow(/maxIterations.*an integer >= 1, got number `0`/);
    expect(() => defineAgentType({ ...valid, maxIterations: 2.5 })).toThrow(BadArgumentError);
    expect(() => defineAgentType({ ...valid, promptFocus: ' ' })).toThrow(/promptFocus/);
    expect(() => defineAgentType({ ...valid, allowedToolsets: ['read', ''] })).toThrow(/allowedToolsets\[1\]/);
    expect(() => defineAgentType({ ...valid, allowedToolsets: 'read' as unknown as string[] })).toThrow(/allowedToolsets/);
  });
});

describe('resolveAgentType', () => {
  it('finds built-in types by name', () => {
    expect(resolveAgentType('explore')).toBe(BUILT_IN_AGENT_TYPES.explore);
  });

  it('finds user-defined types, which may replace a built-in one', () => {
    const review = defineAgentType(valid);
    const explore = defineAgentType({ ...valid, name: 'explore', maxIterations: 5 });
    expect(resolveAgentType('review', [review])).toBe(review);
    expect(resolveAgentType('explore', [explore]).maxIterations).toBe(5);
  });

  it('throws for an unknown name, listing the known ones', () => {
    const review = defineAgentType(valid);
    expect(() => resolveAgentType('reviewer', [review])).toThrow(BadArgumentError);
    expect(() => resolveAgentType('reviewer', [review])).toThrow(
      'Expected `agent_type` to be one of `general`, `explore`, `plan`, `verify`, `review`, got string `reviewer`',
    );
    expect(() => resolveAgentType('toString')).toThrow(BadArgumentError);
  });
});
