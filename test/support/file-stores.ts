import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { fileStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';

/** File stores for one test file, in fresh directories: every store opened and not closed by a test is closed after it. */
export function useFileStores(prefix: string) {
  const open: Store[] = [];
  afterEach(() => {
    for (const store of open.splice(0)) store.close();
  });
  return {
    tempDir: () => mkdtempSync(path.join(tmpdir(), prefix)),
    openStore: (...args: Parameters<typeof fileStore>): Store => {
      const store = fileStore(...args);
      open.push(store);
      return store;
    },
    closeStore: (store: Store): void => {
      store.close();
      open.splice(open.indexOf(store), 1);
    },
  };
}

/** Bytes of the files in a directory. */
export const directoryBytes = (dir: string) => readdirSync(dir).reduce((sum, name) => sum + (statSync(path.join(dir, name), { throwIfNoEntry: false })?.size ?? 0), 0);
