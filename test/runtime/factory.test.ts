import { describe, expect, it } from 'vitest';
import { BadArgumentError, DepthLimitError } from '../../src/errors.js';
import { handleSystemId } from '../../src/machines/supervisor.js';
import type { HandleMachine } from '../../src/machines/handle.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { RunContext, Runtime } from '../../src/agent/create-runtime.js';
import { modelRun } from '../../src/runtime/model-run.js';
import { defineAgentType } from '../../src/delegation/agent-types.js';
import { reply } from '../../src/testing/index.js';
import type { ActorRefFrom } from 'xstate';
import { closeAfterEach } from '../support/cleanup.js';
import { useFakeServers } from '../support/fake-servers.js';
import { lookup, shell } from '../support/sample-tools.js';


let runtime: Runtime | undefined;
closeAfterEach(() => [runtime]);
const start = useFakeServers();

/** The actor of a handle, by its public id (keys are handed out in spawn order). */
function handleActor(rt: Runtime, key: number): ActorRefFrom<HandleMachine> {
  return rt.actor.system.get(handleSystemId(String(key))) as ActorRefFrom<HandleMachine>;
}

describe('one factory, two run strategies', () => {
  it('createRuntime({ run: modelRun(…) }) and the shorthand send the same request', async () => {
    const a = await start({ script: () => reply.text('from a') });
    const b = await start({ script: () => reply.text('from b') });
    const explicit = createRuntime({ run: modelRun({ client: a.client, model: 'm1' }), tools: [lookup] });
    const shorthand = createRuntime({ client: b.client, model: 'm1', tools: [lookup] });
    try {
      const [first, second] = await Promise.all([explicit.delegate({ goal: 'Say hi' }).result, shorthand.delegate({ goal: 'Say hi' }).result]);
      expect(first.results[0]).toMatchObject({ status: 'completed', summary: 'from a' });
      expect(second.results[0]).toMatchObject({ status: 'completed', summary: 'from b' });
      const bodyA = a.server.requests[0]!.body;
      const bodyB = b.server.requests[0]!.body;
      expect(bodyA.model).toBe('m1');
      expect(bodyA.messages).toEqual(bodyB.messages);
      expect(bodyA.tools?.map((tool) => tool.function.name)).toEqual(bodyB.tools?.map((tool) => tool.function.name));
    } finally {
      await Promise.all([explicit.shutdown(), shorthand.shutdown()]);
    }
  });

  it('a custom run gets the handle setup and its tools, resolved by name', async () => {
    const seen: RunContext[] = [];
    runtime = createRuntime({
      run: async (_input, context) => {
        seen.push(context);
        return 'ok';
      },
      tools: [lookup, shell],
    });
    const { results } = await runtime.delegate({ goal: 'Read only', toolsets: ['read'] }).result;
    expect(results[0]).toMatchObject({ status: 'completed', summary: 'ok' });
    const context = seen[0]!;
    expect(context.handle.setup).toMatchObject({ tools: ['lookup'], model: 'custom', maxIterations: 50, deniedToolsets: [], degradedToLeaf: false });
    expect(context.handle.setup?.systemPrompt).toContain('Read only');
    expect(context.tools).toEqual([lookup]);
    expect(runtime.toolsOf(results[0]!.handleId)).toEqual([lookup]);
    // A plain spawn on a custom run gets a setup the same way (its parent's tools, its working directory).
    const plain = runtime.spawn({ message: 'hello', toolsets: ['terminal'] });
    await runtime.wait(plain.id);
    expect(seen[1]!.handle.setup).toMatchObject({ tools: ['shell'], cwd: runtime.options.cwd, isolation: 'none', inherited: [] });
    expect(seen[1]!.tools).toEqual([shell]);
    expect(seen[1]!.cwd).toBe(runtime.options.cwd);
  });

  it("the setup is part of the handle's persisted snapshot, as plain JSON", async () => {
    const { client } = await start({ script: () => reply.text('done') });
    runtime = createRuntime({ client, model: 'm1', tools: [lookup, shell] });
    const handle = runtime.spawn({ goal: 'Look things up', toolsets: ['read'], message: 'go' });
    await runtime.wait(handle.id);
    const persisted = handleActor(runtime, 0).getPersistedSnapshot() as unknown as { context: { spec: { id: string; setup: unknown } } };
    const copy = JSON.parse(JSON.stringify(persisted)) as typeof persisted;
    expect(copy.context.spec.id).toBe(handle.id);
    expect(copy.context.spec.setup).toMatchObject({ tools: ['lookup'], model: 'm1', provider: 'default' });
    expect(copy.context.spec.setup).toEqual(persisted.context.spec.setup);
  });
});

