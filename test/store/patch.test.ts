import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadArgumentError, StoreCorruptError } from '../../src/errors.js';
import { memoryStore, readFileStore } from '../../src/store/index.js';
import type { Store, StoreContents } from '../../src/store/index.js';
import { applyPatch } from '../../src/store/patch.js';
import { directoryBytes, useFileStores } from '../support/file-stores.js';

const { tempDir, openStore, closeStore } = useFileStores('subagents-patch-');
const plain = (contents: StoreContents) => Object.fromEntries([...contents].map(([name, records]) => [name, Object.fromEntries(records)]));
const journalLines = (dir: string) => readFileSync(path.join(dir, readdirSync(dir).find((name) => name.startsWith('journal-'))!), 'utf8').trim().split('\n');

/** A handle-like record, and the same changes made to it through patches and by hand. */
const first = () => ({ state: 'idle', context: { revision: 1, run: null as null | { messages: string[]; stats: { calls: number } }, results: { conversation: ['hello'], usage: { input: 0 } } } });
function writeChanges(store: Store): ReturnType<typeof first> {
  store.put('handle', 'h1', first());
  store.patch!('handle', 'h1', { set: [[['state'], { running: 'active' }], [['context', 'revision'], 2], [['context', 'run'], { messages: [], stats: { calls: 0 } }]] });
  store.patch!('handle', 'h1', { append: [[['context', 'run', 'messages'], ['m1', 'm2']]] });
  store.patch!('handle', 'h1', { set: [[['context', 'run', 'stats'], { calls: 1 }]], append: [[['context', 'run', 'messages'], ['m3']]] });
  store.patch!('handle', 'h1', {
    set: [[['state'], 'completed'], [['context', 'run'], null], [['context', 'results', 'usage', 'input'], 12]],
    append: [[['context', 'results', 'conversation'], ['m1', 'm2', 'm3']]],
  });
  const expected = first();
  expected.state = 'completed';
  expected.context.revision = 2;
  expected.context.results = { conversation: ['hello', 'm1', 'm2', 'm3'], usage: { input: 12 } };
  return expected;
}

