import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { RuntimeOptions, SubagentsRuntime } from '../../src/agent/create-runtime.js';
import { defineAgentType } from '../../src/delegation/agent-types.js';
import { agentToolDefinitions, createAgentTools } from '../../src/agent-tools/agent-tools.js';
import { defineTool, toOpenAITool } from '../../src/toolkit/define-tool.js';
import type { AnyTool, OpenAIFunctionTool } from '../../src/toolkit/define-tool.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';

let runtime: SubagentsRuntime | undefined;
afterEach(async () => {
  await runtime?.shutdown();
  runtime = undefined;
});

const toolIn = (toolset: string, name: string) =>
  defineTool({ name, toolset, description: `The ${name} tool.`, parameters: z.object({ value: z.string() }), execute: () => 'ok' });

function setUp(options: Partial<RuntimeOptions> = {}) {
  const created = createRuntime({
    run: async () => '',
    tools: [toolIn('read', 'read_file'), toolIn('terminal', 'shell'), toolIn('code', 'execute_code')],
    ...options,
  });
  runtime = created;
  return created;
}

const byName = (definitions: OpenAIFunctionTool[], name: string) => definitions.find((definition) => definition.function.name === name)!;
const propertyDescription = (definition: OpenAIFunctionTool, ...path: string[]): unknown => {
  let node: Record<string, unknown> = definition.function.parameters;
  for (const segment of path) {
    if (node.type === 'array') node = node.items as Record<string, unknown>;
    node = (node.properties as Record<string, Record<string, unknown>>)[segment]!;
  }
  return node.description;
};

