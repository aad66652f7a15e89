import { describe, expect, it } from 'vitest';
import { EventHub } from '../../src/runtime/events.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { createRuntime } from '../../src/agent/create-runtime.js';

const dropped = (count: number): RuntimeEvent => ({ type: 'events-dropped', count });
const flush = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('EventHub listeners of some types', () => {
  it('delivers only the types a listener takes, and says which types anyone wants', async () => {
    const hub = new EventHub((error) => {
      throw error;
    });
    expect(hub.wants('events-dropped')).toBe(false);
    const typed: RuntimeEvent[] = [];
    const stopTyped = hub.subscribe((event) => typed.push(event), ['events-dropped']);
    expect(hub.wants('events-dropped')).toBe(true);
    expect(hub.wants('handle-update')).toBe(false);
    hub.emit(dropped(1));
    hub.emit({ type: 'delegation-end', delegationId: 'dg_1', background: false, parentId: null, results: [] });
    await flush();
    expect(typed).toEqual([dropped(1)]);

    const all: RuntimeEvent[] = [];
    const stopAll = hub.subscribe((event) => all.push(event));
    expect(hub.wants('handle-update')).toBe(true);
    hub.emit({ type: 'delegation-end', delegationId: 'dg_2', background: false, parentId: null, results: [] });
    await flush();
    expect(all.map((event) => event.type)).toEqual(['delegation-end']);
    expect(typed).toHaveLength(1);

    stopAll();
    stopAll();
    expect(hub.wants('handle-update')).toBe(false);
    stopTyped();
    expect(hub.wants('events-dropped')).toBe(false);
    expect(hub.wants('delegation-end')).toBe(false);
  });

  it('hooks alone build no handle-update events, and still see every run end', async () => {
    const ends: number[] = [];
    const runtime = createRuntime({ run: async (message) => `ok ${message}`, onSubagentStop: (event) => ends.push(event.runId) });
    const handle = runtime.spawn({ message: 'one' });
    await runtime.wait(handle.id);
    runtime.send(handle.id, 'two');
    await runtime.wait(handle.id);
    await flush();
    expect(ends).toEqual([1, 2]);
    // A listener added later sees updates from then on.
    const updates: string[] = [];
    runtime.subscribe((event) => {
      if (event.type === 'handle-update') updates.push(event.handle.status);
    });
    runtime.send(handle.id, 'three');
    await runtime.wait(handle.id);
    await flush();
    expect(updates).toEqual(['running', 'completed']);
    expect(ends).toEqual([1, 2, 3]);
    await runtime.shutdown();
  });
});
