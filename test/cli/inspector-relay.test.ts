import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startInspectorRelay } from '../../src/cli/inspector-relay.js';
import type { InspectorRelay } from '../../src/cli/inspector-relay.js';

const relays: InspectorRelay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

const getPage = (port: number, headers: Record<string, string>) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

/** A connected socket and its first message (listened for from the start: the relay sends kept events at once). */
const connect = (port: number, origin?: string) =>
  new Promise<{ socket: WebSocket; first: Promise<string> }>((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, origin === undefined ? {} : { origin });
    const first = new Promise<string>((arrived) => socket.once('message', (data: Buffer) => arrived(data.toString())));
    socket.once('open', () => resolve({ socket, first }));
    socket.once('error', reject);
  });

describe('the inspector relay', () => {
  it('listens on loopback only, relays events with the last ones kept for late pages, and refuses foreign hosts and origins', async () => {
    const port = await freePort();
    const relay = await startInspectorRelay(port);
    relays.push(relay);
    const page = await getPage(port, {});
    expect(page.status).toBe(200);
    expect(page.body).toContain(`new WebSocket('ws://127.0.0.1:${port}')`);
    expect((await getPage(port, { host: 'attacker.example' })).status).toBe(403);
    expect((await getPage(port, { origin: 'http://attacker.example' })).status).toBe(403);
    await expect(connect(port, 'http://attacker.example')).rejects.toThrow('Unexpected server response: 403');

    const sender = await connect(port);
    const early = await connect(port, `http://127.0.0.1:${port}`);
    sender.socket.send(JSON.stringify({ type: '@xstate.event', n: 1 }));
    expect(JSON.parse(await early.first)).toEqual({ type: '@xstate.event', n: 1 });
    // A page that connects after the event still gets it.
    const late = await connect(port, `http://localhost:${port}`);
    expect(JSON.parse(await late.first)).toEqual({ type: '@xstate.event', n: 1 });
    for (const { socket } of [sender, early, late]) socket.close();
  });
});
