import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Browser, Page } from 'playwright-core';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import { messageText, reply } from '../../src/testing/index.js';
import type { RecordedRequest } from '../../src/testing/index.js';
import { serveView } from '../../src/view/serve-view.js';
import type { ViewServer } from '../../src/view/serve-view.js';
import { useFakeServers } from '../support/fake-servers.js';
import { artifact, launchChromium, RUN_BROWSER_TESTS } from './browser.js';

const fakeServer = useFakeServers();

/** The first user message of a request: which agent sent it. */
const firstUserText = (request: RecordedRequest) => messageText(request.body.messages.find((message) => message.role === 'user') ?? { role: 'user' });

/** A POST with whatever headers a test chooses (fetch would set its own `Origin`/`Host` rules). */
function post(url: string, headers: Record<string, string>, body = '{}'): Promise<{ status: number; json: { error?: string; ok?: boolean } }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { error?: string } }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe.skipIf(!RUN_BROWSER_TESTS)('the web view in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the tree live, draws a statechart, answers an approval, interrupts a child at the fake server, and refuses foreign control requests', async () => {
    let releaseWorker!: () => void;
    const workerReleased = new Promise<void>((resolve) => (releaseWorker = resolve));
    const { server, client } = await fakeServer({
      script: async (request) => {
        const text = firstUserText(request);
        if (text.includes('hang')) return reply.hang();
        if (text.includes('work')) {
          await workerReleased;
          return reply.text('The work is done.', { usage: { promptTokens: 120_000, completionTokens: 3_456 } });
        }
        // The root agent: asks to save a note (which needs approval), then answers.
        return request.body.messages.some((message) => message.role === 'tool') ? reply.text('Saved.') : reply.toolCall('save_note', { text: 'hello' });
      },
    });
    const saved: string[] = [];
    const saveNote = defineTool({
      name: 'save_note',
      toolset: 'notes',
      description: 'Save a note.',
      parameters: z.object({ text: z.string() }),
      needsApproval: true,
      execute: ({ text }) => {
        saved.push(text);
        return 'saved';
      },
    });
    const runtime: Runtime = createRuntime({
      client,
      model: 'fake-model',
      tools: [saveNote],
      onApproval: 'events',
      logger: 'error',
    });
    let view: ViewServer | null = null;
    let page: Page | null = null;
    try {
      view = await serveView(runtime);
      expect(view.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
      page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const outside: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(`http://127.0.0.1:${view!.port}/`)) outside.push(request.url());
      });
      await page.goto(view.url);
      await expect.poll(() => page!.locator('#connection').textContent(), { timeout: 10_000 }).toContain('live');

      runtime.spawn({ name: 'hanger', message: 'hang here until interrupted', goal: 'Wait for an interrupt' });
      runtime.spawn({ name: 'worker', message: 'work on it', goal: 'Do the work' });
      const status = (id: string) => page!.locator(`#tree tr[data-id="${id}"]`).getAttribute('data-status');
      await expect.poll(() => status('hanger'), { timeout: 10_000 }).toBe('running');
      await expect.poll(() => status('worker'), { timeout: 10_000 }).toBe('running');
      await server.waitForRequests(2, 10_000);

      // The worker's model answers: its row turns completed, with its tokens, without a reload.
      releaseWorker();
      await expect.poll(() => status('worker'), { timeout: 10_000 }).toBe('completed');
      await expect.poll(() => page!.locator('#tree tr[data-id="worker"]').textContent()).toContain('123,456');

      // An approval of the root agent, answered in the page.
      const answer = runtime.runAgent('please save a note');
      await page.locator('#approvals button[data-approve]').click({ timeout: 10_000 });
      await expect(answer).resolves.toMatchObject({ outcome: 'completed' });
      expect(saved).toEqual(['hello']);
      await expect.poll(() => page!.locator('#approvals').isHidden()).toBe(true);

      // The hanging child's statechart: its current state is highlighted, nested in `running`.
      await page.locator('#tree tr[data-id="hanger"]').click();
      const activeStates = async () => Promise.all((await page!.locator('#chart .state.active').all()).map((box) => box.getAttribute('data-state')));
      await expect.poll(activeStates).toEqual([
        'handle',
        'handle.running',
        'handle.running.working',
        'handle.running.working.active',
      ]);
      expect(await page.locator('#chart [data-state="handle.interrupted"] li').allTextContents()).toContain('HANDLE.RESUME → running [hasQueuedInput]');
      await page.screenshot({ path: artifact('view-tree.png'), fullPage: true });
      await page.locator('#detail').screenshot({ path: artifact('view-statechart.png') });

      // Interrupt from the page: the model request is aborted at the fake server.
      const hangerRequest = server.requests.find((request) => firstUserText(request).includes('hang'))!;
      expect(hangerRequest.aborted).toBe(false);
      await page.locator('#controls button[data-action="interrupt"]').click();
      await expect.poll(() => hangerRequest.aborted, { timeout: 10_000 }).toBe(true);
      await expect.poll(() => status('hanger'), { timeout: 10_000 }).toBe('interrupted');
      await expect.poll(() => page!.locator('#runs tbody').textContent(), { timeout: 10_000 }).toContain('interrupted');

      // Control requests without the token, or from a foreign origin or host, are refused.
      const interruptUrl = `http://127.0.0.1:${view.port}/api/handles/worker/close`;
      const noToken = await post(interruptUrl, {});
      expect(noToken.status).toBe(403);
      expect(noToken.json.error).toMatch(/token/);
      const foreignOrigin = await post(interruptUrl, { authorization: `Bearer ${view.token}`, origin: 'http://attacker.example' });
      expect(foreignOrigin.status).toBe(403);
      expect(foreignOrigin.json.error).toMatch(/origin `http:\/\/attacker\.example`/);
      const foreignHost = await post(interruptUrl, { authorization: `Bearer ${view.token}`, host: 'attacker.example' });
      expect(foreignHost.status).toBe(403);
      expect(foreignHost.json.error).toMatch(/Host/);
      const inPage = await page.evaluate(async () => (await fetch('/api/handles/worker/close', { method: 'POST' })).status);
      expect(inPage).toBe(403);
      expect(runtime.get('worker').status).toBe('completed');
      // With the token and a loopback origin, it is carried out.
      const allowed = await post(interruptUrl, { authorization: `Bearer ${view.token}`, origin: `http://127.0.0.1:${view.port}` });
      expect(allowed).toMatchObject({ status: 200, json: { ok: true } });
      expect(runtime.get('worker').status).toBe('closed');

      expect(outside).toEqual([]);
    } finally {
      await page?.close();
      await view?.close();
      await runtime.shutdown();
    }
  }, 60_000);
});

