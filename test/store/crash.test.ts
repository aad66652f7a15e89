import { describe, it } from 'vitest';
import { readFileStoreContents, runCrashSuite } from '../support/crash-suite.js';

const KILL_POINTS = Number(process.env.CRASH_POINTS ?? 50);

describe('crash suite: SIGKILL at random points, restore in a new process', () => {
  it(`every input ends once, every background result is delivered once, no completed run is called again (${KILL_POINTS} kill points)`, async () => {
    await runCrashSuite({
      label: 'file store',
      killPoints: KILL_POINTS,
      lanes: 3,
      storeFor: (_name, dir) => dir,
      readStore: (dir) => Promise.resolve(readFileStoreContents(dir)),
    });
  }, 180_000);
});
