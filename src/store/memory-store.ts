import { patchLine, putLine } from './journal.js';
import { LiveRecords } from './live-records.js';
import type { Store } from './store-types.js';

/**
 * A store kept in this process: nothing is written. Each value is kept as
 * its JSON text (a patch as the text of its changes, merged in once they
 * are four times its size), so what is read back is a copy of what was put, and a new
 * runtime created on the same memory store restores from it (in this
 * process only), even after the first one shut down and closed it.
 *
 * @example
 * ```ts
 * const store = memoryStore();
 * const runtime = createRuntime({ run: async (input) => ({ output: input }), store });
 * ```
 */
export function memoryStore(): Store {
  const live = new LiveRecords();
  // Closing holds nothing back: a new runtime on the same memory store restores from it and goes on writing.
  let closed = false;
  const open = () => {
    closed = false;
  };
  return {
    kind: 'memory',
    get closed() {
      return closed;
    },
    load() {
      return live.contents();
    },
    put(collection, key, value) {
      open();
      live.put(collection, key, putLine(collection, key, value));
    },
    patch(collection, key, patch) {
      open();
      if (!live.has(collection, key)) throw new Error(`subagents: no record ${collection}/${key} to patch in the memory store`);
      live.patch(collection, key, patchLine(collection, key, patch));
    },
    remove(collection, key) {
      open();
      live.remove(collection, key);
    },
    sync() {},
    compact() {},
    close() {
      closed = true;
    },
  };
}
