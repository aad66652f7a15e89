import { afterEach } from 'vitest';

type Closable = { shutdown(): Promise<unknown> } | { close(): Promise<void> } | undefined;

/**
 * After each test, shuts down the runtimes and closes the servers the test
 * left in the variables `resources` reads (both are idempotent, so a value
 * left from an earlier test is harmless).
 */
export function closeAfterEach(resources: () => Closable[]): void {
  afterEach(async () => {
    for (const resource of resources()) {
      if (resource && 'shutdown' in resource) await resource.shutdown();
      else if (resource) await resource.close();
    }
  });
}
