import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeConversation,
  reply,
  scriptByConversation,
  startFakeServer,
  type ChatRequestBody,
  type ConversationTurn,
  type FakeServer,
  type RecordedRequest,
} from '../../src/testing/index.js';

let server: FakeServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function recorded(body: ChatRequestBody): RecordedRequest {
  return { index: 0, body, headers: {}, receivedAt: 0, aborted: false, abortedAt: null, completed: false, scriptError: null };
}

describe('scriptByConversation', () => {
  it('calls a tool on the user turn and answers with the tool result on the next turn', async () => {
    const turns: ConversationTurn[] = [];
    server = await startFakeServer({
      script: scriptByConversation((turn) => {
        turns.push(turn);
        return turn.lastRole === 'tool'
          ? reply.text(`Result: ${turn.toolResults[0]?.content ?? 'none'}`)
          : reply.toolCall('delegate_task', { task: turn.lastUserText });
      }),
    });
    const client = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are the parent agent.' },
      { role: 'user', content: 'Summarise the report' },
    ];

    const first = await client.chat.completions.create({ model: 'm', messages });
    const assistant = first.choices[0]?.message;
    const call = assistant?.tool_calls?.[0];
    if (!assistant || call?.type !== 'function') throw new Error('expected a function tool call');
    expect(JSON.parse(call.function.arguments)).toEqual({ task: 'Summarise the report' });
    messages.push(assistant, { role: 'tool', tool_call_id: call.id, content: 'Three risks found.' });
    const second = await client.chat.completions.create({ model: 'm', messages });

    expect(second.choices[0]?.message.content).toBe('Result: Three risks found.');
    expect(turns.map((turn) => turn.lastRole)).toEqual(['user', 'tool']);
    expect(turns[1]?.toolResults).toEqual([{ toolCallId: 'call_0_0', name: 'delegate_task', content: 'Three risks found.' }]);
    expect(turns[1]?.assistantTurns).toBe(1);
    expect(turns[1]?.systemText).toBe('You are the parent agent.');
  });
});

describe('describeConversation', () => {
  it('reads text parts, offered tool names and only the tool results after the last assistant message', () => {
    const turn = describeConversation(
      recorded({
        model: 'm',
        messages: [
          { role: 'developer', content: [{ type: 'text', text: 'Child ' }, { type: 'text', text: 'agent' }] },
          { role: 'user', content: 'first' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'old', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'a', content: 'old result' },
          { role: 'user', content: [{ type: 'text', text: 'second' }] },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'b', type: 'function', function: { name: 'read_file', arguments: '{}' } },
              { id: 'c', type: 'function', function: { name: 'list_files', arguments: '{}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'b', content: 'file body' },
          { role: 'tool', tool_call_id: 'c', content: 'a.txt' },
        ],
        tools: [
          { type: 'function', function: { name: 'read_file' } },
          { type: 'function', function: { name: 'list_files' } },
        ],
      }),
    );

    expect(turn.systemText).toBe('Child agent');
    expect(turn.lastUserText).toBe('second');
    expect(turn.lastRole).toBe('tool');
    expect(turn.assistantTurns).toBe(2);
    expect(turn.toolNames).toEqual(['read_file', 'list_files']);
    expect(turn.toolResults).toEqual([
      { toolCallId: 'b', name: 'read_file', content: 'file body' },
      { toolCallId: 'c', name: 'list_files', content: 'a.txt' },
    ]);
  });

  it('describes an empty conversation without failing', () => {
    const turn = describeConversation(recorded({ model: 'm', messages: [] }));

    expect(turn).toMatchObject({ lastRole: undefined, toolResults: [], lastUserText: '', systemText: '', assistantTurns: 0, toolNames: [] });
  });
});
