import { connect, createServer } from 'node:net';
import { createWebSocketInspector, createWebSocketReceiver } from '@statelyai/inspect';
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, createMachine } from 'xstate';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { z } from 'zod';
import { SupervisorBook } from '../../src/machines/supervisor-book.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import {
  REDACTED,
  redactSecrets,
  sanitizeInspectionEvent,
  sanitizeInspectionObserver,
  sanitizeInspectionValue,
} from '../../src/runtime/inspection.js';
import { reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { defineTool } from '../../src/toolkit/define-tool.js';

const API_KEY = 'sk-test-SECRET-123';

class FakeClient {
  apiKey = API_KEY;
}

type SnapshotEvent = Extract<InspectionEvent, { type: '@xstate.snapshot' }>;

function snapshotEvent(context: unknown): SnapshotEvent {
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

  it("shows the supervisor's book as the counts its toJSON gives, keeping the snapshot's methods", () => {
    const book = new SupervisorBook({ maxConcurrentChildren: 1, maxConcurrentRuns: null });
    book.admit('a', null);
    book.admit('b', null);
    book.requestSlot('0', 1, null);
    book.requestSlot('1', 1, null);
    const event = snapshotEvent({ limits: { maxSpawnDepth: 1 }, paused: false, book });
    const sanitized = sanitizeInspectionEvent(event);
    assertType(sanitized, '@xstate.snapshot');
    const context = (sanitized.snapshot as unknown as { context: Record<string, unknown> }).context;
    expect(context).toEqual({
      limits: { maxSpawnDepth: 1 },
      paused: false,
      book: {
        handles: 2,
        running: 1,
        waiting: 1,
        spawned: 2,
        maxConcurrentChildren: 1,
        maxConcurrentRuns: null,
        parentsRunning: 1,
        parentsWaiting: 1,
        byParent: { '@root': { running: 1, waiting: 1 } },
      },
    });
    // The same as JSON gives, since the projection is plain data already.
    expect(context.book).toEqual(JSON.parse(JSON.stringify(book)));
    const snapshot = sanitized.snapshot as unknown as { matches(value: string): boolean; toJSON(): { context: unknown } };
    expect(snapshot.toJSON().context).toEqual(context);
    expect(sanitized.event).toEqual({ type: 'PING' });
  });

  it('shows other objects with toJSON as it says, sanitized, and never a projection of a projection', () => {
    class Tokened {
      toJSON() {
        return { apiKey: 'x', note: `key ${API_KEY}`, when: new Date(0) };
      }
    }
    class Opaque {
      toJSON() {
        return new FakeClient();
      }
    }
    const value = sanitizeInspectionValue({ tokened: new Tokened(), opaque: new Opaque() });
    expect(value).toEqual({ tokened: { apiKey: REDACTED, note: `key ${REDACTED}`, when: '1970-01-01T00:00:00.000Z' }, opaque: '[Opaque]' });
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

/** The context of a sanitized snapshot-carrying event. */
function contextOf(event: InspectionEvent | undefined): unknown {
  return event && 'snapshot' in event ? (event.snapshot as { context?: unknown }).context : undefined;
}

/** Events as an inspector sends them on: JSON, actor references as `{ xstate$$type, id }`. */
function serialize(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'function' ? `[function ${(item as { name: string }).name}]` : item));
}

describe('sanitizing every event afresh', () => {
  it('sanitizes a snapshot object anew when its context is swapped, and redacts what a new context brings', () => {
    const received: InspectionEvent[] = [];
    const observer = sanitizeInspectionObserver((event) => received.push(event));
    const shared = { notes: ['first'], meta: { kind: 'plain' } };
    const event = snapshotEvent({ shared, note: 'clean' });
    observer.next?.(event);
    observer.next?.(event);
    // The same snapshot object, its context replaced by one holding the key (XState never does this: nothing may rely on it).
    const snapshot = event.snapshot as unknown as Record<string, unknown>;
    snapshot.context = { shared, note: `now ${API_KEY}` };
    observer.next?.(event);
    // A new snapshot sharing the nested object, with the key in a new nested object, an output and an error.
    const next = { ...snapshot, context: { shared, extra: { deep: { token: 'x', text: API_KEY } } }, output: API_KEY, error: new Error(API_KEY) };
    observer.next?.({ ...event, snapshot: next as unknown as SnapshotEvent['snapshot'] });
    // The first snapshot again: its fields are what they are now.
    snapshot.output = { apiKey: 'plain-looking', note: API_KEY };
    observer.next?.(event);

    const clean = { notes: ['first'], meta: { kind: 'plain' } };
    expect(received.map(contextOf)).toEqual([
      { shared: clean, note: 'clean' },
      { shared: clean, note: 'clean' },
      { shared: clean, note: `now ${REDACTED}` },
      { shared: clean, extra: { deep: { token: REDACTED, text: REDACTED } } },
      { shared: clean, note: `now ${REDACTED}` },
    ]);
    expect((received[3] as { snapshot: { output: unknown; error: unknown } }).snapshot.output).toBe(REDACTED);
    expect((received[3] as { snapshot: { output: unknown; error: unknown } }).snapshot.error).toEqual({ name: 'Error', message: REDACTED });
    expect((received[4] as { snapshot: { output: unknown } }).snapshot.output).toEqual({ apiKey: REDACTED, note: REDACTED });
    expect(serialize(received)).not.toContain('SECRET');
  });

  it("shows the supervisor's book as it is at each event, though the context object stays the same", () => {
    const received: InspectionEvent[] = [];
    const observer = sanitizeInspectionObserver((event) => received.push(event));
    const book = new SupervisorBook({ maxConcurrentChildren: 1, maxConcurrentRuns: null });
    const event = snapshotEvent({ limits: { maxSpawnDepth: 1 }, paused: false, book });
    const snapshot = event.snapshot as unknown as { context: Record<string, unknown> };
    const live = snapshot.context;
    const summary = (value: unknown) => {
      const { book: shown, paused, limits, note } = value as { book: { handles: number; running: number; waiting: number }; paused: unknown; limits: unknown; note: unknown };
      return { handles: shown.handles, running: shown.running, waiting: shown.waiting, paused, limits, note };
    };
    observer.next?.(event);
    book.admit('a', null);
    book.admit('b', null);
    book.requestSlot('0', 1, null);
    book.requestSlot('1', 1, null);
    live.paused = true;
    (live.limits as { maxSpawnDepth: number }).maxSpawnDepth = 5;
    observer.next?.(event);
    book.admit('c', 'a');
    book.releaseSlot('0', 1, null);
    live.limits = { maxSpawnDepth: 2 };
    live.note = `key ${API_KEY}`;
    // A new snapshot object around the same context, as the supervisor's next transition makes.
    observer.next?.({ ...event, snapshot: { ...snapshot } as unknown as SnapshotEvent['snapshot'] });
    const ref = received[0]!.actorRef as AnyActorRef;
    book.admit('d', null);

    expect(received.map((item) => summary(contextOf(item)))).toEqual([
      { handles: 0, running: 0, waiting: 0, paused: false, limits: { maxSpawnDepth: 1 }, note: undefined },
      { handles: 2, running: 1, waiting: 1, paused: true, limits: { maxSpawnDepth: 5 }, note: undefined },
      { handles: 3, running: 1, waiting: 0, paused: true, limits: { maxSpawnDepth: 2 }, note: `key ${REDACTED}` },
    ]);
    // The actor reference answers with the counts of now.
    expect(summary((ref.getSnapshot() as { context: unknown }).context).handles).toBe(4);
  });

  it('cuts a shared object by the depth it is met at, whichever depth comes first', () => {
    const shared = { a: { b: { c: 1 } } };
    const full = { a: { b: { c: 1 } } };
    const cutOnce = { a: { b: '[object]' } };
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 0, 2],
    ]) {
      const received: InspectionEvent[] = [];
      const observer = sanitizeInspectionObserver((event) => received.push(event), { maxDepth: 3 });
      const nest = (depth: number): unknown => (depth === 0 ? shared : { wrap: nest(depth - 1) });
      for (const depth of order) observer.next?.(snapshotEvent(nest(depth)));
      const expected = { 0: full, 1: { wrap: cutOnce }, 2: { wrap: { wrap: { a: '[object]' } } } };
      expect(received.map(contextOf)).toEqual(order.map((depth) => expected[depth as 0 | 1 | 2]));
    }
  });

  it('keeps cycles and shared objects apart across events', () => {
    const received: InspectionEvent[] = [];
    const observer = sanitizeInspectionObserver((event) => received.push(event));
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const leaf = { name: 'leaf' };
    const x: Record<string, unknown> = { name: 'x' };
    const y: Record<string, unknown> = { name: 'y', x };
    x.y = y;
    observer.next?.(snapshotEvent({ cyclic }));
    observer.next?.(snapshotEvent({ cyclic, twice: [leaf, leaf] }));
    observer.next?.(snapshotEvent({ inner: cyclic.self }));
    // Where a cycle closes depends on where it was entered: y met inside x first, then on its own.
    observer.next?.(snapshotEvent({ x }));
    observer.next?.(snapshotEvent({ y }));
    observer.next?.(snapshotEvent({ x }));
    expect(received.map(contextOf)).toEqual([
      { cyclic: { name: 'loop', self: '[circular]' } },
      { cyclic: { name: 'loop', self: '[circular]' }, twice: [{ name: 'leaf' }, { name: 'leaf' }] },
      { inner: { name: 'loop', self: '[circular]' } },
      { x: { name: 'x', y: { name: 'y', x: '[circular]' } } },
      { y: { name: 'y', x: { name: 'x', y: '[circular]' } } },
      { x: { name: 'x', y: { name: 'y', x: '[circular]' } } },
    ]);
  });

  it('sanitizes action parameters afresh every time: they may be read from mutable state', () => {
    const received: InspectionEvent[] = [];
    const observer = sanitizeInspectionObserver((event) => received.push(event));
    const actorRef = createActor(createMachine({ id: 'acting' }));
    const params: Record<string, unknown> = { count: 1, note: 'plain' };
    const action = (): InspectionEvent => ({ type: '@xstate.action', rootId: 'x', actorRef, action: { type: 'act', params } });
    observer.next?.(action());
    params.count = 2;
    params.note = `now ${API_KEY}`;
    observer.next?.(action());
    expect(received.map((event) => (event.type === '@xstate.action' ? event.action.params : undefined))).toEqual([
      { count: 1, note: 'plain' },
      { count: 2, note: `now ${REDACTED}` },
    ]);
  });

  it('applies each observer its own settings: what another redacts nothing of is still redacted here', () => {
    const plain: InspectionEvent[] = [];
    const guarded: InspectionEvent[] = [];
    const open = sanitizeInspectionObserver((event) => plain.push(event));
    const strict = sanitizeInspectionObserver((event) => guarded.push(event), { secrets: ['hunter2-local'], maxStringLength: 10 });
    const event = snapshotEvent({ password: 'x', text: 'token=hunter2-local', list: ['token=hunter2-local'] });
    open.next?.(event);
    strict.next?.(event);
    open.next?.(event);
    expect(contextOf(plain[0])).toEqual({ password: REDACTED, text: 'token=hunter2-local', list: ['token=hunter2-local'] });
    expect(contextOf(guarded[0])).toEqual({ password: REDACTED, text: 'token=[red… [16 chars]', list: ['token=[red… [16 chars]'] });
    expect(contextOf(plain[1])).toEqual(contextOf(plain[0]));
  });

  it('sanitizes every string right, however many distinct ones come and whichever come again', () => {
    const received: InspectionEvent[] = [];
    const observer = sanitizeInspectionObserver((event) => received.push(event), { maxStringLength: 30 });
    const text = (index: number) => (index % 3 === 0 ? `note ${index} ${API_KEY}` : `note ${index} ${'w'.repeat(40)}`);
    const expected = (index: number) => (index % 3 === 0 ? `note ${index} ${REDACTED}` : `${`note ${index} ${'w'.repeat(40)}`.slice(0, 30)}… [${`note ${index}`.length + 41} chars]`);
    // More distinct strings than are kept, then the first ones again.
    const indexes = [...Array.from({ length: 10_000 }, (_, index) => index), 0, 1, 2, 3, 9_999];
    const base = snapshotEvent({});
    for (const index of indexes) {
      observer.next?.({ ...base, snapshot: { ...base.snapshot, context: { text: text(index) } } as unknown as SnapshotEvent['snapshot'] });
    }
    expect(received.map(contextOf)).toEqual(indexes.map((index) => ({ text: expected(index) })));
  });

  it('redacts the same after the one-scan check as every pattern in turn', () => {
    expect(redactSecrets('BEARER abcdefghijkl and bAsIc abcdefghijkl')).toBe(`${REDACTED} and ${REDACTED}`);
    expect(redactSecrets('AKIA1234567890ABCDEF ghp_aaaaaaaaaaaaaaaaaaaaaaaaa xoxb-1234567890')).toBe(`${REDACTED} ${REDACTED} ${REDACTED}`);
    expect(redactSecrets('eyJaaaaaaaaaaaa.bbbbbbbbbbbb.cccccccccccc')).toBe(REDACTED);
    // A key cut short by an earlier match would leave its tail: the patterns still apply one after the other.
    expect(redactSecrets('Bearer abcdefgh/sk-abcd_efghijklmnop')).not.toContain('efghijklmnop');
    // Removing a given secret can put a key-shaped text on a word boundary.
    expect(redactSecrets('hunter2-localsk-abcdefghijkl', ['hunter2-local'])).toBe(`${REDACTED}${REDACTED}`);
  });

  describe('on a real runtime', () => {
    let core: Runtime | undefined;
    afterEach(async () => {
      await core?.shutdown();
      core = undefined;
    });

    it('hands out, for every event, what sanitizing that event alone gives', async () => {
      const options = { maxDepth: 4, maxArrayItems: 3, maxStringLength: 40, secrets: ['hunter2-local'] };
      const cached: string[] = [];
      const fresh: string[] = [];
      const observer = sanitizeInspectionObserver((event) => cached.push(serialize(event)), options);
      // Marked as sanitized so that the runtime hands it the raw events, which it sanitizes both ways at once.
      const both = {
        next: (event: InspectionEvent) => {
          observer.next?.(event);
          fresh.push(serialize(sanitizeInspectionEvent(event, options)));
        },
        [Symbol.for('subagents.sanitizedInspectionObserver')]: true,
      };
      const runs = 3 * 4;
      let ended = 0;
      let allEnded: () => void = () => {};
      const done = new Promise<void>((resolve) => (allEnded = resolve));
      core = createRuntime({
        run: async (input) => `ran ${input} with ${API_KEY} ${'z'.repeat(100)}`,
        maxConcurrentChildren: 2,
        inspect: both,
        onSubagentStop: () => {
          ended += 1;
          if (ended === runs) allEnded();
        },
      });
      const ids = [0, 1, 2].map((index) => core!.spawn({ goal: `goal ${index} hunter2-local` }).id);
      for (let input = 0; input < 4; input += 1) for (const id of ids) core.send(id, `input ${input} Bearer abcdefghijkl`);
      await done;
      expect(cached.length).toBeGreaterThan(100);
      expect(cached).toEqual(fresh);
      for (const message of cached) {
        expect(message).not.toContain(API_KEY);
        expect(message).not.toContain('hunter2-local');
        expect(message).not.toContain('abcdefghijkl');
      }
      expect(cached.some((message) => message.includes('"handles":3'))).toBe(true);
    });
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
    }).result;
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
          expect(received.some((event) => event.type === '@xstate.actor' && (contextOf(event).spec as { id?: unknown } | undefined)?.id === id)).toBe(true);
          expect(
            received.some((event) => event.type === '@xstate.snapshot' && (contextOf(event).spec as { id?: unknown } | undefined)?.id === id && (contextOf(event).results as { runsEnded?: unknown } | undefined)?.runsEnded === 1),
          ).toBe(true);
        }
      },
      { timeout: 5_000, interval: 25 },
    );
    const supervisorActor = received.find((event) => event.type === '@xstate.actor' && event.name === 'supervisor');
    expect(supervisorActor).toBeDefined();
    const bookOf = (event: StatelyInspectionEvent) => contextOf(event).book as { handles?: unknown } | undefined;
    const supervisorSnapshots = received.filter((event) => event.type === '@xstate.snapshot' && bookOf(event) !== undefined);
    expect(supervisorSnapshots.length).toBeGreaterThan(0);
    // The book as counts, never the handles one by one.
    expect(supervisorSnapshots.every((event) => Object.keys(bookOf(event)!).every((key) => key !== 'tree' && key !== 'slots'))).toBe(true);
    expect(bookOf(supervisorSnapshots.at(-1)!)?.handles).toBe(2);

    expect(raw.length).toBeGreaterThan(0);
    for (const message of raw) {
      expect(message).not.toContain(API_KEY);
      expect(message).not.toContain('SECRET');
      expect(message).not.toContain('x'.repeat(400));
      expect(message).not.toContain('long context '.repeat(40));
    }
  });
});
