import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreCorruptError, StoreLockedError, BadArgumentError } from '../../src/errors.js';
import { fileStore, memoryStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { directoryBytes, useFileStores } from '../support/file-stores.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOLDER = path.join(ROOT, 'test/fixtures/store-holder.mjs');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const { tempDir, openStore, closeStore } = useFileStores('subagents-store-');
const plain = (store: Store) => Object.fromEntries([...store.load()].map(([name, records]) => [name, Object.fromEntries(records)]));
const generationOf = (dir: string) => Math.max(0, ...readdirSync(dir).map((name) => Number(/^snapshot-(\d+)\.jsonl$/.exec(name)?.[1] ?? 0)));

/** Starts the holder fixture and resolves once it printed its first line. */
function startHolder(dir: string, mode: 'hold' | 'write'): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [HOLDER, dir, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end >= 0) resolve({ child, line: text.slice(0, end) });
    });
    child.on('exit', (code) => reject(new Error(`the holder exited (${code}) before saying anything`)));
  });
}

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });

describe('fileStore', () => {
  it('keeps puts and removals across a close and a reopen', () => {
    const dir = tempDir();
    const store = openStore(dir);
    store.put('handles', 'a', { status: 'idle', queue: [1, 2] });
    store.put('handles', 'b', { status: 'running' });
    store.put('handles', 'a', { status: 'completed', queue: [] });
    store.remove('handles', 'b');
    store.put('outbox', 'd1', 'pending');
    expect(plain(store)).toEqual({ handles: { a: { status: 'completed', queue: [] } }, outbox: { d1: 'pending' } });
    closeStore(store);
    expect(() => store.put('handles', 'c', 1)).toThrow(/closed/);
    const again = openStore(dir);
    expect(plain(again)).toEqual({ handles: { a: { status: 'completed', queue: [] } }, outbox: { d1: 'pending' } });
  });

  it('drops a torn last line on open, and records written after it read back on their own lines', () => {
    const dir = tempDir();
    const store = openStore(dir);
    store.put('c', 'one', { n: 1 });
    store.put('c', 'two', { n: 2 });
    closeStore(store);
    const journal = path.join(dir, 'journal-0.jsonl');
    const whole = readFileSync(journal, 'utf8');
    appendFileSync(journal, '{"c":"c","k":"three","v":{"n":');
    const reopened = openStore(dir);
    expect(plain(reopened)).toEqual({ c: { one: { n: 1 }, two: { n: 2 } } });
    expect(readFileSync(journal, 'utf8')).toBe(whole);
    reopened.put('c', 'four', { n: 4 });
    closeStore(reopened);
    expect(plain(openStore(dir))).toEqual({ c: { one: { n: 1 }, two: { n: 2 }, four: { n: 4 } } });
  });

  it('refuses a corrupt record before the last line, naming the file and the line', () => {
    const dir = tempDir();
    const store = openStore(dir);
    for (const key of ['a', 'b', 'c']) store.put('c', key, key);
    closeStore(store);
    const journal = path.join(dir, 'journal-0.jsonl');
    const lines = readFileSync(journal, 'utf8').split('\n');
    lines[1] = lines[1]!.slice(0, 10) + '#' + lines[1]!.slice(11);
    writeFileSync(journal, lines.join('\n'));
    const error = (() => {
      try {
        fileStore(dir);
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(StoreCorruptError);
    expect(error).toMatchObject({ file: journal, line: 2 });
    expect((error as Error).message).toContain(`line 2 of \`${journal}\``);
    // A complete line of valid JSON that is not a record is corrupt too; the failed open released its lock.
    lines[1] = '{"hello":1}';
    writeFileSync(journal, lines.join('\n'));
    expect(() => fileStore(dir)).toThrow(/line 2 .*not a record/);
  });

  it('refuses a snapshot cut short', () => {
    const dir = tempDir();
    const store = openStore(dir, { compactMinBytes: 0 });
    store.put('c', 'a', 'x'.repeat(100));
    store.put('c', 'a', 'y'.repeat(100));
    store.compact();
    closeStore(store);
    const snapshot = readdirSync(dir).find((name) => name.startsWith('snapshot-'))!;
    const text = readFileSync(path.join(dir, snapshot), 'utf8');
    writeFileSync(path.join(dir, snapshot), text.slice(0, text.lastIndexOf('{"end"')));
    expect(() => fileStore(dir)).toThrow(StoreCorruptError);
  });

  it('stays bounded by its live records under endless overwrites, and a removal shrinks it', () => {
    const dir = tempDir();
    const compactMinBytes = 64 * 1024;
    const store = openStore(dir, { compactMinBytes });
    const value = (index: number) => ({ index, text: 'z'.repeat(500) });
    let largest = 0;
    for (let index = 0; index < 20_000; index += 1) {
      store.put('handles', `h${index % 100}`, value(index));
      largest = Math.max(largest, directoryBytes(dir));
    }
    const live = 100 * (JSON.stringify({ c: 'handles', k: 'h00', v: value(19_999) }).length + 1);
    // Snapshot (the live records) plus a journal of at most max(live, compactMinBytes) and one record.
    expect(largest).toBeLessThanOrEqual(2 * live + compactMinBytes + 1024);
    // 20k writes of ~530 bytes is ~10 MB: without compaction it could not fit.
    expect(largest).toBeLessThan(500_000);
    for (let index = 0; index < 99; index += 1) store.remove('handles', `h${index}`);
    store.compact();
    expect(directoryBytes(dir)).toBeLessThan(2_000);
    closeStore(store);
    expect(plain(openStore(dir))).toEqual({ handles: { h99: value(19_999) } });
  }, 60_000);

  it('recovers from a compaction cut short: the newest snapshot wins and older files are removed', () => {
    const dir = tempDir();
    const store = openStore(dir, { compactMinBytes: 0 });
    store.put('c', 'a', 1);
    store.compact(); // generation 1: snapshot-1 holds a
    store.put('c', 'b', 2); // journal-1
    closeStore(store);
    // As if a later compaction died after writing its snapshot aside, with the old generation's files still there.
    copyFileSync(path.join(dir, 'snapshot-1.jsonl'), path.join(dir, 'snapshot-2.jsonl.tmp'));
    writeFileSync(path.join(dir, 'journal-0.jsonl'), '{"c":"c","k":"old","v":0}\n');
    const reopened = openStore(dir);
    expect(plain(reopened)).toEqual({ c: { a: 1, b: 2 } });
    expect(readdirSync(dir).sort()).toEqual(['journal-1.jsonl', 'lock', 'snapshot-1.jsonl']);
  });

  it("syncs in batches with 'fsync-batched' and checks its options", () => {
    const dir = tempDir();
    const store = openStore(dir, { sync: 'fsync-batched', fsyncIntervalMs: 5 });
    for (let index = 0; index < 100; index += 1) store.put('c', `k${index}`, index);
    store.sync();
    closeStore(store);
    expect(Object.keys(plain(openStore(dir)).c!)).toHaveLength(100);
    expect(() => fileStore(tempDir(), { sync: 'always' as never })).toThrow(BadArgumentError);
    expect(() => fileStore(tempDir(), { fsyncIntervalMs: 0 })).toThrow(/fsyncIntervalMs/);
    expect(() => fileStore('')).toThrow(/directory/);
  });

  it('a second process on a held store gets StoreLockedError with the holder pid; the same process too', async () => {
    const dir = tempDir();
    const { child, line } = await startHolder(dir, 'hold');
    expect(line).toBe('ready');
    let error: unknown = null;
    try {
      fileStore(dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StoreLockedError);
    expect(error).toMatchObject({ pid: child.pid, directory: dir });
    // And the other way round: a child process is refused while this process holds it.
    await killed(child);
    const store = openStore(dir);
    const second = await startHolder(dir, 'hold');
    expect(JSON.parse(second.line)).toEqual({ error: 'StoreLockedError', pid: process.pid });
    expect(() => fileStore(dir)).toThrow(StoreLockedError);
    closeStore(store);
    expect(readdirSync(dir)).not.toContain('lock');
  }, 30_000);

  it('takes over the lock of a process killed with SIGKILL mid-write, and reads what it wrote', async () => {
    const dir = tempDir();
    const { child } = await startHolder(dir, 'write');
    // Let it write for a while: a few compactions' worth of 70 KB records (each compaction follows ~3.5 MB of journal).
    await new Promise<void>((resolve) => {
      const check = () => (generationOf(dir) >= 3 ? resolve() : setTimeout(check, 10));
      check();
    });
    await killed(child);
    expect(JSON.parse(readFileSync(path.join(dir, 'lock'), 'utf8'))).toMatchObject({ pid: child.pid });
    const store = openStore(dir);
    const records = store.load().get('records')!;
    expect(records.size).toBe(50);
    for (const [key, value] of records) expect(Number(key.slice(1))).toBe((value as { index: number }).index % 50);
    expect(JSON.parse(readFileSync(path.join(dir, 'lock'), 'utf8'))).toMatchObject({ pid: process.pid });
  }, 60_000);
});

describe('memoryStore', () => {
  it('keeps copies of what was put, in this process', () => {
    const store = memoryStore();
    const value = { list: [1] };
    store.put('c', 'a', value);
    value.list.push(2);
    expect(plain(store)).toEqual({ c: { a: { list: [1] } } });
    store.remove('c', 'a');
    expect(plain(store)).toEqual({ c: {} });
    store.close();
    expect(store.closed).toBe(true);
    // A new runtime on it restores and writes on.
    store.put('c', 'b', 1);
    expect(plain(store)).toEqual({ c: { b: 1 } });
  });
});