describe('delegate_task description', () => {
  it('states the configured limits, and the same tool states new ones after setLimits', () => {
    const created = setUp();
    const [delegateTask] = createAgentTools(created) as [AnyTool];
    expect(delegateTask.description).toContain('At most 3 of your subagents run at once');
    expect(delegateTask.description).toContain('At most 3 tasks per call');
    expect(delegateTask.description).toContain('Nesting is OFF below you (max spawn depth 1, you are at depth 0)');
    expect(delegateTask.description).toContain('At most 3 background delegations run at once');
    expect(delegateTask.description).not.toContain('in the whole tree');
    created.setLimits({ maxConcurrentChildren: 8, maxSpawnDepth: 3, maxConcurrentRuns: 12 });
    expect(delegateTask.description).toContain('At most 8 of your subagents run at once');
    expect(delegateTask.description).toContain('At most 8 tasks per call');
    expect(delegateTask.description).toContain("Nesting is ON (max spawn depth 3, you are at depth 0): a subagent with role 'orchestrator' may delegate in turn, 2 more levels below your subagents.");
    expect(delegateTask.description).toContain('At most 12 subagents run at once in the whole tree.');
    // The definitions the model gets are read at that moment too.
    const definition = toOpenAITool(delegateTask);
    expect(propertyDescription(definition, 'tasks')).toContain('up to 8 tasks, run in parallel (8 at a time)');
    expect(propertyDescription(definition, 'role')).toContain('Nesting is ON');
    expect(propertyDescription(definition, 'tasks', 'role')).toContain('Nesting is ON');
  });

  it('is written for the caller: its depth, its toolsets', () => {
    const created = setUp({ maxSpawnDepth: 3 });
    created.spawn({ name: 'lead' });
    created.spawn({ name: 'worker', parentId: 'lead' });
    created.spawn({ name: 'helper', parentId: 'worker' });
    const root = byName(agentToolDefinitions(created, { handleId: null }), 'delegate_task');
    const lead = byName(agentToolDefinitions(created, { handleId: 'lead' }), 'delegate_task');
    const worker = byName(agentToolDefinitions(created, { handleId: 'worker' }), 'delegate_task');
    const helper = byName(agentToolDefinitions(created, { handleId: 'helper' }), 'delegate_task');
    expect(root.function.description).toContain('you are at depth 0): a subagent with role \'orchestrator\' may delegate in turn, 2 more levels');
    expect(lead.function.description).toContain('you are at depth 1): a subagent with role \'orchestrator\' may delegate in turn, 1 more level below');
    expect(worker.function.description).toContain('Nesting is OFF below you (max spawn depth 3, you are at depth 2)');
    expect(helper.function.description).toContain('You are at depth 3 and the maximum spawn depth is 3: you cannot delegate');
    // The root passes on its own toolsets, less those whose tools are all blocked; a handle, those it was given.
    expect(root.function.description).toContain("Toolsets you can pass on: 'read', 'terminal'.");
    expect(propertyDescription(root, 'toolsets')).toContain("'read', 'terminal'");
    expect(lead.function.description).toContain("Toolsets you can pass on: 'read', 'terminal'.");
  });

  it('lists the agent types, user-defined ones included, and follows the batch size options', () => {
    const reviewer = defineAgentType({ name: 'review', description: 'Reviews a diff.', maxIterations: 5, promptFocus: 'Review.' });
    const created = setUp({ agentTypes: [reviewer], maxBackground: 5 });
    const [delegateTask] = createAgentTools(created, { maxBatchSize: 2 }) as [AnyTool];
    expect(delegateTask.description).toContain("'review': Reviews a diff.");
    expect(delegateTask.description).toContain("'explore': Read-only investigation");
    expect(delegateTask.description).toContain('At most 2 tasks per call. For more, split them over several delegate_task calls of at most 2');
    expect(delegateTask.description).toContain('up to 5 background delegations at once');
    expect(propertyDescription(toOpenAITool(delegateTask), 'agent_type')).toContain("'review': Reviews a diff.");
  });

  it('a dispatcher gives definitions for its caller, computed when asked', () => {
    const created = setUp({ maxSpawnDepth: 2 });
    created.spawn({ name: 'lead' });
    const dispatch = createToolDispatcher(created, createAgentTools(created), { handleId: 'lead' });
    expect(byName(dispatch.definitions(), 'delegate_task').function.description).toContain('Nesting is OFF below you');
    created.setLimits({ maxSpawnDepth: 3 });
    expect(byName(dispatch.definitions(), 'delegate_task').function.description).toContain('Nesting is ON');
  });

  it('the root definitions match the snapshot', async () => {
    const created = setUp();
    const definitions = agentToolDefinitions(created, { handleId: null });
    await expect(JSON.stringify(definitions, null, 2)).toMatchFileSnapshot('__snapshots__/agent-tool-definitions.json');
    created.setLimits({ maxConcurrentChildren: 5, maxSpawnDepth: 2 });
    const raised = byName(agentToolDefinitions(created, { handleId: null }), 'delegate_task');
    await expect(raised.function.description).toMatchFileSnapshot('__snapshots__/delegate-task-raised-limits.txt');
  });
});

describe('other definitions', () => {
  it('wait_agent states its clamping range; spawn_agent the concurrency and depth', () => {
    const created = setUp();
    const definitions = agentToolDefinitions(created, { handleId: null, tools: createAgentTools(created, { minWaitMs: 250, maxWaitMs: 60_000 }) });
    expect(propertyDescription(byName(definitions, 'wait_agent'), 'timeout_ms')).toBe(
      'How long to wait at most, in milliseconds, from 250 to 60000 (other values are clamped). Default: 30000.',
    );
    expect(byName(definitions, 'spawn_agent').function.description).toContain('At most 3 of your subagents run at once');
    created.setLimits({ maxConcurrentChildren: 6 });
    expect(byName(agentToolDefinitions(created, { handleId: null }), 'spawn_agent').function.description).toContain('At most 6 of your subagents');
  });

  it('every schema closes its objects, and strict is set only where every field is required', () => {
    const created = setUp();
    for (const definition of agentToolDefinitions(created, { handleId: null })) {
      expect(definition.function.parameters.additionalProperties).toBe(false);
      const properties = Object.keys(definition.function.parameters.properties as object);
      const required = (definition.function.parameters.required as string[] | undefined) ?? [];
      expect(definition.function.strict === true).toBe(properties.every((key) => required.includes(key)));
    }
  });
});
