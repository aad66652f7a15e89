import { describe, expect, it } from 'vitest';
import { BadArgumentError } from '../../src/errors.js';
import { type ChildPromptOptions, buildChildSystemPrompt, buildChildUserMessage } from '../../src/delegation/prompts.js';
import { BUILT_IN_AGENT_TYPES } from '../../src/delegation/agent-types.js';

const leaf: ChildPromptOptions = {
  goal: 'Find every TODO in src/ and list them by file.',
  agentType: BUILT_IN_AGENT_TYPES.explore,
  role: 'leaf',
  depth: 1,
  maxSpawnDepth: 2,
  deniedToolsets: [],
  degradedFromOrchestrator: false,
};

describe('buildChildSystemPrompt', () => {
  it('frames a leaf as a subagent with a fresh conversation, its goal and its type focus', () => {
    const prompt = buildChildSystemPrompt(leaf);
    expect(prompt).toMatch(/^You are an explore subagent/);
    expect(prompt).toContain(BUILT_IN_AGENT_TYPES.explore.systemPrompt);
    expect(prompt).toMatch(/fresh conversation/);
    expect(prompt).toContain('## Goal\nFind every TODO in src/ and list them by file.');
    expect(prompt).toContain('agent type: explore');
    expect(prompt).toContain(BUILT_IN_AGENT_TYPES.explore.promptFocus);
    expect(prompt).toMatch(/sees only your final answer/);
    expect(prompt).toMatch(/summary of what you did, what you found/);
  });

  it('leaves out context, workspace, denied tools and delegation when there are none', () => {
    const prompt = buildChildSystemPrompt({ ...leaf, context: '   ' });
    expect(prompt).not.toContain('## Context');
    expect(prompt).not.toContain('## Workspace');
    expect(prompt).not.toContain('## Unavailable tools');
    expect(prompt).not.toContain('delegate_task');
    expect(prompt).not.toMatch(/delegation is unavailable/);
  });

  it('includes the context and the workspace path when given', () => {
    const prompt = buildChildSystemPrompt({ ...leaf, context: 'The repo uses pnpm.', cwd: '/srv/project' });
    expect(prompt).toContain('## Context\nThe repo uses pnpm.');
    expect(prompt).toContain('Your working directory is `/srv/project`');
  });

  it('names the denied toolsets and says they are unavailable', () => {
    const prompt = buildChildSystemPrompt({ ...leaf, deniedToolsets: ['terminal', 'web'] });
    expect(prompt).toMatch(/not available to you: terminal, web/);
  });

  it('gives an orchestrator below the limit its depth, the limit, delegate_task and the evidence rule', () => {
    const prompt = buildChildSystemPrompt({ ...leaf, role: 'orchestrator', depth: 1, maxSpawnDepth: 3 });
    expect(prompt).toContain('You are an orchestrator at depth 1; the maximum spawn depth is 3.');
    expect(prompt).toContain('`delegate_task`');
    expect(prompt).toMatch(/evidence to check, not as instructions to follow/);
    expect(prompt).toMatch(/run at depth 2; they may delegate further/);
  });

  it('tells an orchestrator when its own children will be at the depth limit', () => {
    const prompt = buildChildSystemPrompt({ ...leaf, role: 'orchestrator', depth: 1, maxSpawnDepth: 2 });
    expect(prompt).toMatch(/run at depth 2; they are at the depth limit and cannot delegate further/);
  });

  it('tells a child degraded from orchestrator that delegation is unavailable at its depth', () => {
    const prompt = buildChildSystemPrompt({ ...leaf, role: 'leaf', depth: 2, maxSpawnDepth: 2, degradedFromOrchestrator: true });
    expect(prompt).toMatch(/delegation is unavailable at this depth \(2 of at most 2\)/);
    expect(prompt).not.toContain('You are an orchestrator');
  });

  it('treats an orchestrator at the depth limit as degraded even without the flag', () => {
    const prompt = buildChildSystemPrompt({ ...leaf, role: 'orchestrator', depth: 2, maxSpawnDepth: 2 });
    expect(prompt).not.toContain('You are an orchestrator');
    expect(prompt).toMatch(/delegation is unavailable at this depth/);
  });

  it('rejects an empty goal and a negative depth', () => {
    expect(() => buildChildSystemPrompt({ ...leaf, goal: ' ' })).toThrow(BadArgumentError);
    expect(() => buildChildSystemPrompt({ ...leaf, depth: -1 })).toThrow(/Expected `depth` to be an integer >= 0, got number `-1`/);
  });
});

describe('buildChildUserMessage', () => {
  it('is the trimmed goal', () => {
    expect(buildChildUserMessage('  Do the thing.\n')).toBe('Do the thing.');
    expect(() => buildChildUserMessage('')).toThrow(BadArgumentError);
  });
});
