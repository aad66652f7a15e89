import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import type { HandleSnapshot } from '../../src/types.js';
import { nextMacrotask, trackedRun } from '../support/tracked-run.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.shutdown();
  runtime = undefined;
});

/** A runtime over tracked runs that notes, for each run, what its handle looked like when the run's signal fired. */
function setup() {
  const control = trackedRun();
  const created = createRuntime({ run: control.run, maxSpawnDepth: 2 });
  runtime = created;
  const seenAtAbort = new Map<string, HandleSnapshot>();
  const watchRuns = () => {
    for (const run of control.active()) {
      run.signal.addEventListener('abort', () => seenAtAbort.set(run.handleId, created.get(run.handleId)), { once: true });
    }
  };
  return { control, runtime: created, seenAtAbort, watchRuns };
}

describe('the interrupt path: the run is aborted first, its end recorded after', () => {
  it('a handle with nothing below it: the signal fires while the chart has not yet recorded the run’s end', async () => {
    const { control, runtime, seenAtAbort, watchRuns } = setup();
    const handle = runtime.spawn({ message: 'work' });
    await nextMacrotask();
    watchRuns();
    expect(control.active()).toHaveLength(1);

    const after = runtime.interrupt(handle.id);

    const atAbort = seenAtAbort.get(handle.id);
    expect(atAbort?.status).toBe('running');
    expect(atAbort?.lastOutcome).toBeNull();
    expect(after.status).toBe('interrupted');
    expect(after.lastOutcome).toBe('interrupted');
    expect(control.active()).toHaveLength(0);
  });

  it('a subtree (through the supervisor’s cascade): each run is aborted before its own chart records its end', async () => {
    const { control, runtime, seenAtAbort, watchRuns } = setup();
    const parent = runtime.spawn({ message: 'parent work' });
    const child = runtime.spawn({ parentId: parent.id, message: 'child work' });
    await nextMacrotask();
    watchRuns();
    expect(control.active().map((run) => run.handleId).sort()).toEqual([child.id, parent.id].sort());

    runtime.interrupt(parent.id);

    for (const id of [parent.id, child.id]) {
      expect(seenAtAbort.get(id)?.status).toBe('running');
      expect(runtime.get(id).status).toBe('interrupted');
      expect(runtime.get(id).lastOutcome).toBe('interrupted');
    }
    expect(control.active()).toHaveLength(0);
  });

  it('a run that settled is never aborted afterwards: leaving `working` by its end, or closing later, leaves its signal alone', async () => {
    const { control, runtime } = setup();
    const handle = runtime.spawn({ message: 'work' });
    await nextMacrotask();
    const [run] = control.active();
    let aborted = false;
    run!.signal.addEventListener('abort', () => (aborted = true), { once: true });

    run!.resolve('done');
    const waited = await runtime.wait(handle.id, { timeoutMs: 5_000 });
    expect(waited.completed[0]?.status).toBe('completed');
    runtime.close(handle.id);

    expect(runtime.get(handle.id).lastOutcome).toBe('completed');
    expect(aborted).toBe(false);
  });
});