describe('store patches', () => {
  it('a file store writes the changes only, gives back the value with them applied, after a reopen and a compaction too', () => {
    const dir = tempDir();
    const store = openStore(dir);
    const expected = writeChanges(store);
    store.put('other', 'x', 1);
    expect(plain(store.load())).toEqual({ handle: { h1: expected }, other: { x: 1 } });
    const lines = journalLines(dir);
    // One line per call: the put whole, each patch as its changes.
    expect(lines.map((line) => Object.keys(JSON.parse(line) as object).join())).toEqual(['c,k,v', 'c,k,s', 'c,k,a', 'c,k,s,a', 'c,k,s,a', 'c,k,v']);
    expect(lines[2]).toBe('{"c":"handle","k":"h1","a":[[["context","run","messages"],["m1","m2"]]]}');
    expect(plain(readFileStore(dir))).toEqual({ handle: { h1: expected }, other: { x: 1 } });
    closeStore(store);

    const reopened = openStore(dir);
    expect(plain(reopened.load())).toEqual({ handle: { h1: expected }, other: { x: 1 } });
    reopened.patch!('handle', 'h1', { set: [[['context', 'revision'], 3]] });
    reopened.compact();
    // A snapshot holds puts only: the patches merged into their record.
    const snapshot = readdirSync(dir).find((name) => name.startsWith('snapshot-'))!;
    const records = readFileSync(path.join(dir, snapshot), 'utf8').trim().split('\n').slice(1, -1);
    expect(records.map((line) => JSON.parse(line) as unknown)).toEqual([
      { c: 'handle', k: 'h1', v: { ...expected, context: { ...expected.context, revision: 3 } } },
      { c: 'other', k: 'x', v: 1 },
    ]);
    closeStore(reopened);
    expect(plain(openStore(dir).load())).toEqual({ handle: { h1: { ...expected, context: { ...expected.context, revision: 3 } } }, other: { x: 1 } });
  });

  it('a compaction on its own keeps patch lines in its snapshot; a reopen applies them', () => {
    const dir = tempDir();
    const store = openStore(dir, { compactMinBytes: 0 });
    store.put('c', 'a', { n: 0, list: [] });
    store.patch!('c', 'a', { set: [[['n'], 1]], append: [[['list'], ['x']]] });
    // Overwrites: the journal outgrows the live records, and is compacted.
    for (let index = 0; index < 3; index += 1) store.put('c', 'b', index);
    const snapshot = readdirSync(dir).find((name) => name.startsWith('snapshot-'));
    expect(snapshot).toBeDefined();
    expect(readFileSync(path.join(dir, snapshot!), 'utf8').split('\n').slice(1, 3)).toEqual(['{"c":"c","k":"a","v":{"n":0,"list":[]}}', '{"c":"c","k":"a","s":[[["n"],1]],"a":[[["list"],["x"]]]}']);
    closeStore(store);
    expect(plain(readFileStore(dir))).toEqual({ c: { a: { n: 1, list: ['x'] }, b: 2 } });
    expect(plain(openStore(dir).load())).toEqual({ c: { a: { n: 1, list: ['x'] }, b: 2 } });
  });

  it('a memory store gives back the same values, merging patches that outgrow their record', () => {
    const store = memoryStore();
    const expected = writeChanges(store);
    expect(plain(store.load())).toEqual({ handle: { h1: expected } });
    // Many more patches than the record's size: merged along the way, none lost.
    for (let index = 0; index < 500; index += 1) store.patch!('handle', 'h1', { set: [[['context', 'revision'], index]], append: [[['context', 'results', 'conversation'], [`n${index}`]]] });
    const value = store.load().get('handle')?.get('h1') as ReturnType<typeof first>;
    expect(value.context.revision).toBe(499);
    expect(value.context.results.conversation).toEqual(['hello', 'm1', 'm2', 'm3', ...Array.from({ length: 500 }, (_, index) => `n${index}`)]);
    // What is read back is a copy.
    value.context.revision = -1;
    expect((store.load().get('handle')?.get('h1') as ReturnType<typeof first>).context.revision).toBe(499);
  });

  it('refuses a patch of a record that is not there, and a patch that is not one, saying what was expected', () => {
    for (const store of [openStore(tempDir()), memoryStore()]) {
      expect(() => store.patch!('handle', 'nobody', { set: [[['a'], 1]] })).toThrow(/no record handle\/nobody to patch/);
      store.put('handle', 'h1', { a: 1 });
      expect(() => store.patch!('handle', 'h1', {})).toThrow(BadArgumentError);
      expect(() => store.patch!('handle', 'h1', { set: [[[], 1]] })).toThrow(/a non-empty list of keys/);
      expect(() => store.patch!('handle', 'h1', { set: [[['a'], undefined]] })).toThrow(/plain-JSON value/);
      expect(() => store.patch!('handle', 'h1', { append: [[['a'], 'x' as unknown as unknown[]]] })).toThrow(/a list of plain-JSON values/);
      expect(plain(store.load())).toEqual({ handle: { h1: { a: 1 } } });
    }
  });

  it('applies any patch to any value: missing or non-object keys on a path become objects, a missing list a new one', () => {
    expect(applyPatch({ a: 1, b: [1] }, { set: [[['a', 'x', 'y'], 2], [['c'], null]], append: [[['b'], [2, 3]], [['d', 'e'], ['z']], [['a', 'x'], [0]]] })).toEqual({
      a: { x: [0] },
      b: [1, 2, 3],
      c: null,
      d: { e: ['z'] },
    });
    expect(applyPatch(7, { set: [[['k'], 'v']] })).toEqual({ k: 'v' });
  });

  it('reads a journal of puts and removals written before patches existed', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'journal-0.jsonl'), ['{"c":"handle","k":"a","v":{"state":"idle"}}', '{"c":"handle","k":"b","v":{"state":"completed"}}', '{"c":"handle","k":"a","r":1}', ''].join('\n'));
    const store = openStore(dir);
    expect(plain(store.load())).toEqual({ handle: { b: { state: 'completed' } } });
    store.patch!('handle', 'b', { set: [[['state'], 'closed']] });
    closeStore(store);
    expect(plain(openStore(dir).load())).toEqual({ handle: { b: { state: 'closed' } } });
  });

  it('drops a torn last patch line; a patch of a record not there, or a malformed one, is a StoreCorruptError naming its line', () => {
    const dir = tempDir();
    const store = openStore(dir);
    store.put('c', 'k', { n: 1 });
    store.patch!('c', 'k', { set: [[['n'], 2]] });
    closeStore(store);
    appendFileSync(path.join(dir, 'journal-0.jsonl'), '{"c":"c","k":"k","s":[[["n"],3');
    const repaired = openStore(dir);
    expect(plain(repaired.load())).toEqual({ c: { k: { n: 2 } } });
    closeStore(repaired);

    appendFileSync(path.join(dir, 'journal-0.jsonl'), '{"c":"c","k":"gone","s":[[["n"],3]]}\n');
    const error = (() => {
      try {
        openStore(dir);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StoreCorruptError);
    expect(error).toMatchObject({ line: 3, reason: 'a patch of c/gone, a record not there' });

    const bad = tempDir();
    writeFileSync(path.join(bad, 'journal-0.jsonl'), '{"c":"c","k":"k","v":1}\n{"c":"c","k":"k","s":[["n",3]]}\n');
    expect(() => openStore(bad)).toThrow(StoreCorruptError);
  });

  it('stays bounded under endless patches of the same records', () => {
    const dir = tempDir();
    const compactMinBytes = 64 * 1024;
    const store = openStore(dir, { compactMinBytes });
    for (let index = 0; index < 100; index += 1) store.put('handles', `h${index}`, { index, text: '', tail: [] });
    let largest = 0;
    for (let index = 0; index < 20_000; index += 1) {
      store.patch!('handles', `h${index % 100}`, { set: [[['index'], index], [['text'], 'z'.repeat(500)]] });
      largest = Math.max(largest, directoryBytes(dir));
    }
    // A record with its patches not merged yet is at most five times its merged size.
    const live = 5 * 100 * (JSON.stringify({ c: 'handles', k: 'h00', v: { index: 19_999, text: 'z'.repeat(500), tail: [] } }).length + 1);
    // 20k patches of ~560 bytes is ~11 MB: patches are merged into their records, compactions drop the rest.
    expect(largest).toBeLessThanOrEqual(2 * live + compactMinBytes + 1024);
    expect(largest).toBeLessThan(1_000_000);
    // The automatic compactions kept patch lines in their snapshots: a reopen applies them.
    expect(readdirSync(dir).some((name) => name.startsWith('snapshot-'))).toBe(true);
    closeStore(store);
    expect(openStore(dir).load().get('handles')?.get('h99')).toEqual({ index: 19_999, text: 'z'.repeat(500), tail: [] });
  }, 60_000);
});
