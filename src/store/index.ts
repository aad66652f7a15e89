export { fileStore, readFileStore } from './file-store.js';
export { memoryStore } from './memory-store.js';
export type { FileStoreOptions, Store, StoreContents, StorePatch, StorePath, SyncPolicy } from './store-types.js';
