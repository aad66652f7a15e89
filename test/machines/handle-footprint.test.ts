import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import type { ActorRefFrom } from 'xstate';
import type { HandleMachine } from '../../src/machines/handle.js';
import { handleSystemId } from '../../src/machines/supervisor.js';
import { compactActorOptions, setupSharing } from '../../src/machines/handle-footprint.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { HandleSetup } from '../../src/types.js';

const setupOf = (overrides: Partial<HandleSetup> = {}): HandleSetup => ({
  systemPrompt: 'You are a subagent. Work on the inputs you are sent.',
  tools: ['read_file', 'lookup'],
  model: 'm',
  provider: 'default',
  maxIterations: 10,
  deniedToolsets: [],
  degradedToLeaf: false,
  cwd: '/work',
  isolation: 'none',
  inherited: [],
  maxConversationTokens: null,
  ...overrides,
});

describe('setupSharing', () => {
  it('gives back the setup it kept for an equal one, and keeps a different one', () => {
    const share = setupSharing();
    const first = setupOf();
    expect(share(first)).toBe(first);
    // Equal field by field (fresh strings and arrays): the first is shared.
    expect(share(setupOf({ systemPrompt: `You are a subagent. ${'Work on the inputs you are sent.'}`, tools: ['read_file', 'lookup'] }))).toBe(first);
    const otherPrompt = setupOf({ systemPrompt: 'Another goal' });
    expect(share(otherPrompt)).toBe(otherPrompt);
    // The last one kept is the one compared with.
    expect(share(setupOf({ systemPrompt: 'Another goal' }))).toBe(otherPrompt);
    expect(share(null)).toBeNull();
  });

  it('does not share setups whose lists differ, or whose inherited messages are other objects', () => {
    const share = setupSharing();
    const first = setupOf({ inherited: [{ role: 'user', content: 'hi' }] });
    share(first);
    const fewerTools = setupOf({ tools: ['read_file'], inherited: first.inherited });
    expect(share(fewerTools)).toBe(fewerTools);
    const sameTextOtherMessage = setupOf({ tools: ['read_file'], inherited: [{ role: 'user', content: 'hi' }] });
    expect(share(sameTextOtherMessage)).toBe(sameTextOtherMessage);
    const extraField = { ...setupOf({ tools: ['read_file'], inherited: sameTextOtherMessage.inherited }), extra: 1 } as HandleSetup;
    expect(share(extraField)).toBe(extraField);
  });

  it('lets handles spawned alike share one setup, and keeps each its own goal', () => {
    const runtime = createRuntime({ run: async () => 'ok' });
    try {
      const ids = [runtime.spawn().id, runtime.spawn().id, runtime.spawn({ goal: 'Something else' }).id];
      const setupOfHandle = (id: string) => {
        const { key } = runtime.actor.getSnapshot().context.book.entry(id)!;
        const ref = runtime.actor.system.get(handleSystemId(key)) as ActorRefFrom<HandleMachine>;
        return ref.getSnapshot().context.spec.setup;
      };
      const [a, b, c] = ids.map(setupOfHandle);
      expect(a).not.toBeNull();
      expect(a).toBe(b);
      expect(c).not.toBe(a);
      expect(c?.systemPrompt).toContain('Something else');
      expect(a?.systemPrompt).not.toContain('Something else');
    } finally {
      void runtime.shutdown();
    }
  });
});

describe('compactActorOptions', () => {
  it('keeps every option of a started actor, which still works', () => {
    const machine = createMachine({ initial: 'a', states: { a: { on: { GO: 'b' } }, b: {} } });
    const actor = createActor(machine, { id: 'x', input: { n: 1 } }).start();
    const before = { ...(actor as unknown as { options: Record<string, unknown> }).options };
    compactActorOptions(actor);
    const after = (actor as unknown as { options: Record<string, unknown> }).options;
    expect(after).toEqual(before);
    actor.send({ type: 'GO' });
    expect(actor.getSnapshot().value).toBe('b');
    actor.stop();
  });
});
