import { describe, expect, it } from 'vitest';
import { describeEndpoint, OPENAI_URL, resolveEndpoint, safeUrl } from '../../src/cli/endpoint.js';

const KEY = 'sk-test-SECRET-123';

describe('choosing the model endpoint', () => {
  it('uses the scripted model unless OPENAI_BASE_URL or OPENAI_API_KEY is set, or when --scripted forces it', () => {
    expect(resolveEndpoint({}, { scripted: false, model: 'm' })).toEqual({ kind: 'scripted' });
    expect(resolveEndpoint({ OPENAI_API_KEY: '  ' }, { scripted: false, model: 'm' })).toEqual({ kind: 'scripted' });
    expect(resolveEndpoint({ OPENAI_API_KEY: KEY }, { scripted: true, model: 'm' })).toEqual({ kind: 'scripted' });
  });

  it('goes to OpenAI with a key alone, and to any base URL with or without a key', () => {
    expect(resolveEndpoint({ OPENAI_API_KEY: KEY }, { scripted: false, model: 'gpt-4.1-mini' })).toEqual({
      kind: 'remote',
      baseURL: OPENAI_URL,
      apiKey: KEY,
      model: 'gpt-4.1-mini',
    });
    expect(resolveEndpoint({ OPENAI_BASE_URL: 'http://localhost:11434/v1' }, { scripted: false, model: 'qwen2.5:7b' })).toEqual({
      kind: 'remote',
      baseURL: 'http://localhost:11434/v1',
      apiKey: null,
      model: 'qwen2.5:7b',
    });
  });

  it('describes the endpoint without the key or credentials in the URL', () => {
    const endpoint = resolveEndpoint(
      { OPENAI_BASE_URL: `https://user:${KEY}@llm.example.com/v1/?api_key=${KEY}`, OPENAI_API_KEY: KEY },
      { scripted: false, model: 'm' },
    );
    const line = describeEndpoint(endpoint, 'scripted');
    expect(line).toBe('Model: m at https://llm.example.com/v1 (OpenAI-compatible endpoint, API key from OPENAI_API_KEY)');
    expect(line).not.toContain('SECRET');
    expect(safeUrl('not a url')).toBe('(not a URL)');
    expect(describeEndpoint({ kind: 'scripted' }, 'scripted-survey-model')).toMatch(/embedded scripted model "scripted-survey-model" — NOT an LLM/);
  });
});
