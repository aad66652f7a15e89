import { connect, createServer } from 'node:net';
import { createWebSocketInspector, createWebSocketReceiver } from '@statelyai/inspect';
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, createMachine } from 'xstate';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { z } from 'zod';
import { createRuntime } from '../../src/runtime/create-runtime.js';
import type { SubagentsRuntime } from '../../src/runtime/create-runtime.js';
import {
  REDACTED,
  redactSecrets,
  sanitizeInspectionEvent,
  sanitizeInspectionObserver,
  sanitizeInspectionValue,
} from '../../src/runtime/inspection.js';
import { reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { defineTool } from '../../src/tools/define-tool.js';

const API_KEY = 'sk-test-SECRET-123';

class FakeClient {
  apiKey = API_KEY;
}

function snapshotEvent(context: unknown): InspectionEvent {
  const machine = createMachine({ id: 'probe', context: context as Record<string, unknown> });
  const actor = createActor(machine);
  return { type: '@xstate.snapshot', rootId: 'x', actorRef: actor, event: { type: 'PING' }, snapshot: actor.getSnapshot() };
}

describe('sanitizing inspection events', () => {
  it('redacts key-shaped strings, given secrets and secret-named fields', () => {
    expect(redactSecrets(`use ${API_KEY} now`)).toBe(`use ${REDACTED} now`);
    expect(redactSecrets('Authorization: Bearer abcdefghijkl')).toBe(`Authorization: ${REDACTED}`);
    expect(redactSecrets('token=hunter2-local', ['hunter2-local'])).toBe(`token=${REDACTED}`);
    expect(redactSecrets('plain words stay')).toBe('plain words stay');
    const value = sanitizeInspectionValue({ apiKey: 'x', authorization: 'y', nested: { password: 'p', inputTokens: 3 } });
    expect(value).toEqual({ apiKey: REDACTED, authorization: REDACTED, nested: { password: REDACTED, inputTokens: 3 } });
  });

  it('replaces client objects and other class instances by their name, and never serialises their fields', () => {
    const value = sanitizeInspectionValue({ llm: new FakeClient(), when: new Date(0), error: new Error(`bad key ${API_KEY}`) });
    expect(value).toEqual({ llm: '[FakeClient]', when: '1970-01-01T00:00:00.000Z', error: { name: 'Error', message: `bad key ${REDACTED}` } });
    expect(JSON.stringify(value)).not.toContain('SECRET');
  });

  it('cuts long strings and long arrays, and survives cycles', () => {
    const cyclic: Record<string, unknown> = { text: 'a'.repeat(1_000), list: Array.from({ length: 50 }, (_, index) => index) };
    cyclic.self = cyclic;
    const value = sanitizeInspectionValue(cyclic, { maxStringLength: 100, maxArrayItems: 5 }) as Record<string, unknown>;
    expect(value.text).toBe(`${'a'.repeat(100)}… [1000 chars]`);
    expect(value.list).toEqual([0, 1, 2, 3, 4, '… 45 more']);
    expect(value.self).toBe('[circular]');
  });

  it("replaces the supervisor's tree and slot bookkeeping with counts, keeping the snapshot's methods", () => {
    const event = snapshotEvent({
      limits: { maxSpawnDepth: 1 },
      paused: false,
      tree: { a: { key: '0', parentId: null, depth: 1, children: [] }, b: { key: '1', parentId: null, depth: 1, children: [] } },
      slots: { runningTotal: 1, waiting: { '1': 1 }, queues: { '@root': { items: [], head: 0 } } },
    });
    const sanitized = sanitizeInspectionEvent(event);
    assertType(sanitized, '@xstate.snapshot');
    const context = (sanitized.snapshot as unknown as { context: Record<string, unknown> }).context;
    expect(context).toEqual({ limits: { maxSpawnDepth: 1 }, paused: false, handleCount: 2, runningCount: 1, waitingForSlotCount: 1 });
    const snapshot = sanitized.snapshot as unknown as { matches(value: string): boolean; toJSON(): { context: unknown } };
    expect(snapshot.toJSON().context).toEqual(context);
    expect(sanitized.event).toEqual({ type: 'PING' });
  });

  it('hands observers actor references whose snapshots are sanitized, one wrapper per actor', () => {
    const received: InspectionEvent[] = [];
    const observer = sanitizeInspectionObserver((event) => received.push(event));
    const machine = createMachine({ id: 'holder', context: { client: new FakeClient(), note: `key ${API_KEY}` } });
    const actor = createActor(machine, { inspect: observer });
    actor.start();
    actor.send({ type: 'HELLO', secret: 'x', text: API_KEY });
    actor.stop();
    const actorEvents = received.filter((event) => event.type === '@xstate.actor');
    expect(actorEvents.length).toBeGreaterThan(0);
    const ref = actorEvents[0]!.actorRef as AnyActorRef;
    expect((ref.getSnapshot() as { context: unknown }).context).toEqual({ client: REDACTED, note: `key ${REDACTED}` });
    expect(received.filter((event) => event.actorRef.sessionId === actor.sessionId).every((event) => event.actorRef === ref)).toBe(true);
    const sent = received.find((event) => event.type === '@xstate.event' && event.event.type === 'HELLO');
    expect(sent && 'event' in sent ? sent.event : null).toEqual({ type: 'HELLO', secret: REDACTED, text: REDACTED });
    // Wrapping twice changes nothing.
    expect(sanitizeInspectionObserver(observer)).toBe(observer);
  });

  it('drops an event it cannot sanitize instead of passing it on raw', () => {
    const received: InspectionEvent[] = [];
    const observer = sanitizeInspectionObserver({ next: (event) => received.push(event) });
    const hostile = { get value(): string {
      throw new Error('no');
    } };
    observer.next?.(snapshotEvent({ hostile }));
    expect(received).toEqual([]);
  });
});

function assertType<T extends InspectionEvent['type']>(event: InspectionEvent, type: T): asserts event is Extract<InspectionEvent, { type: T }> {
  expect(event.type).toBe(type);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

describe('a run streamed to the Stately inspector over a real WebSocket relay', () => {
  let server: FakeServer | undefined;
  let runtime: SubagentsRuntime | undefined;
  const stops: Array<() => void> = [];
  afterEach(async () => {
    await runtime?.shutdown();
    await server?.close();
    for (const stop of stops.splice(0)) stop();
  });

  it('receives actor and snapshot events for the supervisor and every handle, none with the API key or a large blob', async () => {
    const port = await freePort();
    const relay = createInspectorServer({ port, autoOpen: false });
    stops.push(() => relay.stop());
    const received: StatelyInspectionEvent[] = [];
    const raw: string[] = [];
    // The relay listens asynchronously and says nothing when it does: connect until it answers.
    await vi.waitFor(
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1');
          socket.once('connect', () => {
            socket.destroy();
            resolve();
          });
          socket.once('error', reject);
        }),
      { timeout: 3_000, interval: 20 },
    );
    const receiver = createWebSocketReceiver({ server: `ws://127.0.0.1:${port}` });
    receiver.subscribe((event) => {
      received.push(event);
      raw.push(JSON.stringify(event));
    });
    const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}` });
    stops.unshift(() => inspector.stop());

    const lookup = defineTool({
      name: 'lookup',
      toolset: 'read',
      description: 'Looks a word up.',
      parameters: z.object({ word: z.string() }),
      execute: ({ word }) => `definition of ${word} `.repeat(100),
    });
    server = await startFakeServer({
      script: scriptByConversation((turn) =>
        turn.lastRole === 'tool' ? reply.text(`done: ${'x'.repeat(2_000)}`) : reply.toolCall('lookup', { word: 'alpha' }),
      ),
    });
    const client = new OpenAI({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0 });
    runtime = createRuntime({ client, model: 'fake-model', tools: [lookup], inspect: sanitizeInspectionObserver(inspector.inspect) });
    const outcome = await runtime.delegate({
      tasks: [
        { goal: `Define alpha; the service key is ${API_KEY}`, context: 'long context '.repeat(200) },
        { goal: 'Define beta' },
      ],
    });
    expect(outcome.results.map((result) => result.status)).toEqual(['completed', 'completed']);
    const ids = outcome.results.map((result) => result.handleId);
    // The raw state does hold the key and the blobs: the inspector stream must not.
    expect(runtime.get(ids[0]!).goal).toContain(API_KEY);
    expect(runtime.get(ids[0]!).lastOutput!.length).toBeGreaterThan(2_000);

    const contextOf = (event: StatelyInspectionEvent) =>
      (event.type === '@xstate.event' ? undefined : (event.snapshot as { context?: Record<string, unknown> } | undefined)?.context) ?? {};
    await vi.waitFor(
      () => {
        for (const id of ids) {
          expect(received.some((event) => event.type === '@xstate.actor' && contextOf(event).id === id)).toBe(true);
          expect(
            received.some((event) => event.type === '@xstate.snapshot' && contextOf(event).id === id && contextOf(event).runsEnded === 1),
          ).toBe(true);
        }
      },
      { timeout: 5_000, interval: 25 },
    );
    const supervisorActor = received.find((event) => event.type === '@xstate.actor' && event.name === 'supervisor');
    expect(supervisorActor).toBeDefined();
    const supervisorSnapshots = received.filter((event) => event.type === '@xstate.snapshot' && 'handleCount' in contextOf(event));
    expect(supervisorSnapshots.length).toBeGreaterThan(0);
    expect(supervisorSnapshots.every((event) => !('tree' in contextOf(event)) && !('slots' in contextOf(event)))).toBe(true);
    expect(contextOf(supervisorSnapshots.at(-1)!).handleCount).toBe(2);

    expect(raw.length).toBeGreaterThan(0);
    for (const message of raw) {
      expect(message).not.toContain(API_KEY);
      expect(message).not.toContain('SECRET');
      expect(message).not.toContain('x'.repeat(400));
      expect(message).not.toContain('long context '.repeat(40));
    }
  });
});
