import { describe, expect, it } from 'vitest';
import { reply, type RecordedRequest, type Reply, type Script } from '../../src/testing/index.js';
import { resolveReply } from '../../src/testing/script.js';

function request(index: number): RecordedRequest {
  return {
    index,
    body: { model: 'm', messages: [] },
    headers: {},
    receivedAt: 0,
    aborted: false,
    abortedAt: null,
    completed: false,
    scriptError: null,
  };
}

describe('resolveReply', () => {
  it('gives list replies by arrival index', async () => {
    const script = [reply.text('zero'), reply.status(500)];

    expect(await resolveReply(script, request(0))).toEqual({ reply: { content: 'zero' } });
    expect(await resolveReply(script, request(1))).toEqual({ reply: { fault: 'status', status: 500 } });
  });

  it('says which request found the list exhausted and how many replies there were', async () => {
    expect(await resolveReply([], request(0))).toEqual({
      error: 'fake server script exhausted: request #0 has no scripted reply (0 replies were scripted, for none)',
    });
    expect(await resolveReply([reply.text('a'), reply.text('b'), reply.text('c')], request(3))).toEqual({
      error: 'fake server script exhausted: request #3 has no scripted reply (3 replies were scripted, for requests #0-#2)',
    });
  });

  it('reports a rejected async script with its reason', async () => {
    const script: Script = async () => Promise.reject(new Error('boom'));

    expect(await resolveReply(script, request(2))).toEqual({ error: 'fake server script threw for request #2: boom' });
  });

  it('rejects replies that are not Reply objects or name an unknown fault', async () => {
    // Scripts written in plain JavaScript can return anything.
    const nothing = (() => undefined) as unknown as Script;
    const unknownFault = [{ fault: 'timeout' } as unknown as Reply];

    expect(await resolveReply(nothing, request(0))).toEqual({
      error: 'fake server script gave request #0 `undefined`, expected a Reply object',
    });
    expect(await resolveReply(unknownFault, request(0))).toEqual({
      error: 'fake server script gave request #0 an unknown fault `"timeout"`, expected one of status, cut, reset, cutMidChunk, slowLoris, malformed, raw, hang',
    });
  });
});
