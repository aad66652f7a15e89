import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import { handleSystemId } from '../../src/machines/supervisor.js';
import type { HandleMachine } from '../../src/machines/handle.js';
import { HANDLES } from '../../src/runtime/durable-handles.js';
import type { StoredHandle } from '../../src/runtime/durable-handles.js';
import { fileStore } from '../../src/store/index.js';
import type { Store, StorePatch } from '../../src/store/index.js';
import { reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import type { ActorRefFrom } from 'xstate';
import { closeAfterEach } from '../support/cleanup.js';
import { lookup } from '../support/sample-tools.js';

let server: FakeServer | undefined;
let runtime: SubagentsRuntime | undefined;
closeAfterEach(() => [runtime, server]);

const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

type Plain = Record<string, unknown>;
/** A patch applied the plain way, to a copy: every path must be there already (the handle writer never relies on a store making one). */
function applyStrictly(value: unknown, patch: StorePatch): unknown {
  const copy = structuredClone(value) as Plain;
  const parentOf = (keys: readonly string[]) => keys.slice(0, -1).reduce<Plain>((node, key) => {
    if (typeof node[key] !== 'object' || node[key] === null) throw new Error(`a patch path through ${key}, which is ${JSON.stringify(node[key])}`);
    return node[key] as Plain;
  }, copy);
  for (const [keys, next] of patch.set ?? []) parentOf(keys)[keys.at(-1)!] = json(next);
  for (const [keys, items] of patch.append ?? []) (parentOf(keys)[keys.at(-1)!] as unknown[]).push(...(json(items) as unknown[]));
  return copy;
}

/**
 * A file store that checks every handle write: the record a plain reading of
 * what was written gives must be the handle's chart as it is at that moment.
 */
function checkingStore(directory: string, chartOf: (key: string) => StoredHandle) {
  const inner = fileStore(directory, { compactMinBytes: Number.MAX_SAFE_INTEGER });
  const records = new Map<string, unknown>();
  const keys = new Map<string, string>();
  const seen = { puts: 0, patches: 0, wholeBytes: 0, mismatches: [] as string[] };
  const check = (id: string) => {
    const chart = json(chartOf(keys.get(id)!));
    seen.wholeBytes += JSON.stringify({ c: HANDLES, k: id, v: chart }).length + 1;
    if (!isDeepStrictEqual(records.get(id), chart)) seen.mismatches.push(`${id}: wrote ${JSON.stringify(records.get(id))}, the chart holds ${JSON.stringify(chart)}`);
  };
  const store: Store = {
    kind: 'file',
    get closed() {
      return inner.closed;
    },
    load: () => inner.load(),
    put(collection, key, value) {
      inner.put(collection, key, value);
      if (collection !== HANDLES) return;
      seen.puts += 1;
      records.set(key, json(value));
      keys.set(key, String((value as StoredHandle).order));
      check(key);
    },
    patch(collection, key, patch) {
      inner.patch!(collection, key, patch);
      if (collection !== HANDLES) return;
      seen.patches += 1;
      records.set(key, applyStrictly(records.get(key), patch));
      check(key);
    },
    remove: (collection, key) => inner.remove(collection, key),
    sync: () => inner.sync(),
    compact: () => inner.compact(),
    close: () => inner.close(),
  };
  return { store, records, seen };
}

describe('handles written as patches', () => {
  it('every write leaves the record equal to the chart, whatever the chart did; a journal a fraction of whole rewrites', async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) => {
        if (turn.lastUserText.includes('hang')) return reply.hang();
        const word = /word (\w+)/.exec(turn.lastUserText)?.[1] ?? 'none';
        if (turn.lastRole === 'tool') return reply.text(`answer for ${word}: ${turn.toolResults[0]?.content}`, { usage: { promptTokens: 20, completionTokens: 5 } });
        return reply.toolCall('lookup', { word }, { usage: { promptTokens: 10, completionTokens: 3 } });
      }),
    });
    const directory = mkdtempSync(path.join(tmpdir(), 'subagents-handle-patches-'));
    const chartOf = (key: string): StoredHandle => {
      const snapshot = (runtime!.actor.system.get(handleSystemId(key)) as ActorRefFrom<HandleMachine>).getSnapshot();
      return { order: Number(snapshot.context.spec.key), state: snapshot.value, context: snapshot.context };
    };
    const { store, records, seen } = checkingStore(directory, chartOf);
    const client = new OpenAI({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0 });
    runtime = createRuntime({ client, model: 'fake-model', tools: [lookup], store, maxConcurrentChildren: 2 });

    // Three children for two slots: one waits for its slot.
    const outcome = await runtime.delegate({ tasks: ['alpha', 'beta', 'gamma'].map((word) => ({ goal: `define word ${word}` })) }).result;
    expect(outcome.results.map((result) => result.summary)).toEqual(['answer for alpha: definition of alpha', 'answer for beta: definition of beta', 'answer for gamma: definition of gamma']);

    // A handle with a conversation over runs, an interrupted run, a queue kept and resumed.
    runtime.spawn({ name: 'w', message: 'define word delta' });
    await runtime.wait('w');
    runtime.send('w', 'define word epsilon');
    await runtime.wait('w');
    runtime.send('w', 'hang here');
    runtime.send('w', 'define word zeta');
    while (!server.requests.some((request) => JSON.stringify(request.body.messages).includes('hang here'))) await new Promise((resolve) => setImmediate(resolve));
    runtime.interrupt('w');
    expect(runtime.get('w')).toMatchObject({ status: 'interrupted', queueSize: 1 });
    runtime.resume('w');
    await runtime.wait('w');
    expect(runtime.get('w')).toMatchObject({ status: 'completed', lastOutput: 'answer for zeta: definition of zeta', runs: 4 });
    runtime.close('w');

    expect(seen.mismatches.slice(0, 3)).toEqual([]);
    // Each handle is written whole once, then as patches.
    expect(seen.puts).toBe(4);
    expect(seen.patches).toBeGreaterThan(40);
    const journalBytes = readdirSync(directory)
      .filter((name) => name.startsWith('journal-'))
      .reduce((sum, name) => sum + statSync(path.join(directory, name)).size, 0);
    expect(journalBytes).toBeLessThan(seen.wholeBytes / 3);

    // What a new process reads back (after the compaction at shutdown) is what was checked.
    await runtime.shutdown({ keep: true });
    runtime = undefined;
    const reopened = fileStore(directory);
    try {
      expect(Object.fromEntries(reopened.load().get(HANDLES) ?? [])).toEqual(Object.fromEntries(records));
    } finally {
      reopened.close();
    }
  }, 60_000);
});
