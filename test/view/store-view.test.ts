import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import { fileStore } from '../../src/store/index.js';
import { serveSource } from '../../src/view/serve-view.js';
import type { ViewServer } from '../../src/view/serve-view.js';
import { storeSource } from '../../src/view/store-source.js';
import type { ViewDetail, ViewState } from '../../src/view/view-types.js';

const directories: string[] = [];
const views: ViewServer[] = [];
afterEach(async () => {
  await Promise.all(views.splice(0).map((view) => view.close()));
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('the web view of a store', () => {
  it('shows the stored tree read only, and follows the store while another runtime writes it', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'subagents-view-store-'));
    directories.push(directory);
    let release!: () => void;
    const held = new Promise<string>((resolve) => (release = () => resolve('late')));
    const runtime = createRuntime({ run: async (input) => (input === 'wait' ? held : `done: ${input}`), store: fileStore(directory), maxSpawnDepth: 2 });
    try {
      const parent = runtime.spawn({ name: 'parent', role: 'orchestrator', message: 'first', goal: 'Parent goal' });
      await runtime.wait(parent.id);
      runtime.spawn({ name: 'child', parentId: 'parent', message: 'wait', goal: 'Child goal' });
      const view = await serveSource(storeSource(directory, { pollMs: 20 }));
      views.push(view);
      const api = (route: string) => fetch(`http://127.0.0.1:${view.port}${route}${route.includes('?') ? '&' : '?'}token=${view.token}`);
      const state = async () => (await (await api('/api/state')).json()) as ViewState;
      const first = await state();
      expect(first).toMatchObject({ mode: 'store', source: path.resolve(directory), approvals: [] });
      expect(first.handles.map((handle) => [handle.snapshot.id, handle.snapshot.parentId, handle.snapshot.status])).toEqual([
        ['parent', null, 'completed'],
        ['child', 'parent', 'running'],
      ]);
      expect(first.handles[1]!.activeStates).toEqual(['handle', 'handle.running', 'handle.running.working', 'handle.running.working.active']);
      const detail = (await (await api('/api/handles/parent')).json()) as ViewDetail;
      expect(detail.runs).toMatchObject([{ outcome: 'completed', input: 'first' }]);

      // Read only: controls are refused, and say why.
      const refused = await fetch(`http://127.0.0.1:${view.port}/api/handles/child/interrupt`, { method: 'POST', headers: { authorization: `Bearer ${view.token}` } });
      expect(refused.status).toBe(409);
      expect(await refused.json()).toEqual({ error: 'This view is read only: it shows a store, not a runtime in this process' });

      // The other runtime goes on: the view follows.
      release();
      await runtime.wait('child');
      await expect.poll(async () => (await state()).handles.find((handle) => handle.snapshot.id === 'child')?.snapshot.status, { timeout: 10_000 }).toBe('completed');
    } finally {
      await runtime.shutdown({ keep: true });
    }
  }, 30_000);
});
