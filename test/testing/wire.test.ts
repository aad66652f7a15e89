import { describe, expect, it } from 'vitest';
import { splitText, streamEvents, toWireMessage } from '../../src/testing/wire.js';

describe('splitText', () => {
  it('cuts text into pieces of the given size', () => {
    expect(splitText('abcdefg', 3)).toEqual(['abc', 'def', 'g']);
    expect(splitText('', 3)).toEqual([]);
  });

  it('never splits a surrogate pair', () => {
    const pieces = splitText('a😀b😀', 2);

    expect(pieces).toEqual(['a😀', 'b😀']);
    expect(pieces.some((piece) => /[\uD800-\uDBFF]$/.test(piece))).toBe(false);
  });
});

describe('streamEvents', () => {
  it('writes SSE events with usage null on every chunk but the final usage chunk, then [DONE]', () => {
    const body = { model: 'm', messages: [] };
    const message = toWireMessage({ content: 'hi', usage: { promptTokens: 1, completionTokens: 2 } }, body, 0);

    const events = streamEvents({ id: 'x', created: 1, model: 'm' }, message, { includeUsage: true });

    expect(events.at(-1)).toBe('data: [DONE]\n\n');
    const chunks = events.slice(0, -1).map((event) => {
      expect(event).toMatch(/^data: .*\n\n$/s);
      return JSON.parse(event.slice('data: '.length)) as { usage: unknown; choices: unknown[] };
    });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null && chunk.choices.length === 1)).toBe(true);
    expect(chunks.at(-1)).toEqual({
      id: 'x',
      created: 1,
      model: 'm',
      object: 'chat.completion.chunk',
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
  });
});
