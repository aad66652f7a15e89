import type { Store, StoreContents } from './store-types.js';

/**
 * A store kept in this process: nothing is written. Each value is kept as
 * its JSON text, so what is read back is a copy of what was put, and a new
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
  const collections = new Map<string, Map<string, string>>();
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
      const contents: StoreContents = new Map();
      for (const [name, records] of collections) {
        contents.set(name, new Map([...records].map(([key, text]) => [key, JSON.parse(text) as unknown])));
      }
      return contents;
    },
    put(collection, key, value) {
      open();
      const text = JSON.stringify(value);
      if (text === undefined) throw new Error(`subagents: a store value must be plain JSON, got ${typeof value} for ${collection}/${key}`);
      let records = collections.get(collection);
      if (!records) collections.set(collection, (records = new Map<string, string>()));
      records.set(key, text);
    },
    remove(collection, key) {
      open();
      collections.get(collection)?.delete(key);
    },
    sync() {},
    compact() {},
    close() {
      closed = true;
    },
  };
}