describe('named providers', () => {
  it('a handle goes to the provider its spawn, task or agent type names, with that provider’s model', async () => {
    const main = await start({ script: () => reply.text('main answered') });
    const fast = await start({ script: () => reply.text('fast answered') });
    const quick = defineAgentType({ name: 'quick', description: 'Quick lookups.', maxIterations: 3, promptFocus: 'Be quick.', provider: 'fast' });
    runtime = createRuntime({
      run: modelRun({ providers: { default: main.client, fast: { client: fast.client, model: 'small' } }, model: 'big' }),
      agentTypes: [quick],
    });
    const viaDefault = runtime.spawn({ message: 'one' });
    const viaSpawn = runtime.spawn({ message: 'two', provider: 'fast' });
    await runtime.wait([viaDefault.id, viaSpawn.id]);
    const viaType = await runtime.delegate({ goal: 'three', agentType: 'quick' }).result;
    expect(runtime.get(viaDefault.id)).toMatchObject({ lastOutput: 'main answered', model: 'big' });
    expect(runtime.get(viaSpawn.id)).toMatchObject({ lastOutput: 'fast answered', model: 'small' });
    expect(viaType.results[0]).toMatchObject({ summary: 'fast answered', model: 'small' });
    expect(main.server.requests.map((request) => request.body.model)).toEqual(['big']);
    expect(fast.server.requests.map((request) => request.body.model)).toEqual(['small', 'small']);
  });

  it('an unknown provider is refused before anything is spawned', async () => {
    const { client } = await start({ script: () => reply.text('x') });
    runtime = createRuntime({ client, model: 'm1' });
    expect(() => runtime!.spawn({ message: 'hi', provider: 'nope' })).toThrow(BadArgumentError);
    expect(() => runtime!.spawn({ message: 'hi', provider: 'nope' })).toThrow(/provider.*default.*nope/s);
    expect(runtime.list()).toEqual([]);
  });

  it('bad factory options name the option, what was expected and what came', () => {
    const fake = { chat: { completions: { create: () => Promise.reject(new Error('unused')) } } };
    const cases: Array<[() => unknown, string]> = [
      [() => createRuntime({ client: fake, providers: { a: fake as never }, model: 'm' }), 'client'],
      [() => createRuntime({ run: async () => 'x', client: fake }), 'client'],
      [() => createRuntime({ run: modelRun({ client: fake, model: 'm' }), stream: false }), 'stream'],
      [() => createRuntime({ run: 'fast' as never }), 'run'],
      [() => createRuntime({ providers: { a: { model: 'x' } as never }, model: 'm' }), 'providers.a'],
      [() => createRuntime({ providers: {}, model: 'm' }), 'providers'],
      [() => createRuntime({ client: fake }), 'model'],
      [() => createRuntime({}), 'client'],
    ];
    for (const [make, argument] of cases) {
      let error: unknown;
      try {
        make();
      } catch (caught) {
        error = caught;
      }
      expect(error, argument).toBeInstanceOf(BadArgumentError);
      expect((error as BadArgumentError).argument).toBe(argument);
    }
  });

  it('the depth rule holds for a spawn through the factory', () => {
    runtime = createRuntime({ run: async () => 'x', maxSpawnDepth: 1 });
    const parent = runtime.spawn();
    expect(() => runtime!.spawn({ parentId: parent.id })).toThrow(DepthLimitError);
  });
});

describe('bad input found trying the package as a new user', () => {
  const fake = { chat: { completions: { create: () => Promise.reject(new Error('unused')) } } } as never;
  const refusal = (make: () => unknown): BadArgumentError => {
    try {
      make();
    } catch (error) {
      if (error instanceof BadArgumentError) return error;
      throw error;
    }
    throw new Error('expected a BadArgumentError, nothing was thrown');
  };

  it('a misspelt option is refused, naming the option it is closest to', () => {
    const cases: Array<[() => unknown, string, string]> = [
      [() => createRuntime({ run: async () => 'x', maxConcurentChildren: 2 } as never), 'maxConcurentChildren', 'maxConcurrentChildren'],
      [() => modelRun({ client: fake, model: 'm', maxConcurrentRequests: 1 } as never), 'maxConcurrentRequests', ''],
      [() => modelRun({ providers: { a: { client: fake, modle: 'x' } as never }, model: 'm' }), 'providers.a.modle', 'model'],
      [() => createRuntime({ run: async () => 'x' }).spawn({ mesage: 'hi' } as never), 'mesage', 'message'],
    ];
    for (const [make, argument, near] of cases) {
      const error = refusal(make);
      expect(error.argument).toBe(argument);
      expect(error.message).toContain(near ? `did you mean \`${near}\`?` : 'the options are client, providers, model');
    }
  });

  it('spawn checks agent type, toolsets and provider the same way whatever the run', () => {
    runtime = createRuntime({ run: async () => 'x' });
    expect(refusal(() => runtime!.spawn({ message: 'hi', agentType: 'nope' })).argument).toBe('agentType');
    expect(refusal(() => runtime!.spawn({ message: 'hi', toolsets: 'read' as never })).argument).toBe('toolsets');
    expect(refusal(() => runtime!.spawn({ message: 'hi', provider: 'local' })).message).toMatch(/your own `run` function, which has no providers/);
    expect(runtime.list()).toEqual([]);
  });

  it('the runtime object does not show its supervisor actor', () => {
    runtime = createRuntime({ run: async () => 'x' });
    expect(Object.keys(runtime)).not.toContain('actor');
    expect(runtime.actor.getSnapshot().status).toBe('active');
  });
});
