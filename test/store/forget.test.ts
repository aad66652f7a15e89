/** `forget` on a file store: the forgotten handles' records leave its files, not just its live state. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import { fileStore } from '../../src/store/index.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** Everything the store's files hold, as text. */
const filesText = (directory: string) =>
  readdirSync(directory)
    .filter((name) => name.endsWith('.jsonl'))
    .map((name) => readFileSync(path.join(directory, name), 'utf8'))
    .join('\n');

describe('forget on a file store', () => {
  it.each([
    ['after the forgets of one turn of the event loop', false],
    ['at shutdown, when it comes first', true],
  ])('compacts the store %s: a forgotten conversation is in none of its files', async (_when, shutdownAtOnce) => {
    const directory = mkdtempSync(path.join(tmpdir(), 'subagents-forget-'));
    directories.push(directory);
    const runtime = createRuntime({ run: async (input) => ({ output: `noted: ${input}` }), store: fileStore(directory) });
    runtime.spawn({ name: 'keeper', message: 'keep this one' });
    for (const name of ['first', 'second']) runtime.spawn({ name, message: `the plan of ${name}` });
    await runtime.wait(['keeper', 'first', 'second']);
    expect(filesText(directory)).toContain('the plan of first');
    for (const name of ['first', 'second']) {
      runtime.close(name);
      runtime.forget(name);
    }
    if (!shutdownAtOnce) await new Promise((resolve) => setImmediate(resolve));
    if (!shutdownAtOnce) expect(filesText(directory)).not.toContain('the plan of');
    await runtime.shutdown({ keep: true });
    const text = filesText(directory);
    expect(text).not.toContain('the plan of');
    expect(text).toContain('keep this one');
  });
});
